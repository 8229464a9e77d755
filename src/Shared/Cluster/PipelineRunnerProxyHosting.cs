using System.Runtime.CompilerServices;
using Akka.Cluster.Hosting;
using Akka.Hosting;

namespace Ferry.Shared.Cluster;

/// <summary>
/// The pipeline runner is a cluster singleton on the coordinator role; every node that talks to it (the
/// coordinator's API, a worker's entities reporting finished runs) does so through one proxy, registered
/// under <see cref="PipelineRunnerProxy"/>. Whichever role asks first registers it; a node with both roles
/// still has one.
/// </summary>
public static class PipelineRunnerProxyHosting
{
    /// <summary>Name of the runner's singleton (and of its proxies on other nodes).</summary>
    public const string SingletonName = "pipeline-runner";

    private static readonly ConditionalWeakTable<AkkaConfigurationBuilder, object> Registered = new();

    public static AkkaConfigurationBuilder WithPipelineRunnerProxy(this AkkaConfigurationBuilder builder)
    {
        if (Registered.TryGetValue(builder, out _)) return builder;
        Registered.Add(builder, new object());
        return builder.WithSingletonProxy<PipelineRunnerProxy>(SingletonName, new ClusterSingletonOptions { Role = FerryNode.CoordinatorRole });
    }
}
