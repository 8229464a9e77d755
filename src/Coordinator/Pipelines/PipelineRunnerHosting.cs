using Akka.Cluster.Hosting;
using Akka.Pattern;
using Akka.Hosting;
using Ferry.Shared.Bl;
using Ferry.Shared.Cluster;
using Ferry.Shared.Metadata;
using Ferry.Shared.Serialization;

namespace Ferry.Coordinator.Pipelines;

/// <summary>How a coordinator hosts the pipeline runner.</summary>
public static class PipelineRunnerHosting
{
    /// <summary>A runner stopped by its journal (the target database went away) starts again after this, doubling up to <see cref="MaxRestartBackoff"/>.</summary>
    public static readonly TimeSpan MinRestartBackoff = TimeSpan.FromSeconds(1);

    public static readonly TimeSpan MaxRestartBackoff = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The runner as a cluster singleton on the coordinator role, its persisted types bound to Ferry's
    /// serializer, and a proxy to it under the registry key <see cref="PipelineRunnerProxy"/> (send
    /// RunTargets, GetPipelineRun … there). The runner sends its StartRun to the process shard region (or
    /// its proxy) registered under <see cref="ProcessRegion"/>.
    /// A persistent actor whose journal write or recovery fails is stopped; the singleton manager would
    /// not start it again, so it runs under a backoff supervisor that does, until the database is back.
    /// </summary>
    public static AkkaConfigurationBuilder AddPipelineRunner(this AkkaConfigurationBuilder builder, MigrationMetadata metadata,
        TimeSpan? pollInterval = null)
    {
        builder.AddFerrySerialization(PipelineMessages.Types);
        builder.WithSingleton<PipelineRunnerSingleton>(
            PipelineRunnerProxyHosting.SingletonName,
            (_, registry, _) => BackoffSupervisor.Props(Backoff.OnStop(
                PipelineRunner.Create(metadata, registry.Get<ProcessRegion>(), pollInterval: pollInterval,
                    foreignKeys: metadata.Transforms.Count == 0 ? null
                        : ct => TransformPlan.ReadForeignKeysAsync(metadata.Target.ToConnectionString("ferry coordinator"), ct)),
                "runner", MinRestartBackoff, MaxRestartBackoff, 0.2, maxNrOfRetries: -1)),
            new ClusterSingletonOptions { Role = FerryNode.CoordinatorRole },
            createProxyToo: false);
        return builder.WithPipelineRunnerProxy();
    }

    /// <summary>Registry key of the singleton manager (the proxy is what the rest of the node uses).</summary>
    private sealed class PipelineRunnerSingleton;
}
