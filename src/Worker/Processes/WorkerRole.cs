using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Ferry.Shared.Cluster;

namespace Ferry.Worker.Processes;

/// <summary>What a worker node hosts: the process entities, sharded, persistent, remembered.</summary>
public static class WorkerRole
{
    public static AkkaConfigurationBuilder AddWorkerRole(this AkkaConfigurationBuilder builder, ProcessServices services)
    {
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
        return builder;
    }
}
