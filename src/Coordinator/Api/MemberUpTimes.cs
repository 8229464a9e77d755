using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Cluster;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Ferry.Coordinator.Api;

/// <summary>
/// When each cluster member came up, as seen from this coordinator: Akka's membership carries no
/// timestamps, so a small subscriber notes the time of every MemberUp from start-up on. Members that were
/// already up when the coordinator started have no time (they are in the initial snapshot).
/// </summary>
public sealed class MemberUpTimes(IServiceProvider services) : IHostedService
{
    private readonly ConcurrentDictionary<UniqueAddress, DateTimeOffset> _upSince = new();
    private IActorRef? _subscriber;

    public DateTimeOffset? UpSince(UniqueAddress member) => _upSince.TryGetValue(member, out var at) ? at : null;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var system = services.GetRequiredService<ActorSystem>();
        _subscriber = system.ActorOf(Props.Create(() => new Subscriber(_upSince)), "api-member-up-times");
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _subscriber?.Tell(PoisonPill.Instance);
        return Task.CompletedTask;
    }

    private sealed class Subscriber : ReceiveActor
    {
        public Subscriber(ConcurrentDictionary<UniqueAddress, DateTimeOffset> upSince)
        {
            Receive<ClusterEvent.CurrentClusterState>(_ => { });
            Receive<ClusterEvent.MemberUp>(e => upSince[e.Member.UniqueAddress] = DateTimeOffset.UtcNow);
            Receive<ClusterEvent.MemberRemoved>(e => upSince.TryRemove(e.Member.UniqueAddress, out _));
        }

        protected override void PreStart() => Akka.Cluster.Cluster.Get(Context.System)
            .Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot, typeof(ClusterEvent.MemberUp), typeof(ClusterEvent.MemberRemoved));

        protected override void PostStop() => Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);
    }
}
