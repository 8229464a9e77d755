using Ferry.Coordinator.Pipelines;
using Ferry.Shared.Processes;
using Ferry.Shared.Stg;
using static Ferry.Tests.Pipelines.RunnerStates;

namespace Ferry.Tests.Pipelines;

/// <summary><see cref="PipelineRunnerState.Apply"/> event by event, as recovery replays them.</summary>
public class PipelineRunnerStateTests
{
    private static readonly PipelineRunnerState Empty = PipelineRunnerState.Empty;

    private static readonly RunSummary Summary = new("r-stg.a.t1", RunMode.Incremental, At, At.AddMinutes(1), true, 10,
        new MergeCounts(10, 0, 0, 0), null, "pl-1");

    [Fact]
    public void A_started_run_is_running_with_every_process_pending_in_its_stage()
    {
        var state = Empty.Apply(new PipelineRunStarted("pl-1", "nightly", RunMode.Bulk, true, [["stg.a.t1", "stg.a.t2"], ["stg.a.t3"]], "api", At));

        var run = Assert.Single(state.Runs);
        Assert.Equal(("pl-1", "nightly", RunMode.Bulk, true, PipelineRunState.Running), (run.PipelineRunId, run.Name, run.Mode, run.KeySweep, run.State));
        Assert.Equal([0, 0, 1], run.InPlanOrder().Select(p => p.Stage));
        Assert.All(run.Processes.Values, p => Assert.Equal(ProcessRunState.Pending, p.State));
        Assert.Equal(0, run.CurrentStage());
        Assert.Same(run, state.ActiveNamed("nightly"));
        Assert.Empty(state.LastScheduled);
    }

    [Fact]
    public void A_scheduled_start_records_its_occurrence_as_handled()
    {
        var state = Empty.Apply(new PipelineRunStarted("pl-1", "nightly", RunMode.Bulk, null, [["stg.a.t1"]], "schedule", At.AddSeconds(1), At));

        Assert.Equal(At, state.LastScheduled["nightly"]);
        Assert.Equal(At, state.Find("pl-1")!.ScheduledFor);
    }

    [Fact]
    public void A_process_that_started_is_running_with_its_run_id()
    {
        var state = Empty.Started("pl-1", ["stg.a.t1", "stg.a.t2"])
            .Apply(new ProcessRunStartedInPipeline("pl-1", "stg.a.t1", "r-77", At));

        var p = state.Find("pl-1")!.Processes["stg.a.t1"];
        Assert.Equal((ProcessRunState.Running, "r-77"), (p.State, p.RunId));
        Assert.Equal(("stg.a.t1", "r-77"), (state.Running().Single().Process.ProcessId, state.Running().Single().RunId));
        Assert.Same(state.Find("pl-1"), state.Awaiting("stg.a.t1", "r-77"));
        Assert.Null(state.Awaiting("stg.a.t1", "r-other"));
    }

    [Fact]
    public void A_finished_process_keeps_its_result_or_its_error_and_the_stage_moves_on()
    {
        var state = Empty.Started("pl-1", ["stg.a.t1", "stg.a.t2"], ["stg.a.t3"]).Running("pl-1", "stg.a.t1")
            .Apply(new ProcessFinishedInPipeline("pl-1", "stg.a.t1", true, Summary, null, At))
            .Apply(new ProcessFinishedInPipeline("pl-1", "stg.a.t2", false, null, "stg.a.t2: not started: no such process in the metadata", At));

        var run = state.Find("pl-1")!;
        Assert.Equal(ProcessRunState.Succeeded, run.Processes["stg.a.t1"].State);
        Assert.Equal(Summary, run.Processes["stg.a.t1"].Result);
        Assert.Equal(ProcessRunState.Failed, run.Processes["stg.a.t2"].State);
        Assert.Equal("stg.a.t2: not started: no such process in the metadata", run.Processes["stg.a.t2"].Error);
        Assert.Equal(1, run.CurrentStage());
        Assert.Equal(["stg.a.t3"], run.PendingNow());
        Assert.Equal((PipelineRunState.Failed, "1 of 3 processes failed: stg.a.t2"), run.Outcome());
    }

    [Fact]
    public void A_skipped_process_keeps_its_reason_counts_as_finished_and_the_run_ends_failed_counting_it()
    {
        var state = Empty.StartedWith("pl-1", new Dictionary<string, IReadOnlyList<string>> { ["bl.u.b"] = ["bl.u.a"] }, ["bl.u.a", "bl.u.c"], ["bl.u.b"])
            .Finished("pl-1", "bl.u.a", succeeded: false).Finished("pl-1", "bl.u.c")
            .Apply(new ProcessSkippedInPipeline("pl-1", "bl.u.b", "skipped: bl.u.a failed", At));

        var run = state.Find("pl-1")!;
        Assert.Equal((ProcessRunState.Skipped, "skipped: bl.u.a failed"), (run.Processes["bl.u.b"].State, run.Processes["bl.u.b"].Error));
        Assert.Equal(2, run.CurrentStage());
        Assert.Empty(run.PendingNow());
        Assert.Equal((PipelineRunState.Failed, "1 of 3 processes failed: bl.u.a; 1 skipped because an upstream process failed"), run.Outcome());
        Assert.Equal(["bl.u.a"], run.Upstream!["bl.u.b"]);
    }

    [Fact]
    public void A_finished_run_is_no_longer_active_and_keeps_its_end()
    {
        var state = Empty.Started("pl-1", ["stg.a.t1"]).Finished("pl-1", "stg.a.t1")
            .Apply(new PipelineRunFinished("pl-1", PipelineRunState.Succeeded, null, At.AddMinutes(5)));

        var run = state.Find("pl-1")!;
        Assert.Equal((PipelineRunState.Succeeded, At.AddMinutes(5), (string?)null), (run.State, run.FinishedAt, run.Reason));
        Assert.False(run.IsActive);
        Assert.Empty(state.Active);
        Assert.Null(state.ActiveNamed("pl-1"));
        Assert.Equal((PipelineRunState.Succeeded, (string?)null), run.Outcome());
    }

    [Fact]
    public void A_skipped_scheduled_start_counts_as_handled_and_changes_no_run()
    {
        var before = Empty.Started("pl-1", ["stg.a.t1"]);

        var state = before.Apply(new ScheduledRunSkipped("nightly", At, "pl-1", At));

        Assert.Equal(At, state.LastScheduled["nightly"]);
        Assert.Equal(before.Runs, state.Runs);
    }

    [Fact]
    public void Events_for_an_unknown_run_or_process_change_nothing()
    {
        var state = Empty.Started("pl-1", ["stg.a.t1"]);

        Assert.Equal(state.Runs, state.Running("pl-nope", "stg.a.t1").Finished("pl-1", "stg.a.nope").Runs);
    }

    private sealed record SomethingNew : IPipelineEvent;

    [Fact]
    public void An_event_this_version_does_not_know_is_an_error_not_ignored()
    {
        var e = Assert.Throws<ArgumentException>(() => Empty.Apply(new SomethingNew()));

        Assert.Contains("SomethingNew", e.Message);
    }

    [Fact]
    public void Trimming_to_the_kept_runs_never_drops_an_active_run_even_when_more_than_that_are_active()
    {
        var state = Empty;
        for (var i = 0; i < PipelineRunnerState.KeptRuns + 5; i++) state = state.Started($"pl-active-{i}", ["stg.a.t1"]);
        state = state.Started("pl-done", ["stg.a.t1"]).Apply(new PipelineRunFinished("pl-done", PipelineRunState.Succeeded, null, At));
        state = state.Started("pl-late", ["stg.a.t1"]);

        Assert.Equal(PipelineRunnerState.KeptRuns + 6, state.Runs.Count);
        Assert.Null(state.Find("pl-done"));
        Assert.All(Enumerable.Range(0, PipelineRunnerState.KeptRuns + 5), i => Assert.NotNull(state.Find($"pl-active-{i}")));
        Assert.Equal("pl-late", state.Runs[^1].PipelineRunId);
    }
}
