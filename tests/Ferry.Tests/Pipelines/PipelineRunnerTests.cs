using Akka.Actor;
using Xunit.Abstractions;
using Akka.Configuration;
using Akka.Persistence;
using Akka.TestKit.Xunit2;
using Ferry.Coordinator.Pipelines;
using Ferry.Shared.Metadata;
using Ferry.Shared.Processes;
using Ferry.Shared.Stg;
using Ferry.Tests.Processes;
using static Ferry.Tests.Pipelines.TestMigration;

namespace Ferry.Tests.Pipelines;

/// <summary>The runner's logic against a fake process region (see <see cref="FakeProcessRegion"/>); the real entity is tested in Processes/.</summary>
public class PipelineRunnerTests(ITestOutputHelper output) : TestKit(Config, output: output)
{
    private static readonly Config Config = EntityTesting.InMemory();

    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Short = TimeSpan.FromMilliseconds(200);

    private static FakeBehaviour Takes(TimeSpan duration) => new(duration);

    private IActorRef Region(Func<string, FakeBehaviour>? behaviour = null) =>
        Sys.ActorOf(FakeProcessRegion.Create(behaviour ?? (_ => Takes(Short))));

    private IActorRef Runner(MigrationMetadata metadata, IActorRef region, Func<DateTimeOffset>? clock = null)
    {
        var runner = Sys.ActorOf(PipelineRunner.Create(metadata, region, clock, Poll));
        region.Tell(new FakeProcessRegion.SetListener(runner));
        return runner;
    }

    private static async Task<PipelineRunAccepted> RunAsync(IActorRef runner, params string[] targets) =>
        Assert.IsType<PipelineRunAccepted>(await runner.Ask<object>(new RunTargets(targets, RunMode.Incremental), Long));

    private static async Task<PipelineRunStatus> FinishedAsync(IActorRef runner, string pipelineRunId)
    {
        var deadline = DateTime.UtcNow + Long;
        while (DateTime.UtcNow < deadline)
        {
            var status = await runner.Ask<PipelineRunStatus>(new GetPipelineRun(pipelineRunId), Long);
            if (status.State != PipelineRunState.Running) return status;
            await Task.Delay(50);
        }
        throw new TimeoutException($"pipeline run {pipelineRunId} did not finish");
    }

    private static Task<FakeProcessRegion.Log> LogAsync(IActorRef region) => region.Ask<FakeProcessRegion.Log>(new FakeProcessRegion.GetLog(), Long);

    private static async Task<FakeProcessRegion.Log> LogWhenAsync(IActorRef region, Func<FakeProcessRegion.Log, bool> condition)
    {
        var deadline = DateTime.UtcNow + Long;
        while (DateTime.UtcNow < deadline)
        {
            var log = await LogAsync(region);
            if (condition(log)) return log;
            await Task.Delay(20);
        }
        throw new TimeoutException("the fake region never reached the expected state");
    }

    [Fact]
    public async Task Groups_run_in_sequence_and_the_processes_of_a_group_in_parallel()
    {
        var first = Ids("a", 3);
        var second = Ids("b", 2);
        var metadata = Create(new Dictionary<string, int> { ["a"] = 4, ["b"] = 4 }, first.Concat(second), Pipeline("p", null, first, second));
        var region = Region(_ => Takes(TimeSpan.FromMilliseconds(400)));
        var runner = Runner(metadata, region);

        var accepted = await RunAsync(runner, "p");
        var status = await FinishedAsync(runner, accepted.PipelineRunId);
        var log = await LogAsync(region);

        Assert.Equal("p", accepted.Name);
        Assert.Equal([first, second], accepted.Plan);
        Assert.Equal(PipelineRunState.Succeeded, status.State);
        Assert.All(status.Processes, p => Assert.Equal(ProcessRunState.Succeeded, p.State));
        var firstStarts = log.Starts.Where(s => first.Contains(s.ProcessId)).ToList();
        var firstEnds = log.Ends.Where(e => first.Contains(e.ProcessId)).ToList();
        Assert.Equal(3, firstStarts.Count);
        Assert.True(firstStarts.Max(s => s.At) < firstEnds.Min(e => e.At), "the first group's processes ran at the same time");
        Assert.Equal(3, log.MaxRunningPerSource["a"]);
        Assert.True(firstEnds.Max(e => e.At) <= log.Starts.Where(s => second.Contains(s.ProcessId)).Min(s => s.At), "the second group started after the first ended");
        Assert.Equal(accepted.PipelineRunId, Assert.Single(log.Starts.Select(s => s.PipelineRunId).Distinct()));
    }

    [Fact]
    public async Task No_source_ever_has_more_processes_running_than_its_extract_limit_even_across_pipeline_runs()
    {
        var a = Ids("a", 8);
        var b = Ids("b", 3);
        var metadata = Create(new Dictionary<string, int> { ["a"] = 2, ["b"] = 1 }, a.Concat(b));
        var region = Region(_ => Takes(TimeSpan.FromMilliseconds(150)));
        var runner = Runner(metadata, region);

        var one = await RunAsync(runner, "stg.a.t1", "stg.a.t2", "stg.a.t3", "stg.a.t4");
        var two = await RunAsync(runner, "stg.a.t5", "stg.a.t6", "stg.a.t7", "stg.a.t8", "stg.b.*");
        var statuses = new[] { await FinishedAsync(runner, one.PipelineRunId), await FinishedAsync(runner, two.PipelineRunId) };
        var log = await LogAsync(region);

        Assert.All(statuses, s => Assert.Equal(PipelineRunState.Succeeded, s.State));
        Assert.Equal(2, log.MaxRunningPerSource["a"]);
        Assert.Equal(1, log.MaxRunningPerSource["b"]);
        Assert.Equal(11, log.Starts.Count);
        Assert.Equal(0, log.BusyRejections);
    }

    [Fact]
    public async Task A_pipeline_that_is_still_running_is_not_started_twice()
    {
        var ids = Ids("a", 2);
        var metadata = Create(new Dictionary<string, int> { ["a"] = 2 }, ids, Pipeline("p", null, ids));
        var region = Region(_ => Takes(TimeSpan.FromMilliseconds(500)));
        var runner = Runner(metadata, region);

        var first = await RunAsync(runner, "p");
        var second = await runner.Ask<object>(new RunTargets(["p"], RunMode.Bulk), Long);
        await FinishedAsync(runner, first.PipelineRunId);
        var third = await RunAsync(runner, "p");

        var rejected = Assert.IsType<PipelineRunRejected>(second);
        Assert.Equal(first.PipelineRunId, rejected.ActivePipelineRunId);
        Assert.Contains($"p is already running as {first.PipelineRunId}", rejected.Reason);
        Assert.NotEqual(first.PipelineRunId, third.PipelineRunId);
        Assert.Equal(PipelineRunState.Succeeded, (await FinishedAsync(runner, third.PipelineRunId)).State);
    }

    [Fact]
    public async Task A_process_busy_with_another_run_is_retried_and_runs_once_that_run_ends()
    {
        var ids = Ids("a", 2);
        var metadata = Create(new Dictionary<string, int> { ["a"] = 2 }, ids);
        var region = Region(p => p == "stg.a.t1" ? new FakeBehaviour(Short, LosesReport: true) : Takes(Short));
        var runner = Runner(metadata, region);
        region.Tell(new FakeProcessRegion.Occupy("stg.a.t1", TimeSpan.FromMilliseconds(900)));

        var accepted = await RunAsync(runner, "stg.a.*");
        var status = await FinishedAsync(runner, accepted.PipelineRunId);
        var log = await LogAsync(region);

        Assert.Equal(PipelineRunState.Succeeded, status.State);
        Assert.True(log.BusyRejections >= 1);
        var handRun = log.Ends.First(e => e.ProcessId == "stg.a.t1");
        var pipelineRun = Assert.Single(log.StartsFor(accepted.PipelineRunId), s => s.ProcessId == "stg.a.t1");
        Assert.True(pipelineRun.At >= handRun.At);
        Assert.Equal(pipelineRun.RunId, status.Processes.Single(p => p.ProcessId == "stg.a.t1").RunId);
    }

    [Fact]
    public async Task A_failed_process_does_not_stop_the_others_and_the_pipeline_ends_failed_naming_it()
    {
        var first = Ids("a", 3);
        var second = Ids("b", 1);
        var metadata = Create(new Dictionary<string, int> { ["a"] = 3, ["b"] = 1 }, first.Concat(second).Append("stg.b.gone"),
            Pipeline("p", null, first, [.. second, "stg.b.gone"]));
        var region = Region(p => p switch
        {
            "stg.a.t2" => new FakeBehaviour(TimeSpan.FromMilliseconds(50), Fails: true),
            "stg.b.gone" => new FakeBehaviour(Short, Unknown: true),
            _ => Takes(TimeSpan.FromMilliseconds(300)),
        });
        var runner = Runner(metadata, region);

        var accepted = await RunAsync(runner, "p");
        var status = await FinishedAsync(runner, accepted.PipelineRunId);

        Assert.Equal(PipelineRunState.Failed, status.State);
        var byId = status.Processes.ToDictionary(p => p.ProcessId);
        Assert.Equal(ProcessRunState.Failed, byId["stg.a.t2"].State);
        Assert.Equal("stg.a.t2: extract failed: boom", byId["stg.a.t2"].Error);
        Assert.False(byId["stg.a.t2"].Result!.Succeeded);
        Assert.Equal(ProcessRunState.Succeeded, byId["stg.a.t1"].State);
        Assert.Equal(ProcessRunState.Succeeded, byId["stg.a.t3"].State);
        Assert.Equal(ProcessRunState.Succeeded, byId["stg.b.t1"].State);
        Assert.Equal("stg.b.gone: not started: no such process in the metadata", byId["stg.b.gone"].Error);
        var list = await runner.Ask<PipelineRunList>(new ListPipelineRuns(), Long);
        Assert.Equal(accepted.PipelineRunId, Assert.Single(list.Runs).PipelineRunId);
    }

    [Fact]
    public async Task A_failed_BL_parent_s_child_is_never_started_and_ends_skipped_and_the_pipeline_ends_failed()
    {
        var metadata = Create(new Dictionary<string, int> { ["a"] = 1 }, Ids("a", 1)) with
        {
            Transforms = [Transform("users"), Transform("reports", "users"), Transform("organisations")],
        };
        var region = Region(p => p == "bl.unipacc.users" ? new FakeBehaviour(TimeSpan.FromMilliseconds(50), Fails: true) : Takes(Short));
        var runner = Runner(metadata, region);

        var accepted = await RunAsync(runner, "bl.*");
        var status = await FinishedAsync(runner, accepted.PipelineRunId);
        var log = await LogAsync(region);

        Assert.Equal([["bl.unipacc.users", "bl.unipacc.organisations"], ["bl.unipacc.reports"]], accepted.Plan);
        Assert.Equal(PipelineRunState.Failed, status.State);
        var byId = status.Processes.ToDictionary(p => p.ProcessId);
        Assert.Equal(ProcessRunState.Failed, byId["bl.unipacc.users"].State);
        Assert.Equal(ProcessRunState.Succeeded, byId["bl.unipacc.organisations"].State);
        Assert.Equal((ProcessRunState.Skipped, "skipped: bl.unipacc.users failed"), (byId["bl.unipacc.reports"].State, byId["bl.unipacc.reports"].Error));
        Assert.Null(byId["bl.unipacc.reports"].RunId);
        Assert.DoesNotContain(log.Starts, s => s.ProcessId == "bl.unipacc.reports");
        Assert.Equal(2, log.Starts.Count);
    }

    [Fact]
    public async Task A_runner_stopped_mid_pipeline_recovers_and_completes_it_without_starting_any_process_twice()
    {
        var first = Ids("a", 5);
        var second = Ids("a", 2, "u");
        var metadata = Create(new Dictionary<string, int> { ["a"] = 2 }, first.Concat(second), Pipeline("p", null, first, second));
        var region = Region(_ => Takes(TimeSpan.FromMilliseconds(500)));
        var runner = Runner(metadata, region);

        var accepted = await RunAsync(runner, "p");
        await LogWhenAsync(region, l => l.Starts.Count >= 3);
        Watch(runner);
        runner.Tell(PoisonPill.Instance);
        ExpectTerminated(runner, Long);
        await Task.Delay(700);   // runs end while no runner listens: their reports are lost
        var revived = Runner(metadata, region);
        var status = await FinishedAsync(revived, accepted.PipelineRunId);
        var log = await LogAsync(region);

        Assert.Equal(PipelineRunState.Succeeded, status.State);
        Assert.Equal(first.Concat(second).Order(), log.Starts.Select(s => s.ProcessId).Order());
        Assert.All(status.Processes, p => Assert.Equal(log.Starts.Single(s => s.ProcessId == p.ProcessId).RunId, p.RunId));
        Assert.True(log.MaxRunningPerSource["a"] <= 2);
    }

    /// <summary>Writes events under the runner's persistence id, as a runner that crashed would have left them.</summary>
    private sealed class JournalWriter : ReceivePersistentActor
    {
        public override string PersistenceId => PipelineRunner.DefaultPersistenceId;

        public JournalWriter(IReadOnlyList<IPipelineEvent> events)
        {
            Command<string>(_ =>
            {
                var replyTo = Sender;
                PersistAll(events, e => { if (ReferenceEquals(e, events[^1])) replyTo.Tell("written"); });
            });
        }
    }

    [Fact]
    public async Task Runs_that_a_crashed_runner_started_but_never_recorded_are_taken_over_not_started_again()
    {
        var ids = Ids("a", 2);
        var metadata = Create(new Dictionary<string, int> { ["a"] = 2 }, ids, Pipeline("p", null, ids));
        var region = Region(p => Takes(TimeSpan.FromMilliseconds(p == "stg.a.t1" ? 1000 : 100)));
        // The crashed runner recorded the pipeline run and sent both StartRuns; it died before it recorded either answer.
        IReadOnlyList<IPipelineEvent> journal = [new PipelineRunStarted("pl-crashed", "p", RunMode.Incremental, null, [ids], "api", DateTimeOffset.UtcNow)];
        var writer = Sys.ActorOf(Props.Create(() => new JournalWriter(journal)));
        Assert.Equal("written", await writer.Ask<string>("go", Long));
        await writer.GracefulStop(Long);
        var t1 = await region.Ask<RunAccepted>(new StartRun("stg.a.t1", RunMode.Incremental, null, "pl-crashed"), Long);
        var t2 = await region.Ask<RunAccepted>(new StartRun("stg.a.t2", RunMode.Incremental, null, "pl-crashed"), Long);
        await LogWhenAsync(region, l => l.Ends.Count == 1);   // t2 ended with no runner to hear it

        var runner = Runner(metadata, region);
        var status = await FinishedAsync(runner, "pl-crashed");
        var log = await LogAsync(region);

        Assert.Equal(PipelineRunState.Succeeded, status.State);
        Assert.Equal(2, log.Starts.Count);
        Assert.Equal(0, log.BusyRejections);
        Assert.Equal([t1.RunId, t2.RunId], status.Processes.Select(p => p.RunId));
    }

    [Fact]
    public async Task A_lost_finish_report_is_made_up_by_polling_the_process()
    {
        var first = Ids("a", 2);
        var second = Ids("a", 1, "u");
        var metadata = Create(new Dictionary<string, int> { ["a"] = 2 }, first.Concat(second), Pipeline("p", null, first, second));
        var region = Region(_ => new FakeBehaviour(Short, LosesReport: true));
        var runner = Runner(metadata, region);

        var accepted = await RunAsync(runner, "p");
        var status = await FinishedAsync(runner, accepted.PipelineRunId);

        Assert.Equal(PipelineRunState.Succeeded, status.State);
        Assert.All(status.Processes, p => Assert.Equal(new MergeCounts(10, 0, 0, 0), p.Result!.Counts));
    }

    [Fact]
    public async Task Cancelling_a_pipeline_run_stops_its_running_processes_and_starts_no_more()
    {
        var first = Ids("a", 4);
        var second = Ids("a", 1, "u");
        var metadata = Create(new Dictionary<string, int> { ["a"] = 2 }, first.Concat(second), Pipeline("p", null, first, second));
        var region = Region(_ => Takes(TimeSpan.FromSeconds(20)));
        var runner = Runner(metadata, region);

        var accepted = await RunAsync(runner, "p");
        await LogWhenAsync(region, l => l.Starts.Count == 2);
        var cancelled = await runner.Ask<PipelineRunStatus>(new CancelPipelineRun(accepted.PipelineRunId), Long);
        var log = await LogWhenAsync(region, l => l.Ends.Count == 2);
        await Task.Delay(3 * Poll);

        Assert.Equal(PipelineRunState.Cancelled, cancelled.State);
        Assert.All(log.Ends, e => Assert.False(e.Succeeded));
        Assert.Equal(2, (await LogAsync(region)).Starts.Count);
        var status = await runner.Ask<PipelineRunStatus>(new GetPipelineRun(accepted.PipelineRunId), Long);
        Assert.Equal(PipelineRunState.Cancelled, status.State);
        Assert.Equal(2, status.Processes.Count(p => p.Error == "cancelled by request"));
        Assert.Equal(3, status.Processes.Count(p => p.State == ProcessRunState.Pending));
        Assert.IsType<PipelineRunNotFound>(await runner.Ask<object>(new CancelPipelineRun("pl-nope"), Long));
    }

    [Fact]
    public async Task Targets_that_name_nothing_are_rejected_with_what_exists()
    {
        var ids = Ids("a", 1);
        var metadata = Create(new Dictionary<string, int> { ["a"] = 1 }, ids, Pipeline("nightly", null, ids));
        var runner = Runner(metadata, Region());

        var typo = Assert.IsType<PipelineRunRejected>(await runner.Ask<object>(new RunTargets(["nightyl"], RunMode.Incremental), Long));
        var unknown = Assert.IsType<PipelineRunRejected>(await runner.Ask<object>(new RunTargets(["stg.x.*"], RunMode.Incremental), Long));

        Assert.Equal("no pipeline or group is named 'nightyl' (did you mean 'nightly'? pipelines: nightly; groups: nightly-1)", typo.Reason);
        Assert.StartsWith("no process matches stg.x.*", unknown.Reason);
        Assert.IsType<PipelineRunNotFound>(await runner.Ask<object>(new GetPipelineRun("pl-nope"), Long));
    }

    [Fact]
    public async Task The_runner_snapshots_its_state_and_a_new_runner_recovers_every_run_from_it()
    {
        var ids = Ids("a", 60);
        var metadata = Create(new Dictionary<string, int> { ["a"] = 64 }, ids, Pipeline("p", null, ids));
        var region = Region(_ => Takes(TimeSpan.FromMilliseconds(20)));
        var runner = Runner(metadata, region);

        var accepted = await RunAsync(runner, "p");
        await FinishedAsync(runner, accepted.PipelineRunId);
        var snapshot = await Persistence.Instance.Apply(Sys).SnapshotStoreFor(null)
            .Ask<LoadSnapshotResult>(new LoadSnapshot(PipelineRunner.DefaultPersistenceId, SnapshotSelectionCriteria.Latest, long.MaxValue), Long);
        Watch(runner);
        runner.Tell(PoisonPill.Instance);
        ExpectTerminated(runner, Long);
        var revived = Runner(metadata, region);
        var status = await revived.Ask<PipelineRunStatus>(new GetPipelineRun(accepted.PipelineRunId), Long);

        Assert.Equal(PipelineRunner.SnapshotEvery, snapshot.Snapshot?.Metadata.SequenceNr);
        Assert.Equal(PipelineRunState.Succeeded, status.State);
        Assert.Equal(60, status.Processes.Count(p => p.State == ProcessRunState.Succeeded));
        Assert.Equal(60, (await LogAsync(region)).Starts.Count);
    }
}
