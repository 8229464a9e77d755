using Ferry.Shared.Stg;

using Ferry.Shared.Serialization;

namespace Ferry.Shared.Processes;

/// <summary>
/// Run what the targets name: pipeline names (groups in sequence), group names (processes in parallel),
/// process ids or patterns (one group). Answered with <see cref="PipelineRunAccepted"/> or <see cref="PipelineRunRejected"/>.
/// </summary>
public sealed record RunTargets(IReadOnlyList<string> Targets, RunMode Mode, bool? KeySweep = null, string RequestedBy = "api") : IFerryMessage;

public sealed record PipelineRunAccepted(string PipelineRunId, string Name, IReadOnlyList<IReadOnlyList<string>> Plan) : IFerryMessage;

public sealed record PipelineRunRejected(string Reason, string? ActivePipelineRunId = null) : IFerryMessage;

public sealed record GetPipelineRun(string PipelineRunId) : IFerryMessage;

public sealed record ListPipelineRuns(int Limit = 20) : IFerryMessage;

public sealed record CancelPipelineRun(string PipelineRunId) : IFerryMessage;

public enum PipelineRunState { Running, Succeeded, Failed, Cancelled }

public enum ProcessRunState { Pending, Running, Succeeded, Failed }

/// <summary>One process within a pipeline run.</summary>
public sealed record PipelineProcess(string ProcessId, int Group, ProcessRunState State, string? RunId, RunSummary? Result, string? Error);

public sealed record PipelineRunStatus(
    string PipelineRunId,
    string Name,
    RunMode Mode,
    PipelineRunState State,
    DateTimeOffset StartedAt,
    DateTimeOffset? FinishedAt,
    int CurrentGroup,
    int Groups,
    IReadOnlyList<PipelineProcess> Processes) : IFerryMessage;

public sealed record PipelineRunList(IReadOnlyList<PipelineRunStatus> Runs) : IFerryMessage;

/// <summary>No such pipeline run.</summary>
public sealed record PipelineRunNotFound(string PipelineRunId) : IFerryMessage;
