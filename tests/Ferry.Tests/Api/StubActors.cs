using System.Collections.Concurrent;
using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Ferry.Shared.Processes;
using Ferry.Shared.Stg;

namespace Ferry.Tests.Api;

/// <summary>
/// Stands in for the process shard region: answers the process protocol from canned statuses, never
/// answers for <see cref="SilentProcess"/>, and answers the sharding statistics query with two workers.
/// The API tests exercise the HTTP layer; the entities themselves have their own tests.
/// </summary>
public sealed class StubProcessRegion : ReceiveActor
{
    public const string SilentProcess = "stg.svp.slow";

    public static readonly DateTimeOffset At = new(2025, 3, 1, 6, 0, 0, TimeSpan.Zero);

    public static ProcessStatus StatusOf(string processId) => processId switch
    {
        "stg.qvp.users" => new ProcessStatus(processId, ProcessStep.Idle, null, null, null, 0, null,
            new RunSummary("r-users-1", RunMode.Bulk, At, At.AddMinutes(2), true, 1000, new MergeCounts(1000, 0, 0, 0), null, "pr-1"), null, "akka.tcp://ferry@w1:4053"),
        _ => new ProcessStatus(processId, ProcessStep.Loading, "r-orders-2", RunMode.Incremental, At, 2, "connection reset", null,
            new RunSummary("r-orders-1", RunMode.Bulk, At, At.AddMinutes(1), false, 0, MergeCounts.Zero, "stg.qvp.orders: load failed: part-00003.csv.gz is truncated", null),
            "akka.tcp://ferry@w2:4053"),
    };

    public static ClusterShardingStats Stats { get; } = new(ImmutableDictionary<Address, ShardRegionStats>.Empty
        .Add(Address.Parse("akka.tcp://ferry@w1:4053"), new ShardRegionStats(ImmutableDictionary<string, int>.Empty.Add("1", 3).Add("2", 1), ImmutableHashSet<string>.Empty))
        .Add(Address.Parse("akka.tcp://ferry@w2:4053"), new ShardRegionStats(ImmutableDictionary<string, int>.Empty.Add("3", 2), ImmutableHashSet.Create("4"))));

    public StubProcessRegion()
    {
        Receive<GetProcessStatus>(g =>
        {
            if (g.ProcessId != SilentProcess) Sender.Tell(StatusOf(g.ProcessId));
        });
        Receive<GetClusterShardingStats>(_ => Sender.Tell(Stats));
    }
}

/// <summary>
/// Stands in for the pipeline runner singleton: accepts any targets but "busy", and plays a scripted
/// life for a few run ids: pr-ok succeeds on the third poll, pr-fail fails on the second, pr-known never
/// changes, pr-cancel is cancelled when asked. Every <see cref="RunTargets"/> it receives is kept.
/// </summary>
public sealed class StubPipelineRunner : ReceiveActor
{
    public static readonly DateTimeOffset At = new(2025, 3, 1, 6, 0, 0, TimeSpan.Zero);

    public static IReadOnlyList<IReadOnlyList<string>> Plan { get; } = [["stg.qvp.users", "stg.qvp.orders"], ["stg.svp.slow"]];

    private readonly Dictionary<string, int> _polls = new();
    private readonly HashSet<string> _cancelled = [];

    public StubPipelineRunner(ConcurrentQueue<RunTargets> received)
    {
        Receive<RunTargets>(t =>
        {
            received.Enqueue(t);
            if (t.Targets.Contains("busy"))
                Sender.Tell(new PipelineRunRejected("stg.qvp.users is already running in pipeline run pr-busy", "pr-busy"));
            else
                Sender.Tell(new PipelineRunAccepted($"pr-{t.Targets[0]}", t.Targets[0], Plan));
        });
        Receive<GetPipelineRun>(g =>
        {
            var polls = _polls[g.PipelineRunId] = _polls.GetValueOrDefault(g.PipelineRunId) + 1;
            object answer = g.PipelineRunId switch
            {
                "pr-known" => Known,
                "pr-ok" => polls < 3 ? Running("pr-ok") : Succeeded,
                "pr-fail" => polls < 2 ? Running("pr-fail") : Failed,
                "pr-cancel" => _cancelled.Contains("pr-cancel") ? Running("pr-cancel") with { State = PipelineRunState.Cancelled, FinishedAt = At.AddMinutes(1) } : Running("pr-cancel"),
                _ => new PipelineRunNotFound(g.PipelineRunId),
            };
            Sender.Tell(answer);
        });
        Receive<ListPipelineRuns>(l => Sender.Tell(new PipelineRunList(new[] { Known, Failed }.Take(l.Limit).ToList())));
        Receive<CancelPipelineRun>(c =>
        {
            if (c.PipelineRunId != "pr-cancel")
            {
                Sender.Tell(new PipelineRunNotFound(c.PipelineRunId));
                return;
            }
            _cancelled.Add(c.PipelineRunId);
            Sender.Tell(Running("pr-cancel") with { State = PipelineRunState.Cancelled, FinishedAt = At.AddMinutes(1) });
        });
    }

    private static RunSummary Result(string processId, long inserted, bool ok = true) =>
        new($"r-{processId}", RunMode.Incremental, At, At.AddSeconds(42), ok, inserted + 10, new MergeCounts(inserted, 3, 1, 10),
            ok ? null : $"{processId}: merge failed: duplicate key in source", "pr-x");

    public static PipelineRunStatus Known { get; } = new("pr-known", "daily", RunMode.Bulk, PipelineRunState.Succeeded, At, At.AddMinutes(3), 1, 2,
    [
        new PipelineProcess("stg.qvp.users", 0, ProcessRunState.Succeeded, "r-stg.qvp.users", Result("stg.qvp.users", 1000), null),
        new PipelineProcess("stg.svp.slow", 1, ProcessRunState.Succeeded, "r-stg.svp.slow", Result("stg.svp.slow", 5), null),
    ]);

    private static PipelineRunStatus Running(string id) => new(id, id[3..], RunMode.Incremental, PipelineRunState.Running, At, null, 0, 2,
    [
        new PipelineProcess("stg.qvp.users", 0, ProcessRunState.Running, "r-stg.qvp.users", null, null),
        new PipelineProcess("stg.qvp.orders", 0, ProcessRunState.Pending, null, null, null),
        new PipelineProcess("stg.svp.slow", 1, ProcessRunState.Pending, null, null, null),
    ]);

    private static PipelineRunStatus Succeeded { get; } = new("pr-ok", "ok", RunMode.Incremental, PipelineRunState.Succeeded, At, At.AddMinutes(2), 1, 2,
    [
        new PipelineProcess("stg.qvp.users", 0, ProcessRunState.Succeeded, "r-stg.qvp.users", Result("stg.qvp.users", 1234), null),
        new PipelineProcess("stg.qvp.orders", 0, ProcessRunState.Succeeded, "r-stg.qvp.orders", Result("stg.qvp.orders", 77), null),
        new PipelineProcess("stg.svp.slow", 1, ProcessRunState.Succeeded, "r-stg.svp.slow", Result("stg.svp.slow", 5), null),
    ]);

    private static PipelineRunStatus Failed { get; } = new("pr-fail", "fail", RunMode.Incremental, PipelineRunState.Failed, At, At.AddMinutes(1), 0, 2,
    [
        new PipelineProcess("stg.qvp.users", 0, ProcessRunState.Succeeded, "r-stg.qvp.users", Result("stg.qvp.users", 1234), null),
        new PipelineProcess("stg.qvp.orders", 0, ProcessRunState.Failed, "r-stg.qvp.orders", Result("stg.qvp.orders", 0, ok: false),
            "stg.qvp.orders: merge failed: duplicate key in source"),
        new PipelineProcess("stg.svp.slow", 1, ProcessRunState.Pending, null, null, null),
    ]);
}
