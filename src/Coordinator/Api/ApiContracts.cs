using Ferry.Shared.Processes;
using Ferry.Shared.Stg;
using Ferry.Shared.History;

namespace Ferry.Coordinator.Api;

// What the HTTP API sends and receives besides the actor protocol's own records (which it returns as they are).

/// <summary>POST /api/runs: what to run (pipelines, groups, process ids or patterns) and how; <see cref="MaxAgeSeconds"/> for verify processes.</summary>
public sealed record RunRequest(IReadOnlyList<string>? Targets, RunMode Mode = RunMode.Incremental, bool? KeySweep = null, double? MaxAgeSeconds = null);

/// <summary>Every failed request: one line a person can act on.</summary>
public sealed record ApiError(string Error);

/// <summary>409 from POST /api/runs: the pipeline runner's reason, and the run in the way if there is one.</summary>
public sealed record RunRejection(string Error, string Reason, string? ActivePipelineRunId);

/// <summary>One process of the metadata: its status, or <see cref="Answered"/> false when it did not answer in time.</summary>
public sealed record ProcessEntry(string ProcessId, bool Answered, ProcessStatus? Status);

public sealed record ProcessList(IReadOnlyList<ProcessEntry> Processes);

public sealed record HistoryList(IReadOnlyList<RunHistory.Row> Runs);

/// <summary>A cluster member as this coordinator sees it. <see cref="UpSince"/> is when the coordinator saw it come up; null if it was up before.</summary>
public sealed record ClusterMember(string Address, IReadOnlyList<string> Roles, string Status, bool Reachable, DateTimeOffset? UpSince);

public sealed record ClusterMembership(string Self, string? Leader, IReadOnlyList<ClusterMember> Members, IReadOnlyList<string> Unreachable);

/// <summary>The body of POST /api/cluster/down.</summary>
public sealed record MemberAddress(string Address);

/// <summary>The shards and entities one node hosts for one entity type; <see cref="FailedShards"/> did not answer the count.</summary>
public sealed record NodeShards(string Address, int Shards, int Entities, IReadOnlyList<string> FailedShards);

public sealed record ShardRegionOverview(string TypeName, int Shards, int Entities, IReadOnlyList<NodeShards> Nodes);

public sealed record ShardingOverview(IReadOnlyList<ShardRegionOverview> Regions);
