using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Ferry.Shared.Cluster;
using Ferry.Shared.Serialization;

namespace Ferry.Worker.Processes;

/// <summary>What a worker node hosts: the process entities, sharded, persistent, remembered, reporting finished runs to the pipeline runner.</summary>
public static class WorkerRole
{
    public static AkkaConfigurationBuilder AddWorkerRole(this AkkaConfigurationBuilder builder, ProcessServices services)
    {
        builder.AddFerrySerialization();
        builder.WithShardRegion<ProcessRegion>(
            ProcessSharding.TypeName,
            processId => Props.Create(() => new ProcessActor(processId, services)),
            new ProcessMessageExtractor(),
            new ShardOptions
            {
                Role = FerryNode.WorkerRole,
                RememberEntities = true,
                RememberEntitiesStore = RememberEntitiesStore.Eventsourced,
                StateStoreMode = StateStoreMode.Persistence,
            });
        // The runner lives on a coordinator; a worker reaches it through the singleton proxy alone.
        builder.WithPipelineRunnerProxy();
        builder.WithActors((_, registry) => services.RunFinishedListener = registry.Get<PipelineRunnerProxy>());
        return builder;
    }
}
