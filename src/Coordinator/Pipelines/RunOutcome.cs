using Ferry.Shared.Processes;

namespace Ferry.Coordinator.Pipelines;

/// <summary>What a process's status says to the pipeline runner about a run it waits for.</summary>
public abstract record RunOutcome
{
    /// <summary>No status came (a timeout, the worker moving): ask again.</summary>
    public sealed record NoAnswer : RunOutcome;

    /// <summary>The run ended, with its summary.</summary>
    public sealed record Ended(RunSummary Run, bool Succeeded) : RunOutcome;

    /// <summary>The process is running: the run waited for, or (before a start) another one.</summary>
    public sealed record Running : RunOutcome;

    /// <summary>
    /// The run ended but its summary is gone: the entity persists a run before accepting it, so a run it
    /// neither runs nor remembers has ended and a later run has replaced its summary.
    /// </summary>
    public sealed record Replaced : RunOutcome;

    /// <summary>Idle, and no run for this pipeline run ended there: it may be started.</summary>
    public sealed record Free : RunOutcome;

    /// <summary>
    /// A pending process that may have been sent a StartRun for <paramref name="pipelineRunId"/> already (by
    /// an earlier runner, or one whose answer was lost): its latest run for that pipeline run if one ended,
    /// else whether it is busy.
    /// </summary>
    public static RunOutcome BeforeStart(ProcessStatus? status, string pipelineRunId)
    {
        if (status is null) return new NoAnswer();
        var ended = new[] { status.LastSuccess, status.LastFailure }
            .Where(s => s?.PipelineRunId == pipelineRunId)
            .OrderByDescending(s => s!.FinishedAt)
            .FirstOrDefault();
        if (ended is not null) return new Ended(ended, ended.Succeeded);
        return status.ActiveRunId is not null ? new Running() : new Free();
    }

    /// <summary>How the process's run <paramref name="runId"/>, which the runner saw start, stands.</summary>
    public static RunOutcome OfRun(ProcessStatus? status, string runId)
    {
        if (status is null) return new NoAnswer();
        if (status.LastSuccess?.RunId == runId) return new Ended(status.LastSuccess, true);
        if (status.LastFailure?.RunId == runId) return new Ended(status.LastFailure, false);
        return status.ActiveRunId == runId ? new Running() : new Replaced();
    }
}
