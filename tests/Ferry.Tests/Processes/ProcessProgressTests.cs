using Ferry.Shared.History;
using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using Ferry.Shared.Processes;
using Ferry.Shared.Stg;
using Ferry.Tests.Stg;
using Ferry.Worker.Processes;
using Npgsql;

namespace Ferry.Tests.Processes;

/// <summary>The status query carries the running step's progress: what `ferry status`, the API and the dashboard show.</summary>
public class ProcessProgressTests() : TestKit(Config)
{
    private static readonly Config Config = EntityTesting.Config();

    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task The_status_of_a_running_step_carries_its_progress_and_an_idle_process_has_none()
    {
        await using var bed = await StgTestBed.CreateAsync("actorprogress");
        await bed.ExecSourceAsync("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 3000) g; ANALYZE t");
        var table = StgTestBed.Table("t", ["id"]);
        var services = new ProcessServices(bed.Metadata(table), bed.Store, new RunHistory(bed.TargetConnectionString));
        var entity = Sys.ActorOf(Props.Create(() => new ProcessActor(table.ProcessId, services)));

        // Another session holds the source table: the extract has planned (and reported its start) but reads no row until it lets go.
        await using var holder = new NpgsqlConnection(bed.SourceConnectionString);
        await holder.OpenAsync();
        await using var hold = await holder.BeginTransactionAsync();
        await using (var lockTable = new NpgsqlCommand("LOCK TABLE t IN ACCESS EXCLUSIVE MODE", holder, hold))
            await lockTable.ExecuteNonQueryAsync();

        var accepted = await entity.Ask<RunAccepted>(new StartRun(table.ProcessId, RunMode.Bulk), Long);
        var running = await StatusUntilAsync(entity, table.ProcessId, s => s.Progress is not null);
        await hold.RollbackAsync();
        var done = await StatusUntilAsync(entity, table.ProcessId,
            s => s.Step == ProcessStep.Idle && (s.LastSuccess ?? s.LastFailure)?.RunId == accepted.RunId);

        Assert.Equal((ProcessStep.Extracting, accepted.RunId), (running.Step, running.ActiveRunId));
        Assert.Equal(new StepProgress(table.ProcessId, ProcessStep.Extracting, 0, 3000, 0), running.Progress! with { Since = null });
        // The worker stamps when the step started, so the CLI and the API can tell rows/s and the ETA.
        Assert.InRange(running.Progress!.Since!.Value, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow);
        Assert.Equal(accepted.RunId, done.LastSuccess?.RunId);
        Assert.Null(done.Progress);
    }

    private static async Task<ProcessStatus> StatusUntilAsync(IActorRef entity, string processId, Func<ProcessStatus, bool> until)
    {
        var deadline = DateTime.UtcNow + Long;
        while (DateTime.UtcNow < deadline)
        {
            var status = await entity.Ask<ProcessStatus>(new GetProcessStatus(processId), TimeSpan.FromSeconds(5));
            if (until(status)) return status;
            await Task.Delay(50);
        }
        throw new TimeoutException($"{processId}: the status never matched");
    }
}
