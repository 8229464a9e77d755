using Ferry.Shared.Files;
using Ferry.Shared.Stg;

using Ferry.Shared.Serialization;

namespace Ferry.Shared.Processes;

/// <summary>Anything addressed to one process entity; the process id is the sharding entity id.</summary>
public interface IProcessCommand : IFerryMessage
{
    string ProcessId { get; }
}

/// <summary>Start a run unless one is active. Answered with <see cref="RunAccepted"/> or <see cref="RunRejected"/>.</summary>
/// <remarks><see cref="MaxAge"/> is for verify processes: differences in rows changed more recently are "in flight" (null: ferry's default).</remarks>
public sealed record StartRun(string ProcessId, RunMode Mode, bool? KeySweep = null, string? PipelineRunId = null, TimeSpan? MaxAge = null) : IProcessCommand;

public sealed record RunAccepted(string ProcessId, string RunId) : IFerryMessage;

/// <summary>The process is busy (or unknown): <see cref="ActiveRunId"/> says with what.</summary>
public sealed record RunRejected(string ProcessId, string Reason, string? ActiveRunId) : IFerryMessage;

public sealed record GetProcessStatus(string ProcessId) : IProcessCommand;

public sealed record CancelRun(string ProcessId) : IProcessCommand;

public sealed record CancelAccepted(string ProcessId, string? RunId) : IFerryMessage;

/// <summary>
/// Where a process is. STG processes go Extracting → Loading → Merging, BL processes Transforming,
/// files processes Listing → Copying, verify processes Verifying; every process is Idle between runs.
/// </summary>
public enum ProcessStep { Idle, Extracting, Loading, Merging, Transforming, Listing, Copying, Verifying }

/// <summary>The kinds of process, told apart by the first part of the id: three that move data, and verify, which compares it.</summary>
public enum ProcessKind { Stg, Bl, Files, Verify }

public static class ProcessKinds
{
    /// <summary>stg.qvp.users → Stg, bl.unipacc.users → Bl, files.qvp → Files, verify.qvp.users → Verify; null for anything else.</summary>
    public static ProcessKind? Of(string processId) => processId.Split('.', 2)[0] switch
    {
        "stg" => ProcessKind.Stg,
        "bl" => ProcessKind.Bl,
        "files" => ProcessKind.Files,
        "verify" => ProcessKind.Verify,
        _ => null,
    };
}

/// <summary>What a process is doing and what it last did; <see cref="Progress"/> is the running step's latest report (null when idle or before its first).</summary>
public sealed record ProcessStatus(
    string ProcessId,
    ProcessStep Step,
    string? ActiveRunId,
    RunMode? ActiveMode,
    DateTimeOffset? ActiveSince,
    int Attempt,
    string? LastError,
    RunSummary? LastSuccess,
    RunSummary? LastFailure,
    string? Node,
    StepProgress? Progress = null) : IFerryMessage;

/// <summary>A finished run: when, how it ended, and what it did.</summary>
public sealed record RunSummary(
    string RunId,
    RunMode Mode,
    DateTimeOffset StartedAt,
    DateTimeOffset FinishedAt,
    bool Succeeded,
    long RowsExtracted,
    MergeCounts Counts,
    string? Error,
    string? PipelineRunId,
    FileCopyCounts? Files = null);

/// <summary>Sent by a process to the pipeline runner when one of its runs ends.</summary>
public sealed record ProcessRunFinished(string ProcessId, RunSummary Run) : IFerryMessage;
