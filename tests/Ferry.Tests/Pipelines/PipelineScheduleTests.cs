using Akka.Actor;
using Xunit.Abstractions;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using Ferry.Coordinator.Pipelines;
using Ferry.Shared.Metadata;
using Ferry.Shared.Processes;
using Ferry.Shared.Stg;
using Ferry.Tests.Processes;
using static Ferry.Tests.Pipelines.TestMigration;

namespace Ferry.Tests.Pipelines;

/// <summary>The runner's schedules end to end, with a clock the test moves; the rules themselves are in <see cref="ScheduleClockTests"/>.</summary>
public class PipelineScheduleTests(ITestOutputHelper output) : TestKit(Config, output: output)
{
    private static readonly Config Config = EntityTesting.InMemory();

    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    /// <summary>A clock the test moves by hand.</summary>
    private sealed class TestClock(DateTimeOffset start)
    {
        private long _ticks = start.UtcTicks;
        public DateTimeOffset Now() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);
        public void Set(DateTimeOffset at) => Interlocked.Exchange(ref _ticks, at.UtcTicks);
    }

    private static DateTimeOffset At(int day, int hour, int minute, double seconds) =>
        new DateTimeOffset(2025, 3, day, hour, minute, 0, TimeSpan.Zero).AddSeconds(seconds);

    /// <summary>Returns once the runner has recovered and armed its schedules from the clock's time.</summary>
    private async Task<(IActorRef Runner, IActorRef Region)> StartAsync(MigrationMetadata metadata, TestClock clock, TimeSpan duration, IActorRef? region = null)
    {
        region ??= Sys.ActorOf(FakeProcessRegion.Create(_ => new FakeBehaviour(duration)));
        var runner = Sys.ActorOf(PipelineRunner.Create(metadata, region, clock.Now, Poll));
        region.Tell(new FakeProcessRegion.SetListener(runner));
        await runner.Ask<PipelineRunList>(new ListPipelineRuns(), Long);
        return (runner, region);
    }

    private static async Task<PipelineRunList> RunsWhenAsync(IActorRef runner, Func<PipelineRunList, bool> condition)
    {
        var deadline = DateTime.UtcNow + Long;
        while (DateTime.UtcNow < deadline)
        {
            var list = await runner.Ask<PipelineRunList>(new ListPipelineRuns(), Long);
            if (condition(list)) return list;
            await Task.Delay(50);
        }
        throw new TimeoutException("the runner never reached the expected runs");
    }

    private static async Task<IReadOnlyList<PipelineRunStatus>> RunsAfterAsync(IActorRef runner, TimeSpan wait)
    {
        await Task.Delay(wait);
        return (await runner.Ask<PipelineRunList>(new ListPipelineRuns(), Long)).Runs;
    }

    [Fact]
    public async Task A_cron_schedule_starts_its_pipeline_in_its_mode_when_the_clock_passes_the_time()
    {
        var ids = Ids("a", 2);
        var metadata = Create(new Dictionary<string, int> { ["a"] = 2 }, ids, Pipeline("nightly", "0 2 * * *", ids) with { Mode = RunMode.Bulk });
        var clock = new TestClock(At(1, 1, 59, 58));
        var (runner, region) = await StartAsync(metadata, clock, TimeSpan.FromMilliseconds(100));

        var before = await RunsAfterAsync(runner, 4 * Poll);
        clock.Set(At(1, 2, 0, 0.5));
        var started = await RunsWhenAsync(runner, l => l.Runs.Count == 1 && l.Runs[0].State == PipelineRunState.Succeeded);
        var log = await region.Ask<FakeProcessRegion.Log>(new FakeProcessRegion.GetLog(), Long);

        Assert.Empty(before);
        var run = Assert.Single(started.Runs);
        Assert.Equal("nightly", run.Name);
        Assert.Equal(RunMode.Bulk, run.Mode);
        Assert.Equal(At(1, 2, 0, 0.5), run.StartedAt);
        Assert.Equal(2, log.StartsFor(run.PipelineRunId).Count());
    }

    [Fact]
    public async Task How_late_a_scheduled_start_was_is_exported_as_the_pipelines_schedule_lag()
    {
        var ids = Ids("lag", 1);
        var metadata = Create(new Dictionary<string, int> { ["lag"] = 1 }, ids, Pipeline("lagged", "0 2 * * *", ids));
        var clock = new TestClock(At(1, 1, 59, 58));
        var (runner, _) = await StartAsync(metadata, clock, TimeSpan.FromMilliseconds(100));

        await RunsAfterAsync(runner, 2 * Poll);
        clock.Set(At(1, 2, 0, 3));
        await RunsWhenAsync(runner, l => l.Runs.Count == 1);

        using var text = new MemoryStream();
        await Prometheus.Metrics.DefaultRegistry.CollectAndExportAsTextAsync(text);
        var metrics = Metrics.MetricsTests.Exposition.Parse(System.Text.Encoding.UTF8.GetString(text.ToArray()));
        Assert.Equal(3, metrics.Value("ferry_schedule_lag_seconds", new Dictionary<string, string> { ["pipeline"] = "lagged" }));
    }

    [Fact]
    public async Task A_scheduled_start_while_the_pipeline_still_runs_is_skipped()
    {
        var ids = Ids("a", 1);
        var metadata = Create(new Dictionary<string, int> { ["a"] = 1 }, ids, Pipeline("often", "* * * * *", ids));
        var clock = new TestClock(At(1, 12, 0, 30));
        var (runner, _) = await StartAsync(metadata, clock, TimeSpan.FromSeconds(30));

        clock.Set(At(1, 12, 1, 0.5));
        var first = Assert.Single((await RunsWhenAsync(runner, l => l.Runs.Count == 1)).Runs);
        clock.Set(At(1, 12, 2, 0.5));
        var later = await RunsAfterAsync(runner, 5 * Poll);
        clock.Set(At(1, 12, 3, 0.5));
        var evenLater = await RunsAfterAsync(runner, 5 * Poll);
        await runner.Ask<PipelineRunStatus>(new CancelPipelineRun(first.PipelineRunId), Long);

        Assert.Equal(first.PipelineRunId, Assert.Single(later).PipelineRunId);
        Assert.Equal(first.PipelineRunId, Assert.Single(evenLater).PipelineRunId);
    }

    [Fact]
    public async Task A_scheduled_start_missed_while_no_runner_was_up_is_made_up_once_when_it_comes_back()
    {
        var ids = Ids("a", 1);
        var metadata = Create(new Dictionary<string, int> { ["a"] = 1 }, ids, Pipeline("nightly", "0 2 * * *", ids));
        var clock = new TestClock(At(1, 1, 59, 59.5));
        var (runner, region) = await StartAsync(metadata, clock, TimeSpan.FromMilliseconds(50));
        clock.Set(At(1, 2, 0, 1));
        await RunsWhenAsync(runner, l => l.Runs.Count == 1 && l.Runs[0].State == PipelineRunState.Succeeded);
        Watch(runner);
        runner.Tell(PoisonPill.Instance);
        ExpectTerminated(runner, Long);

        clock.Set(At(3, 9, 0, 0));   // the 2nd's and the 3rd's 02:00 passed with no runner
        var (revived, _) = await StartAsync(metadata, clock, TimeSpan.FromMilliseconds(50), region);
        var made = await RunsWhenAsync(revived, l => l.Runs.Count == 2 && l.Runs.All(r => r.State == PipelineRunState.Succeeded));
        var after = await RunsAfterAsync(revived, 5 * Poll);

        Assert.Equal(At(3, 9, 0, 0), made.Runs[0].StartedAt);
        Assert.Equal(2, after.Count);
    }
}
