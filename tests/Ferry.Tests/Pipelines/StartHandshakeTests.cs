using Ferry.Coordinator.Pipelines;
using Ferry.Shared.Processes;
using Ferry.Shared.Stg;
using static Ferry.Tests.Pipelines.RunnerStates;

namespace Ferry.Tests.Pipelines;

public class StartHandshakeTests
{
    private static readonly ProcessInRun T1 = new("pl-1", "stg.a.t1");
    private static readonly PipelineRunnerState State = PipelineRunnerState.Empty.Started("pl-1", ["stg.a.t1", "stg.a.t2"]);
    private static readonly StartPhases Starting = StartPhases.None.With(T1, StartPhase.Starting);

    private static RunSummary Run(string runId, bool succeeded, string? pipelineRunId = "pl-1") =>
        new(runId, RunMode.Incremental, At, At.AddMinutes(1), succeeded, 5, new MergeCounts(5, 0, 0, 0), succeeded ? null : "stg.a.t1: merge failed: boom", pipelineRunId);

    private static ProcessStatus Status(string? activeRunId = null, RunSummary? success = null, RunSummary? failure = null) =>
        new("stg.a.t1", activeRunId is null ? ProcessStep.Idle : ProcessStep.Extracting, activeRunId, null, null, 0, null, success, failure, null);

    [Fact]
    public void An_accepted_start_is_recorded_and_one_for_a_run_that_no_longer_waits_is_only_logged()
    {
        var accepted = StartHandshake.Replied(Starting, State, T1, new RunAccepted("stg.a.t1", "r-1"), null);
        var late = StartHandshake.Replied(Starting, State.Running("pl-1", "stg.a.t1"), T1, new RunAccepted("stg.a.t1", "r-2"), null);

        Assert.Equal(new StartStep.Record(T1, "r-1"), accepted.Step);
        Assert.Null(accepted.Phases[T1]);
        Assert.True(Assert.IsType<StartStep.Note>(late.Step).Warning);
    }

    [Fact]
    public void A_process_busy_with_another_run_waits_and_one_that_refuses_fails_in_the_run()
    {
        var busy = StartHandshake.Replied(Starting, State, T1, new RunRejected("stg.a.t1", "already running", "r-other"), null);
        var refused = StartHandshake.Replied(Starting, State, T1, new RunRejected("stg.a.t1", "no such process in the metadata", null), null);

        Assert.Equal(StartPhase.Busy, busy.Phases[T1]);
        Assert.IsType<StartStep.Note>(busy.Step);
        Assert.Equal(new StartStep.Finish(T1, false, null, "stg.a.t1: not started: no such process in the metadata"), refused.Step);
    }

    [Fact]
    public void A_start_without_an_answer_is_checked_before_it_is_tried_again()
    {
        var next = StartHandshake.Replied(Starting, State, T1, null, "timed out");

        Assert.Equal(StartPhase.Unchecked, next.Phases[T1]);
        Assert.Contains("timed out", Assert.IsType<StartStep.Note>(next.Step).Text);
    }

    [Fact]
    public void A_checked_process_that_already_ran_for_the_run_is_taken_over_not_started_again()
    {
        var checking = StartPhases.None.With(T1, StartPhase.Checking);

        var ended = StartHandshake.Checked(checking, State, T1, Status(failure: Run("r-1", false)), null);
        var busy = StartHandshake.Checked(checking, State, T1, Status(activeRunId: "r-other"), null);
        var free = StartHandshake.Checked(checking, State, T1, Status(success: Run("r-0", true, "pl-0")), null);
        var silent = StartHandshake.Checked(checking, State, T1, null, "timed out");

        var finish = Assert.IsType<StartStep.Finish>(ended.Step);
        Assert.Equal((false, "r-1", "stg.a.t1: merge failed: boom"), (finish.Succeeded, finish.Run!.RunId, finish.Error));
        Assert.NotNull(finish.Why);
        Assert.Equal(StartPhase.Busy, busy.Phases[T1]);
        Assert.Null(free.Phases[T1]);
        Assert.IsType<StartStep.Advance>(free.Step);
        Assert.Equal(StartPhase.Unchecked, silent.Phases[T1]);
    }

    [Fact]
    public void A_status_that_comes_when_the_process_is_no_longer_being_checked_changes_nothing()
    {
        var next = StartHandshake.Checked(Starting, State, T1, Status(), null);

        Assert.Same(Starting, next.Phases);
        Assert.IsType<StartStep.Nothing>(next.Step);
    }

    [Fact]
    public void A_finished_run_ends_the_process_that_waited_for_it_or_frees_the_runs_waiting_for_the_process()
    {
        var running = State.Running("pl-1", "stg.a.t1");
        var waiting = StartPhases.None.With(new ProcessInRun("pl-2", "stg.a.t1"), StartPhase.Busy);

        var tracked = StartHandshake.Finished(StartPhases.None, running, "stg.a.t1", Run("r-stg.a.t1", true));
        var unrecorded = StartHandshake.Finished(StartPhases.None, State, "stg.a.t1", Run("r-9", true));
        var inFlight = StartHandshake.Finished(Starting, State, "stg.a.t1", Run("r-9", true));
        var someoneElses = StartHandshake.Finished(waiting, State, "stg.a.t1", Run("r-hand", true, pipelineRunId: null));

        Assert.Equal(new StartStep.Finish(T1, true, Run("r-stg.a.t1", true), null), tracked.Step);
        Assert.NotNull(Assert.IsType<StartStep.Finish>(unrecorded.Step).Why);
        Assert.IsType<StartStep.Nothing>(inFlight.Step);
        Assert.IsType<StartStep.Check>(someoneElses.Step);
        Assert.Equal(StartPhase.Unchecked, someoneElses.Phases[new ProcessInRun("pl-2", "stg.a.t1")]);
    }
}
