using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using Ferry.Shared.History;
using Ferry.Shared.Processes;
using Ferry.Shared.Stg;
using Ferry.Shared.Metadata;
using Ferry.Shared.Postgres;
using Ferry.Tests.Cluster;
using Ferry.Tests.Stg;
using Ferry.Worker.Processes;

namespace Ferry.Tests.Processes;

/// <summary>The entity retries a failed step that may heal itself, after a backoff timer; while it waits it still answers status and cancel.</summary>
public class ProcessRetryTests() : TestKit(Config)
{
    private static readonly Config Config = EntityTesting.Config("max-retries = 2, min-backoff = 5s, max-backoff = 5s");

    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    /// <summary>
    /// An STG process whose source database cannot be reached yet (a refused connection, which may heal):
    /// its extract fails until the test opens the port, a forwarder to the real server.
    /// </summary>
    private async Task<(StgTestBed Bed, ProcessServices Services, string ProcessId, IActorRef Entity, TcpForwarder Source)> CreateAsync(string name)
    {
        var bed = await StgTestBed.CreateAsync(name);
        await bed.ExecSourceAsync("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'one'), (2, 'two')");
        var table = StgTestBed.Table("t", ["id"]);
        var port = LocalPostgres.FreeLoopbackPort();
        var forwarder = new TcpForwarder(port, bed.Source.Port);
        var metadata = bed.Metadata(table) with { Sources = new Dictionary<string, PgConnection> { ["src"] = bed.Source with { Port = port } } };
        var services = new ProcessServices(metadata, bed.Store, new RunHistory(bed.TargetConnectionString));
        return (bed, services, table.ProcessId, Sys.ActorOf(Props.Create(() => new ProcessActor(table.ProcessId, services)), $"p-{Guid.NewGuid():N}"), forwarder);
    }

    private static async Task<ProcessStatus> WaitForAsync(IActorRef entity, string processId, Func<ProcessStatus, bool> done)
    {
        var deadline = DateTime.UtcNow + Long;
        while (DateTime.UtcNow < deadline)
        {
            var status = await entity.Ask<ProcessStatus>(new GetProcessStatus(processId), TimeSpan.FromSeconds(5));
            if (done(status)) return status;
            await Task.Delay(50);
        }
        throw new TimeoutException($"{processId} did not get there within {Long.TotalSeconds:0} s");
    }

    [Fact]
    public async Task A_step_waiting_for_its_retry_is_retried_after_the_backoff_and_the_run_succeeds_once_the_cause_is_fixed()
    {
        var (bed, _, processId, entity, source) = await CreateAsync("retrywait");
        await using var _ = bed;
        await using var __ = source;

        var accepted = await entity.Ask<RunAccepted>(new StartRun(processId, RunMode.Bulk), Long);
        var waiting = await WaitForAsync(entity, processId, s => s.Attempt == 1);
        Assert.Equal((ProcessStep.Extracting, accepted.RunId), (waiting.Step, waiting.ActiveRunId));
        Assert.Contains("cannot connect", waiting.LastError);

        source.Start();
        var done = await WaitForAsync(entity, processId, s => s.Step == ProcessStep.Idle);

        Assert.Equal(accepted.RunId, done.LastSuccess?.RunId);
        Assert.Equal(new MergeCounts(2, 0, 0, 0), done.LastSuccess!.Counts);
        Assert.Null(done.LastFailure);
    }

    [Fact]
    public async Task A_step_that_does_not_heal_fails_the_run_after_its_last_retry_with_its_cause()
    {
        var (bed, _, processId, entity, source) = await CreateAsync("retrygiveup");
        await using var _ = bed;
        await using var __ = source;

        var accepted = await entity.Ask<RunAccepted>(new StartRun(processId, RunMode.Bulk), Long);
        var failed = await WaitForAsync(entity, processId, s => s.Step == ProcessStep.Idle);

        Assert.Equal(accepted.RunId, failed.LastFailure?.RunId);
        Assert.Equal(3, failed.Attempt);   // the first try and two retries
        Assert.Contains("cannot connect", failed.LastFailure!.Error);
    }

    [Fact]
    public async Task A_run_cancelled_while_its_step_waits_for_a_retry_ends_at_once_and_the_retry_never_runs()
    {
        var (bed, services, processId, entity, source) = await CreateAsync("retrycancel");
        await using var _ = bed;
        await using var __ = source;

        await entity.Ask<RunAccepted>(new StartRun(processId, RunMode.Bulk), Long);
        await WaitForAsync(entity, processId, s => s.Attempt == 1);
        var cancel = await entity.Ask<CancelAccepted>(new CancelRun(processId), Long);
        var cancelled = await entity.Ask<ProcessStatus>(new GetProcessStatus(processId), Long);

        Assert.NotNull(cancel.RunId);
        Assert.Equal((ProcessStep.Idle, "cancelled by request", 1), (cancelled.Step, cancelled.LastFailure?.Error, cancelled.Attempt));
        // Past the backoff, nothing ran: the attempt count stays where the cancel left it.
        await Task.Delay(TimeSpan.FromSeconds(6));
        Assert.Equal(1, (await entity.Ask<ProcessStatus>(new GetProcessStatus(processId), Long)).Attempt);
        Assert.Equal(RunStatus.Failed, Assert.Single(await services.History.ListAsync(processId)).Status);
    }
}
