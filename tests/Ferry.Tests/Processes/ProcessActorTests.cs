using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Akka.TestKit.Xunit2;
using Ferry.Shared.Metadata;
using Ferry.Shared.Cluster;
using Ferry.Shared.History;
using Ferry.Shared.Processes;
using Ferry.Shared.Stg;
using Ferry.Tests.Stg;
using Ferry.Worker.Processes;
using Ferry.Worker.Stg;

namespace Ferry.Tests.Processes;

public class ProcessActorTests() : TestKit(Config)
{
    private static readonly Config Config = EntityTesting.Config();

    private static readonly TimeSpan Long = TimeSpan.FromSeconds(20);

    private sealed record Fixture(StgTestBed Bed, SourceTable Table, ProcessServices Services) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Bed.DisposeAsync();
    }

    private static async Task<Fixture> CreateAsync(string name, bool withTable = true)
    {
        var bed = await StgTestBed.CreateAsync(name);
        if (withTable)
            await bed.ExecSourceAsync("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 3000) g");
        var table = StgTestBed.Table("t", ["id"]);
        var services = new ProcessServices(bed.Metadata(table), bed.Store, new RunHistory(bed.TargetConnectionString));
        return new Fixture(bed, table, services);
    }

    private IActorRef Entity(Fixture f, string? name = null) =>
        Sys.ActorOf(Props.Create(() => new ProcessActor(f.Table.ProcessId, f.Services)), name ?? $"p-{Guid.NewGuid():N}");

    private async Task<ProcessStatus> WaitForIdleAsync(IActorRef entity, string processId)
    {
        var deadline = DateTime.UtcNow + Long;
        while (DateTime.UtcNow < deadline)
        {
            var status = await entity.Ask<ProcessStatus>(new GetProcessStatus(processId), TimeSpan.FromSeconds(5));
            if (status.Step == ProcessStep.Idle) return status;
            await Task.Delay(50);
        }
        throw new TimeoutException("the process did not come back to Idle");
    }

    [Fact]
    public async Task A_run_goes_through_extract_load_and_merge_and_records_its_success()
    {
        await using var f = await CreateAsync("actorrun");
        var entity = Entity(f);

        var accepted = await entity.Ask<RunAccepted>(new StartRun(f.Table.ProcessId, RunMode.Bulk), Long);
        var status = await WaitForIdleAsync(entity, f.Table.ProcessId);

        Assert.Equal(accepted.RunId, status.LastSuccess?.RunId);
        Assert.Equal(new MergeCounts(3000, 0, 0, 0), status.LastSuccess!.Counts);
        Assert.Equal(3000, status.LastSuccess.RowsExtracted);
        await f.Bed.AssertStgEqualsSourceAsync("t", "src_t", ["id", "v"], "id");
        var history = await f.Services.History.ListAsync(f.Table.ProcessId);
        Assert.Equal(RunStatus.Succeeded, Assert.Single(history).Status);
    }

    [Fact]
    public async Task A_second_run_while_one_is_active_is_answered_with_the_active_run_not_queued()
    {
        await using var f = await CreateAsync("actorbusy");
        var entity = Entity(f);

        var first = await entity.Ask<RunAccepted>(new StartRun(f.Table.ProcessId, RunMode.Bulk), Long);
        var second = await entity.Ask<object>(new StartRun(f.Table.ProcessId, RunMode.Bulk), Long);
        await WaitForIdleAsync(entity, f.Table.ProcessId);

        var rejected = Assert.IsType<RunRejected>(second);
        Assert.Equal(first.RunId, rejected.ActiveRunId);
        Assert.Single(await f.Services.Stg.ListRunsAsync(f.Table));
    }

    [Fact]
    public async Task A_step_that_fails_the_same_way_every_time_fails_the_run_at_once_with_its_cause_and_a_later_run_succeeds()
    {
        await using var f = await CreateAsync("actorfail", withTable: false);
        var entity = Entity(f);

        await entity.Ask<RunAccepted>(new StartRun(f.Table.ProcessId, RunMode.Bulk), Long);
        var failed = await WaitForIdleAsync(entity, f.Table.ProcessId);

        Assert.Null(failed.LastSuccess);
        Assert.Contains("stg.src.t: extract failed: table public.t was not found", failed.LastFailure!.Error);
        Assert.Equal(1, failed.Attempt);   // a missing table is not retried (ProcessRetryTests: what is)

        await f.Bed.ExecSourceAsync("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'one')");
        await entity.Ask<RunAccepted>(new StartRun(f.Table.ProcessId, RunMode.Bulk), Long);
        var ok = await WaitForIdleAsync(entity, f.Table.ProcessId);
        Assert.Equal(new MergeCounts(1, 0, 0, 0), ok.LastSuccess!.Counts);
    }

    [Fact]
    public async Task A_cancelled_run_ends_failed_and_the_process_takes_new_runs()
    {
        await using var f = await CreateAsync("actorcancel", withTable: false);
        await f.Bed.ExecSourceAsync("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, repeat('x', 200) FROM generate_series(1, 400000) g");
        var entity = Entity(f);

        await entity.Ask<RunAccepted>(new StartRun(f.Table.ProcessId, RunMode.Bulk), Long);
        var cancel = await entity.Ask<CancelAccepted>(new CancelRun(f.Table.ProcessId), Long);
        var status = await WaitForIdleAsync(entity, f.Table.ProcessId);

        Assert.NotNull(cancel.RunId);
        Assert.Equal("cancelled by request", status.LastFailure!.Error);
        await entity.Ask<RunAccepted>(new StartRun(f.Table.ProcessId, RunMode.Bulk), Long);
        Assert.NotNull((await WaitForIdleAsync(entity, f.Table.ProcessId)).LastSuccess);
    }

    [Theory]
    [InlineData(ProcessStep.Extracting)]
    [InlineData(ProcessStep.Loading)]
    [InlineData(ProcessStep.Merging)]
    public async Task An_entity_restarted_mid_run_resumes_after_its_last_persisted_step_and_ends_like_an_uninterrupted_run(ProcessStep crashedIn)
    {
        await using var f = await CreateAsync($"resume{(int)crashedIn}");
        // The first run that a crash interrupted, as far as it got.
        var runId = RunLayout.NewRunId(DateTimeOffset.UtcNow);
        var events = new List<IProcessEvent> { new RunStarted(runId, RunMode.Bulk, null, DateTimeOffset.UtcNow, null) };
        if (crashedIn >= ProcessStep.Loading)
        {
            var manifest = await f.Services.Stg.ExtractAsync(f.Table, RunMode.Bulk, runId);
            events.Add(new Extracted(runId, manifest, TimeSpan.FromSeconds(1)));
            if (crashedIn == ProcessStep.Merging)
            {
                var loaded = await f.Services.Stg.LoadAsync(manifest);
                events.Add(new Loaded(runId, loaded.Rows, loaded.MergedDirectly ? loaded.Counts : null, TimeSpan.FromSeconds(1)));
            }
        }
        await EntityTesting.JournalAsync(Sys, f.Table.ProcessId, events.ToArray());

        var entity = Entity(f);
        var status = await WaitForIdleAsync(entity, f.Table.ProcessId);

        Assert.Equal(runId, status.LastSuccess?.RunId);
        Assert.Equal(new MergeCounts(3000, 0, 0, 0), status.LastSuccess!.Counts);
        await f.Bed.AssertStgEqualsSourceAsync("t", "src_t", ["id", "v"], "id");
        // An extracted run is loaded from its files, not extracted again.
        Assert.Equal([runId], await f.Services.Stg.ListRunsAsync(f.Table));
    }
}
