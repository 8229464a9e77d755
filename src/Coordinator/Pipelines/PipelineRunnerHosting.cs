using Akka.Cluster.Hosting;
using Akka.Hosting;
using Ferry.Shared.Bl;
using Ferry.Shared.Cluster;
using Ferry.Shared.Metadata;
using Ferry.Worker.Processes;

namespace Ferry.Coordinator.Pipelines;

/// <summary>How a node hosts the pipeline runner (coordinator) or reaches it (worker).</summary>
public static class PipelineRunnerHosting
{
    /// <summary>
    /// Coordinator: the runner as a cluster singleton on the coordinator role, and a proxy to it under the
    /// registry key <see cref="PipelineRunnerProxy"/> (send RunTargets, GetPipelineRun … there). Call it after
    /// the process shard region (or its proxy) is registered under <see cref="ProcessRegion"/>: the runner
    /// sends its StartRun there. On a node that is also a worker, pass its <paramref name="services"/> so
    /// its process entities report finished runs to the runner.
    /// </summary>
    public static AkkaConfigurationBuilder AddPipelineRunner(this AkkaConfigurationBuilder builder, MigrationMetadata metadata,
        ProcessServices? services = null, TimeSpan? pollInterval = null)
    {
        PipelineRunner.RegisterSerialization();
        builder.WithSingleton<PipelineRunnerProxy>(
            PipelineRunner.SingletonName,
            (_, registry, _) => PipelineRunner.Props(metadata, registry.Get<ProcessRegion>(), pollInterval: pollInterval,
                foreignKeys: metadata.Transforms.Count == 0 ? null
                    : ct => TransformPlan.ReadForeignKeysAsync(metadata.Target.ToConnectionString("ferry coordinator"), ct)),
            new ClusterSingletonOptions { Role = FerryNode.CoordinatorRole },
            createProxyToo: true);
        if (services is not null) ReportTo(builder, services);
        return builder;
    }

    /// <summary>Worker (without the coordinator role): its process entities report finished runs to the runner through a singleton proxy.</summary>
    public static AkkaConfigurationBuilder AddPipelineRunnerProxy(this AkkaConfigurationBuilder builder, ProcessServices services)
    {
        PipelineRunner.RegisterSerialization();
        builder.WithSingletonProxy<PipelineRunnerProxy>(PipelineRunner.SingletonName, new ClusterSingletonOptions { Role = FerryNode.CoordinatorRole });
        ReportTo(builder, services);
        return builder;
    }

    private static void ReportTo(AkkaConfigurationBuilder builder, ProcessServices services) =>
        builder.WithActors((_, registry) => services.RunFinishedListener = registry.Get<PipelineRunnerProxy>());
}
