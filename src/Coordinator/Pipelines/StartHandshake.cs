using Ferry.Shared.Processes;

namespace Ferry.Coordinator.Pipelines;

/// <summary>What the runner does next about a process of a run, after an answer about it.</summary>
public abstract record StartStep
{
    public sealed record Nothing : StartStep;

    /// <summary>Only worth a line in the log.</summary>
    public sealed record Note(string Text, bool Warning = false) : StartStep;

    /// <summary>The process accepted its StartRun: record the run it started.</summary>
    public sealed record Record(ProcessInRun Process, string RunId) : StartStep;

    /// <summary>Record the process's end in the run, with <see cref="Why"/> logged first if set.</summary>
    public sealed record Finish(ProcessInRun Process, bool Succeeded, RunSummary? Run, string? Error, string? Why = null) : StartStep;

    /// <summary>A slot may be free: see what can start.</summary>
    public sealed record Advance : StartStep;

    /// <summary>Processes wait to be checked: ask their status.</summary>
    public sealed record Check : StartStep;
}

/// <summary>The start phases after an answer, and the step to take.</summary>
public sealed record StartNext(StartPhases Phases, StartStep Step);

/// <summary>
/// How a pending process gets started without ever being started twice for one pipeline run: a StartRun
/// may reach it and its answer get lost (a timeout, the singleton moving), so a process whose answer is
/// unknown is asked its status first, and a run started for the pipeline run is taken over, not started again.
/// A process busy with another run waits until that run ends.
/// </summary>
public static class StartHandshake
{
    /// <summary>The answer to a StartRun (null when none came, with <paramref name="error"/>).</summary>
    public static StartNext Replied(StartPhases phases, PipelineRunnerState state, ProcessInRun process, object? reply, string? error)
    {
        var (prid, pid) = process;
        var run = state.Find(prid);
        var waits = run is { IsActive: true } && run.IsPending(pid);
        return reply switch
        {
            RunAccepted accepted when run?.IsPending(pid) != true => new(phases.Without(process),
                new StartStep.Note($"{pid}: run {accepted.RunId} accepted for pipeline run {prid}, which no longer waits for it", Warning: true)),
            // Recorded even when the run was cancelled meanwhile: the runner then stops it.
            RunAccepted accepted => new(phases.Without(process), new StartStep.Record(process, accepted.RunId)),
            RunRejected { ActiveRunId: { } other } busy when run?.IsActive == true => new(phases.With(process, StartPhase.Busy),
                new StartStep.Note($"{pid}: busy with run {other} ({busy.Reason}); pipeline {prid} waits for it")),
            RunRejected rejected when waits => new(phases.Without(process),
                new StartStep.Finish(process, false, null, $"{pid}: not started: {rejected.Reason}")),
            null when waits => new(phases.With(process, StartPhase.Unchecked),
                new StartStep.Note($"{pid}: no answer to StartRun for pipeline run {prid} ({error}); its status is checked before trying again", Warning: true)),
            _ => new(phases.Without(process), new StartStep.Nothing()),
        };
    }

    /// <summary>The status of a process that was being checked (null when none came, with <paramref name="error"/>).</summary>
    public static StartNext Checked(StartPhases phases, PipelineRunnerState state, ProcessInRun process, ProcessStatus? status, string? error)
    {
        if (phases[process] != StartPhase.Checking) return new(phases, new StartStep.Nothing());
        var run = state.Find(process.PipelineRunId);
        if (run is not { IsActive: true } || !run.IsPending(process.ProcessId)) return new(phases.Without(process), new StartStep.Nothing());
        return RunOutcome.BeforeStart(status, process.PipelineRunId) switch
        {
            RunOutcome.NoAnswer => new(phases.With(process, StartPhase.Unchecked),
                new StartStep.Note($"{process.ProcessId}: no status ({error}); asking again at the next poll", Warning: true)),
            // The StartRun of an earlier runner (or one whose answer was lost) did start it, and it already ended.
            RunOutcome.Ended ended => new(phases.Without(process), Adopt(process, ended.Run)),
            RunOutcome.Running => new(phases.With(process, StartPhase.Busy), new StartStep.Nothing()),
            _ => new(phases.Without(process), new StartStep.Advance()),
        };
    }

    /// <summary>A process entity reported that one of its runs ended.</summary>
    public static StartNext Finished(StartPhases phases, PipelineRunnerState state, string processId, RunSummary run)
    {
        if (state.Awaiting(processId, run.RunId) is { } tracked)
            return new(phases, new StartStep.Finish(new ProcessInRun(tracked.PipelineRunId, processId), run.Succeeded, run, run.Error));
        // A run this pipeline run started but never heard accepted (the runner moved, a reply was lost).
        if (run.PipelineRunId is { } prid && state.Find(prid) is { IsActive: true } mine && mine.IsPending(processId)
            && phases[new ProcessInRun(prid, processId)] != StartPhase.Starting)
            return new(phases.Without(new ProcessInRun(prid, processId)), Adopt(new ProcessInRun(prid, processId), run));
        // Someone else's run ended: whoever waited for this process may try now.
        var waiting = phases.BusyWith(processId);
        if (waiting.Count == 0) return new(phases, new StartStep.Nothing());
        return new(waiting.Aggregate(phases, (p, w) => p.With(w, StartPhase.Unchecked)), new StartStep.Check());
    }

    private static StartStep.Finish Adopt(ProcessInRun process, RunSummary run) => new(process, run.Succeeded, run, run.Error,
        $"{process.ProcessId}: run {run.RunId} was started for pipeline run {process.PipelineRunId} before the runner could record it; taking its result");
}
