using System.Text.Json.Serialization;
using Ferry.Shared.Processes;
using Ferry.Shared.Serialization;
using Ferry.Shared.Stg;

namespace Ferry.Coordinator.Pipelines;

/// <summary>What the pipeline runner persists; <see cref="PipelineRunnerState.Apply"/> replays them on recovery.</summary>
public interface IPipelineEvent : IFerryMessage;

/// <summary>
/// A pipeline run was accepted with its plan: stages in sequence, the processes of a stage in parallel.
/// Journals written before stages were named so call them "groups"; the name stays. <see cref="Upstream"/>
/// is each BL process's BL parents in the plan (see <see cref="PipelinePlan.Upstream"/>); null in journals
/// written before processes were skipped, whose runs then skip nothing. <see cref="MaxAge"/> is what its verify
/// processes are started with (null: their default).
/// </summary>
public sealed record PipelineRunStarted(
    string PipelineRunId,
    string Name,
    RunMode Mode,
    bool? KeySweep,
    [property: JsonPropertyName("groups")] IReadOnlyList<IReadOnlyList<string>> Stages,
    string RequestedBy,
    DateTimeOffset At,
    DateTimeOffset? ScheduledFor = null,
    IReadOnlyDictionary<string, IReadOnlyList<string>>? Upstream = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] TimeSpan? MaxAge = null) : IPipelineEvent;

/// <summary>A process accepted its StartRun: <see cref="RunId"/> is the process's own run id, which the runner polls for.</summary>
public sealed record ProcessRunStartedInPipeline(string PipelineRunId, string ProcessId, string RunId, DateTimeOffset At) : IPipelineEvent;

/// <summary>
/// A process of the run ended: with its run's summary, or with only an error when it never started
/// (unknown to the process entity) or its outcome could not be known.
/// </summary>
public sealed record ProcessFinishedInPipeline(
    string PipelineRunId,
    string ProcessId,
    bool Succeeded,
    RunSummary? Run,
    string? Error,
    DateTimeOffset At) : IPipelineEvent;

/// <summary>
/// A pending process of the run will not run in it: an upstream process failed or was skipped
/// (<see cref="Reason"/>: <c>skipped: bl.unipacc.users failed</c>). It runs again in the next run.
/// </summary>
public sealed record ProcessSkippedInPipeline(string PipelineRunId, string ProcessId, string Reason, DateTimeOffset At) : IPipelineEvent;

/// <summary>The run is over: Succeeded, Failed (some process failed; all the others still ran but those downstream of a failed BL process) or Cancelled.</summary>
public sealed record PipelineRunFinished(string PipelineRunId, PipelineRunState State, string? Reason, DateTimeOffset At) : IPipelineEvent;

/// <summary>A scheduled start found the pipeline still running and was skipped (kept so a restart does not make it up).</summary>
public sealed record ScheduledRunSkipped(string Pipeline, DateTimeOffset Occurrence, string ActivePipelineRunId, DateTimeOffset At) : IPipelineEvent;
