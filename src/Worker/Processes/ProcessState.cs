using Ferry.Shared.Files;
using Ferry.Shared.Processes;
using Ferry.Shared.Stg;

namespace Ferry.Worker.Processes;

/// <summary>The run in progress: which step comes next, and what earlier steps produced.</summary>
public sealed record ActiveRun(
    string RunId,
    RunMode Mode,
    bool? KeySweep,
    DateTimeOffset StartedAt,
    string? PipelineRunId,
    ProcessStep Step,
    Manifest? Manifest = null,
    long? LoadedRows = null,
    MergeCounts? MergedDirectly = null,
    TimeSpan ExtractTook = default,
    TimeSpan LoadTook = default,
    long? ListedFiles = null,
    DateTimeOffset? ListedAt = null);

/// <summary>
/// A process entity's state: at most one active run, plus the last success and failure. Changed only
/// by <see cref="Apply"/>, which recovery replays, so a restarted entity is exactly where it was after
/// its last persisted step.
/// </summary>
public sealed record ProcessState(ActiveRun? Active, RunSummary? LastSuccess, RunSummary? LastFailure, ProcessKind Kind = ProcessKind.Stg)
{
    public static ProcessState Empty { get; } = new(null, null, null);

    /// <summary>The state of a process of <paramref name="kind"/> before its first event.</summary>
    public static ProcessState Initial(ProcessKind kind) => new(null, null, null, kind);

    public ProcessStep Step => Active?.Step ?? ProcessStep.Idle;

    public ProcessState Apply(IProcessEvent e) => e switch
    {
        RunStarted s => this with { Active = new ActiveRun(s.RunId, s.Mode, s.KeySweep, s.At, s.PipelineRunId, Kind.FirstStep()) },
        Extracted x when Active?.RunId == x.RunId => this with { Active = Active with { Step = ProcessStep.Loading, Manifest = x.Manifest, ExtractTook = x.Took } },
        FilesListed fl when Active?.RunId == fl.RunId => this with { Active = Active with { Step = ProcessStep.Copying, ListedFiles = fl.Rows, ListedAt = fl.At } },
        Loaded l when Active?.RunId == l.RunId =>
            this with { Active = Active with { Step = ProcessStep.Merging, LoadedRows = l.Rows, MergedDirectly = l.MergedDirectly, LoadTook = l.Took } },
        RunSucceeded ok when Active?.RunId == ok.RunId => this with { Active = null, LastSuccess = Summary(Active, ok.At, true, ok.Counts, null, ok.Files) },
        RunFailed f when Active?.RunId == f.RunId => this with { Active = null, LastFailure = Summary(Active, f.At, false, MergeCounts.Zero, f.Error, f.Files) },
        _ => this,
    };

    private static RunSummary Summary(ActiveRun run, DateTimeOffset at, bool ok, MergeCounts counts, string? error, FileCopyCounts? files) =>
        new(run.RunId, run.Mode, run.StartedAt, at, ok, run.Manifest?.TotalRows ?? 0, counts, error, run.PipelineRunId, files);
}
