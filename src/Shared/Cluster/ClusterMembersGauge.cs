using Akka.Actor;
using Ferry.Shared.Metrics;

namespace Ferry.Shared.Cluster;

/// <summary>
/// Every node's view of the cluster for ferry_cluster_members {status} and ferry_cluster_unreachable_members:
/// read from Akka.Cluster's state every few seconds, which costs nothing and never misses a change the way a
/// missed event would.
/// </summary>
public sealed class ClusterMembersGauge : ReceiveActor, IWithTimers
{
    public const string Name = "cluster-members-gauge";

    private static readonly TimeSpan Every = TimeSpan.FromSeconds(5);

    public ITimerScheduler Timers { get; set; } = null!;

    private sealed record Read
    {
        public static readonly Read Instance = new();
    }

    public ClusterMembersGauge()
    {
        Receive<Read>(_ =>
        {
            var state = Akka.Cluster.Cluster.Get(Context.System).State;
            var byStatus = state.Members.GroupBy(m => m.Status.ToString().ToLowerInvariant()).ToDictionary(g => g.Key, g => g.Count());
            FerryMetrics.Cluster(byStatus, state.Unreachable.Count);
        });
    }

    protected override void PreStart() => Timers.StartPeriodicTimer(Read.Instance, Read.Instance, TimeSpan.Zero, Every);
}
