using Ferry.Shared.Serialization;

namespace Ferry.Coordinator.Pipelines;

/// <summary>The aliases of what the pipeline runner persists (see <see cref="FerryMessageTypes"/>); only coordinators need them.</summary>
public static class PipelineMessages
{
    public static FerryMessageTypes Types { get; } = FerryMessageTypes.Of(
        ("ev-pipeline-run-started", typeof(PipelineRunStarted)),
        ("ev-process-run-started-in-pipeline", typeof(ProcessRunStartedInPipeline)),
        ("ev-process-finished-in-pipeline", typeof(ProcessFinishedInPipeline)),
        ("ev-process-skipped-in-pipeline", typeof(ProcessSkippedInPipeline)),
        ("ev-pipeline-run-finished", typeof(PipelineRunFinished)),
        ("ev-scheduled-run-skipped", typeof(ScheduledRunSkipped)),
        ("snap-pipeline-runner", typeof(PipelineRunnerState)));
}
