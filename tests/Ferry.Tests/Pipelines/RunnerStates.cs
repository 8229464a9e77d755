using Ferry.Coordinator.Pipelines;
using Ferry.Shared.Processes;
using Ferry.Shared.Stg;

namespace Ferry.Tests.Pipelines;

/// <summary>Builds runner states through <see cref="PipelineRunnerState.Apply"/>, as the runner's journal would.</summary>
public static class RunnerStates
{
    public static readonly DateTimeOffset At = new(2025, 3, 1, 2, 0, 0, TimeSpan.Zero);

    public static PipelineRunnerState Started(this PipelineRunnerState state, string pipelineRunId, params IReadOnlyList<string>[] stages) =>
        state.Apply(new PipelineRunStarted(pipelineRunId, pipelineRunId, RunMode.Incremental, null, stages, "test", At));

    /// <summary>A run whose BL processes have these upstream processes (child → parents in plan order).</summary>
    public static PipelineRunnerState StartedWith(this PipelineRunnerState state, string pipelineRunId,
        IReadOnlyDictionary<string, IReadOnlyList<string>> upstream, params IReadOnlyList<string>[] stages) =>
        state.Apply(new PipelineRunStarted(pipelineRunId, pipelineRunId, RunMode.Incremental, null, stages, "test", At, null, upstream));

    public static PipelineRunnerState Skipped(this PipelineRunnerState state, string pipelineRunId, string processId, string reason) =>
        state.Apply(new ProcessSkippedInPipeline(pipelineRunId, processId, reason, At));

    public static PipelineRunnerState Running(this PipelineRunnerState state, string pipelineRunId, string processId) =>
        state.Apply(new ProcessRunStartedInPipeline(pipelineRunId, processId, $"r-{processId}", At));

    public static PipelineRunnerState Finished(this PipelineRunnerState state, string pipelineRunId, string processId, bool succeeded = true) =>
        state.Apply(new ProcessFinishedInPipeline(pipelineRunId, processId, succeeded, null, succeeded ? null : $"{processId}: failed", At));

    public static StartPhases Phase(this StartPhases phases, string pipelineRunId, string processId, StartPhase phase) =>
        phases.With(new ProcessInRun(pipelineRunId, processId), phase);
}
