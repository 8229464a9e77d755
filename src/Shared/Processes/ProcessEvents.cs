using Ferry.Shared.Files;
using Ferry.Shared.Stg;

using Ferry.Shared.Serialization;

namespace Ferry.Shared.Processes;

/// <summary>What a process entity persists: one event per completed step, so a restarted entity resumes after the last one.</summary>
public interface IProcessEvent : IFerryMessage
{
    /// <summary>The run the event belongs to: a process has at most one run in progress, and every event is for it.</summary>
    string RunId { get; }
}

/// <summary>A run began; <see cref="MaxAge"/> is a verify run's in-flight window (null: the default, and for every other kind).</summary>
public sealed record RunStarted(string RunId, RunMode Mode, bool? KeySweep, DateTimeOffset At, string? PipelineRunId,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] TimeSpan? MaxAge = null) : IProcessEvent;

public sealed record Extracted(string RunId, Manifest Manifest, TimeSpan Took) : IProcessEvent;

public sealed record Loaded(string RunId, long Rows, MergeCounts? MergedDirectly, TimeSpan Took) : IProcessEvent;

/// <summary>A files run listed its objects (<paramref name="Rows"/> of them, at <paramref name="At"/>: the incremental window counts back from then).</summary>
public sealed record FilesListed(string RunId, long Rows, DateTimeOffset At, TimeSpan Took) : IProcessEvent;

/// <summary>The run ended well: rows merged (STG, BL) or, for a files process, the files handled.</summary>
public sealed record RunSucceeded(string RunId, MergeCounts Counts, DateTimeOffset At, FileCopyCounts? Files = null) : IProcessEvent;

/// <summary>The run ended badly; a files run that failed some files still says what it copied.</summary>
public sealed record RunFailed(string RunId, string Error, DateTimeOffset At, FileCopyCounts? Files = null) : IProcessEvent;

/// <summary>
/// A process entity's state between runs, saved every few events (ferry.process.snapshot-every) so that
/// recovery reads it and the events after it, not every run since the first. Taken only when no run is in
/// progress, so it holds no run's intermediate results: a run in progress is always replayed from its events.
/// </summary>
public sealed record ProcessSnapshot(RunSummary? LastSuccess, RunSummary? LastFailure) : IFerryMessage;
