using Akka.Cluster.Hosting;
using Akka.Hosting;
using Ferry.Shared.Bl;
using Ferry.Shared.Cluster;
using Ferry.Shared.Metadata;
using Ferry.Shared.Serialization;

namespace Ferry.Coordinator.Pipelines;

/// <summary>How a coordinator hosts the pipeline runner.</summary>
public static class PipelineRunnerHosting
{
    /// <summary>
    /// The runner as a cluster singleton on the coordinator role, its persisted types bound to Ferry's
    /// serializer, and a proxy to it under the registry key <see cref="PipelineRunnerProxy"/> (send
    /// RunTargets, GetPipelineRun … there). The runner sends its StartRun to the process shard region (or
    /// its proxy) registered under <see cref="ProcessRegion"/>.
    /// </summary>
    public static AkkaConfigurationBuilder AddPipelineRunner(this AkkaConfigurationBuilder builder, MigrationMetadata metadata,
        TimeSpan? pollInterval = null)
    {
        builder.AddFerrySerialization(PipelineMessages.Types);
        builder.WithSingleton<PipelineRunnerSingleton>(
            PipelineRunnerProxyHosting.SingletonName,
            (_, registry, _) => PipelineRunner.Props(metadata, registry.Get<ProcessRegion>(), pollInterval: pollInterval,
                foreignKeys: metadata.Transforms.Count == 0 ? null
                    : ct => TransformPlan.ReadForeignKeysAsync(metadata.Target.ToConnectionString("ferry coordinator"), ct)),
            new ClusterSingletonOptions { Role = FerryNode.CoordinatorRole },
            createProxyToo: false);
        return builder.WithPipelineRunnerProxy();
    }

    /// <summary>Registry key of the singleton manager (the proxy is what the rest of the node uses).</summary>
    private sealed class PipelineRunnerSingleton;
}
