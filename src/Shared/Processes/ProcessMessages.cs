using Ferry.Shared.Serialization;

namespace Ferry.Shared.Processes;

/// <summary>The aliases of the process and pipeline protocols and of the process entity's events (see <see cref="FerryMessageTypes"/>).</summary>
public static class ProcessMessages
{
    public static FerryMessageTypes Types { get; } = FerryMessageTypes.Of(
        ("start-run", typeof(StartRun)),
        ("run-accepted", typeof(RunAccepted)),
        ("run-rejected", typeof(RunRejected)),
        ("get-process-status", typeof(GetProcessStatus)),
        ("process-status", typeof(ProcessStatus)),
        ("cancel-run", typeof(CancelRun)),
        ("cancel-accepted", typeof(CancelAccepted)),
        ("process-run-finished", typeof(ProcessRunFinished)),
        ("ev-run-started", typeof(RunStarted)),
        ("ev-extracted", typeof(Extracted)),
        ("ev-loaded", typeof(Loaded)),
        ("ev-files-listed", typeof(FilesListed)),
        ("ev-run-succeeded", typeof(RunSucceeded)),
        ("ev-run-failed", typeof(RunFailed)),
        ("snap-process", typeof(ProcessSnapshot)),
        ("run-targets", typeof(RunTargets)),
        ("pipeline-run-accepted", typeof(PipelineRunAccepted)),
        ("pipeline-run-rejected", typeof(PipelineRunRejected)),
        ("get-pipeline-run", typeof(GetPipelineRun)),
        ("list-pipeline-runs", typeof(ListPipelineRuns)),
        ("cancel-pipeline-run", typeof(CancelPipelineRun)),
        ("pipeline-run-status", typeof(PipelineRunStatus)),
        ("pipeline-run-list", typeof(PipelineRunList)),
        ("pipeline-run-not-found", typeof(PipelineRunNotFound)));
}
