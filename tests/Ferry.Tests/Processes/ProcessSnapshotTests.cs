using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using Ferry.Shared.History;
using Ferry.Shared.Processes;
using Ferry.Shared.Stg;
using Ferry.Tests.Stg;
using Ferry.Worker.Processes;

namespace Ferry.Tests.Processes;

/// <summary>Snapshots between runs: recovery reads the snapshot, and the events it covers are gone from the journal.</summary>
public class ProcessSnapshotTests() : TestKit(Config)
{
    private static readonly Config Config = EntityTesting.Config("max-retries = 2, min-backoff = 100ms, max-backoff = 400ms, snapshot-every = 4");

    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    private static async Task<(StgTestBed Bed, ProcessServices Services, string ProcessId)> CreateAsync(string name)
    {
        var bed = await StgTestBed.CreateAsync(name);
        await bed.ExecSourceAsync("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 500) g");
        var table = StgTestBed.Table("t", ["id"]);
        return (bed, new ProcessServices(bed.Metadata(table), bed.Store, new RunHistory(bed.TargetConnectionString)), table.ProcessId);
    }

    private IActorRef Entity(string processId, ProcessServices services) =>
        Sys.ActorOf(Props.Create(() => new ProcessActor(processId, services)), $"p-{Guid.NewGuid():N}");

    /// <summary>Deleting what a snapshot covers runs after the snapshot is saved: wait for the journal to be empty.</summary>
    private async Task AssertJournalEmptiesAsync(string processId)
    {
        var deadline = DateTime.UtcNow + Long;
        int left;
        while ((left = await EntityTesting.JournalEventsAsync(Sys, processId)) > 0 && DateTime.UtcNow < deadline)
            await Task.Delay(100);
        Assert.Equal(0, left);
    }

    /// <summary>Stops the entity and starts it again (as a rebalance or a restarted worker would): it recovers before it answers.</summary>
    private async Task<(IActorRef Entity, ProcessStatus Status)> RestartAsync(IActorRef entity, string processId, ProcessServices services)
    {
        await entity.GracefulStop(TimeSpan.FromSeconds(10));
        var restarted = Entity(processId, services);
        return (restarted, await restarted.Ask<ProcessStatus>(new GetProcessStatus(processId), Long));
    }

    [Fact]
    public async Task Runs_end_in_snapshots_that_replace_their_events_and_a_restarted_entity_recovers_from_them_and_runs_on()
    {
        var (bed, services, processId) = await CreateAsync("snapruns");
        await using var _ = bed;
        var entity = Entity(processId, services);

        await EntityTesting.RunToEndAsync(entity, processId, RunMode.Bulk, Long);
        var second = await EntityTesting.RunToEndAsync(entity, processId, RunMode.Bulk, Long);
        await AssertJournalEmptiesAsync(processId);

        var (restarted, recovered) = await RestartAsync(entity, processId, services);
        Assert.Equal(second.LastSuccess, recovered.LastSuccess);
        Assert.Equal(ProcessStep.Idle, recovered.Step);

        var third = await EntityTesting.RunToEndAsync(restarted, processId, RunMode.Bulk, Long);
        Assert.Equal(new MergeCounts(0, 0, 0, 500), third.LastSuccess!.Counts);
    }

    [Fact]
    public async Task A_journal_written_before_snapshots_existed_recovers_whole_and_is_compacted_on_its_first_start()
    {
        var (bed, services, processId) = await CreateAsync("snapupgrade");
        await using var _ = bed;
        var at = DateTimeOffset.UtcNow.AddDays(-1);
        var events = Enumerable.Range(1, 3).SelectMany(i => new IProcessEvent[]
        {
            new RunStarted($"r-{i}", RunMode.Incremental, null, at.AddHours(i), null),
            new RunFailed($"r-{i}", $"failure {i}", at.AddHours(i).AddMinutes(1)),
        }).ToArray();
        await EntityTesting.JournalAsync(Sys, processId, events);

        var entity = Entity(processId, services);
        var status = await entity.Ask<ProcessStatus>(new GetProcessStatus(processId), Long);
        Assert.Equal(("r-3", "failure 3"), (status.LastFailure!.RunId, status.LastFailure.Error));
        await AssertJournalEmptiesAsync(processId);

        var (_, recovered) = await RestartAsync(entity, processId, services);
        Assert.Equal(status.LastFailure, recovered.LastFailure);
    }
}
