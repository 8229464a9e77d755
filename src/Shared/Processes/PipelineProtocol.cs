using System.Text.Json.Serialization;
using Ferry.Shared.Serialization;
using Ferry.Shared.Stg;

namespace Ferry.Shared.Processes;

/// <summary>
/// Run what the targets name: pipeline names (their steps as stages in sequence), group names (one stage,
/// its processes in parallel), process ids or patterns (one stage). Answered with <see cref="PipelineRunAccepted"/>
/// or <see cref="PipelineRunRejected"/>. <see cref="MaxAge"/> goes to the run's verify processes (null: their default).
/// </summary>
public sealed record RunTargets(IReadOnlyList<string> Targets, RunMode Mode, bool? KeySweep = null, string RequestedBy = "api", TimeSpan? MaxAge = null) : IFerryMessage;

/// <summary>The run was started; <see cref="Plan"/> is its stages in sequence, each a list of process ids that run in parallel.</summary>
public sealed record PipelineRunAccepted(string PipelineRunId, string Name, IReadOnlyList<IReadOnlyList<string>> Plan) : IFerryMessage;

public sealed record PipelineRunRejected(string Reason, string? ActivePipelineRunId = null) : IFerryMessage;

public sealed record GetPipelineRun(string PipelineRunId) : IFerryMessage;

public sealed record ListPipelineRuns(int Limit = 20) : IFerryMessage;

/// <summary>
/// Cancel a pipeline run: it starts no more processes and tells its running ones to stop. Answered with the
/// run's <see cref="PipelineRunStatus"/> as it stands after the cancel (unchanged if it had already ended)
/// or <see cref="PipelineRunNotFound"/>.
/// </summary>
public sealed record CancelPipelineRun(string PipelineRunId) : IFerryMessage;

public enum PipelineRunState { Running, Succeeded, Failed, Cancelled }

/// <summary>Skipped: not run in this pipeline run because a BL process upstream of it failed (or was skipped); it counts as finished.</summary>
public enum ProcessRunState { Pending, Running, Succeeded, Failed, Skipped }

/// <summary>One process within a pipeline run; <see cref="Stage"/> is the 0-based stage of the plan it runs in.</summary>
public sealed record PipelineProcess(string ProcessId, int Stage, ProcessRunState State, string? RunId, RunSummary? Result, string? Error)
{
    /// <summary>
    /// Snapshots of the pipeline runner written before stages were named so call the stage "group": read
    /// it from there, never write it.
    /// </summary>
    [JsonInclude, JsonPropertyName("group"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    private int? GroupOfOldSnapshots
    {
        get => null;
        init
        {
            if (value is { } stage) Stage = stage;
        }
    }
}

/// <summary>
/// Where a pipeline run stands: <see cref="CurrentStage"/> is the 0-based stage under way (<see cref="Stages"/>
/// once every process finished), <see cref="Processes"/> are in plan order.
/// </summary>
public sealed record PipelineRunStatus(
    string PipelineRunId,
    string Name,
    RunMode Mode,
    PipelineRunState State,
    DateTimeOffset StartedAt,
    DateTimeOffset? FinishedAt,
    int CurrentStage,
    int Stages,
    IReadOnlyList<PipelineProcess> Processes) : IFerryMessage;

public sealed record PipelineRunList(IReadOnlyList<PipelineRunStatus> Runs) : IFerryMessage;

/// <summary>No such pipeline run.</summary>
public sealed record PipelineRunNotFound(string PipelineRunId) : IFerryMessage;
