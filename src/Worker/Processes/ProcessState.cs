using Ferry.Shared.Files;
using Ferry.Shared.Processes;
using Ferry.Shared.Stg;

namespace Ferry.Worker.Processes;

/// <summary>The run in progress: which step comes next, and (in each kind's record) what earlier steps produced.</summary>
public abstract record ActiveRun(string RunId, RunMode Mode, DateTimeOffset StartedAt, string? PipelineRunId, ProcessStep Step)
{
    /// <summary>Rows the run's extract wrote (STG runs that got past Extracting); null for the other kinds.</summary>
    public virtual long? RowsExtracted => null;
    /// <summary>Why an incremental STG run read the whole table (schema drift, full_every), or null.</summary>
    public virtual string? CompleteReason => null;

    /// <summary>The step whose success ends the run.</summary>
    public abstract ProcessStep FinalStep { get; }

    /// <summary>The run a <see cref="RunStarted"/> begins for a process of <paramref name="kind"/>, at the kind's first step.</summary>
    public static ActiveRun Start(ProcessKind kind, RunStarted s) => kind switch
    {
        ProcessKind.Stg => new StgRun(s.RunId, s.Mode, s.KeySweep, s.At, s.PipelineRunId, ProcessStep.Extracting),
        ProcessKind.Bl => new BlRun(s.RunId, s.Mode, s.At, s.PipelineRunId),
        ProcessKind.Files => new FilesRun(s.RunId, s.Mode, s.At, s.PipelineRunId, ProcessStep.Listing),
        ProcessKind.Verify => new VerifyRun(s.RunId, s.Mode, s.At, s.PipelineRunId, s.MaxAge),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };
}

/// <summary>An STG table's run: Extracting → Loading → Merging; the manifest and the load's outcome carry over between steps.</summary>
public sealed record StgRun(
    string RunId,
    RunMode Mode,
    bool? KeySweep,
    DateTimeOffset StartedAt,
    string? PipelineRunId,
    ProcessStep Step,
    Manifest? Manifest = null,
    long? LoadedRows = null,
    MergeCounts? MergedDirectly = null) : ActiveRun(RunId, Mode, StartedAt, PipelineRunId, Step)
{
    public override long? RowsExtracted => Manifest?.TotalRows;
    public override string? CompleteReason => Manifest?.CompleteReason;
    public override ProcessStep FinalStep => ProcessStep.Merging;
}

/// <summary>A BL transform's run: one Transforming step, nothing to carry over.</summary>
public sealed record BlRun(string RunId, RunMode Mode, DateTimeOffset StartedAt, string? PipelineRunId)
    : ActiveRun(RunId, Mode, StartedAt, PipelineRunId, ProcessStep.Transforming)
{
    public override ProcessStep FinalStep => ProcessStep.Transforming;
}

/// <summary>A verify process's run: one Verifying step (read-only, safe to repeat); <see cref="MaxAge"/> as the run was asked.</summary>
public sealed record VerifyRun(string RunId, RunMode Mode, DateTimeOffset StartedAt, string? PipelineRunId, TimeSpan? MaxAge)
    : ActiveRun(RunId, Mode, StartedAt, PipelineRunId, ProcessStep.Verifying)
{
    public override ProcessStep FinalStep => ProcessStep.Verifying;
}

/// <summary>A files process's run: Listing → Copying; the copy works from what the listing found, and when.</summary>
public sealed record FilesRun(
    string RunId,
    RunMode Mode,
    DateTimeOffset StartedAt,
    string? PipelineRunId,
    ProcessStep Step,
    long? ListedFiles = null,
    DateTimeOffset? ListedAt = null) : ActiveRun(RunId, Mode, StartedAt, PipelineRunId, Step)
{
    public override ProcessStep FinalStep => ProcessStep.Copying;
}

/// <summary>
/// A process entity's state: at most one active run, plus the last success and failure. Changed only
/// by <see cref="Apply"/>, which recovery replays, so a restarted entity is exactly where it was after
/// its last persisted step.
/// </summary>
public sealed record ProcessState(ActiveRun? Active, RunSummary? LastSuccess, RunSummary? LastFailure, ProcessKind Kind = ProcessKind.Stg)
{
    /// <summary>The state of a process of <paramref name="kind"/> before its first event.</summary>
    public static ProcessState Initial(ProcessKind kind) => new(null, null, null, kind);

    /// <summary>The state a snapshot saved (always between runs).</summary>
    public static ProcessState From(ProcessKind kind, ProcessSnapshot snapshot) => new(null, snapshot.LastSuccess, snapshot.LastFailure, kind);

    public ProcessStep Step => Active?.Step ?? ProcessStep.Idle;

    /// <summary>
    /// The entity persists an event only for its active run and its current step, and recovery replays
    /// exactly what it persisted (one writer per persistence id), so an event that does not fit is a bug
    /// or a damaged journal: it throws, which fails the recovery loudly instead of resuming from a wrong state.
    /// </summary>
    public ProcessState Apply(IProcessEvent e) => e switch
    {
        RunStarted s when Active is null => this with { Active = ActiveRun.Start(Kind, s) },
        Extracted x => this with { Active = Current<StgRun>(x, ProcessStep.Extracting) with { Step = ProcessStep.Loading, Manifest = x.Manifest } },
        Loaded l => this with
        {
            Active = Current<StgRun>(l, ProcessStep.Loading) with { Step = ProcessStep.Merging, LoadedRows = l.Rows, MergedDirectly = l.MergedDirectly },
        },
        FilesListed fl => this with { Active = Current<FilesRun>(fl, ProcessStep.Listing) with { Step = ProcessStep.Copying, ListedFiles = fl.Rows, ListedAt = fl.At } },
        RunSucceeded ok => this with { Active = null, LastSuccess = Summary(Current<ActiveRun>(ok, Active?.FinalStep), ok.At, true, ok.Counts, null, ok.Files) },
        RunFailed f => this with { Active = null, LastFailure = Summary(Current<ActiveRun>(f, null), f.At, false, MergeCounts.Zero, f.Error, f.Files) },
        _ => throw Unexpected(e),
    };

    /// <summary>What a snapshot keeps; only between runs (a run in progress is replayed from its events).</summary>
    public ProcessSnapshot ToSnapshot() => Active is null
        ? new ProcessSnapshot(LastSuccess, LastFailure)
        : throw new InvalidOperationException($"run {Active.RunId} is {Active.Step.ToString().ToLowerInvariant()}: a snapshot is taken only between runs");

    /// <summary>The active run, if <paramref name="e"/> is for it, it is of kind <typeparamref name="T"/>, and (when given) at <paramref name="step"/>.</summary>
    private T Current<T>(IProcessEvent e, ProcessStep? step) where T : ActiveRun =>
        Active is T run && run.RunId == e.RunId && (step is null || run.Step == step) ? run : throw Unexpected(e);

    private InvalidOperationException Unexpected(IProcessEvent e) => new(Active is null
        ? $"{e.GetType().Name} for run {e.RunId} while no run is active ({Kind} process)"
        : $"{e.GetType().Name} for run {e.RunId} while run {Active.RunId} of this {Kind} process is {Active.Step.ToString().ToLowerInvariant()}");

    private static RunSummary Summary(ActiveRun run, DateTimeOffset at, bool ok, MergeCounts counts, string? error, FileCopyCounts? files) =>
        new(run.RunId, run.Mode, run.StartedAt, at, ok, run.RowsExtracted ?? 0, counts, error, run.PipelineRunId, files);
}
