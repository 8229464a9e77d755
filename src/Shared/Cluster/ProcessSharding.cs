using Akka.Cluster.Sharding;
using Ferry.Shared.Processes;

namespace Ferry.Shared.Cluster;

/// <summary>The process entities' sharding: the entity type name the workers' regions and the coordinator's proxy share.</summary>
public static class ProcessSharding
{
    /// <summary>Also the prefix of every process entity's persistence id (process-stg.qvp.users): never change it once journals exist.</summary>
    public const string TypeName = "process";
}

/// <summary>Registry key of the process shard region (on workers) or its proxy (on the coordinator).</summary>
public sealed class ProcessRegion;

/// <summary>Registry key of the pipeline runner's singleton proxy.</summary>
public sealed class PipelineRunnerProxy;

/// <summary>Entity id = process id (stg.qvp.users); shard = a stable hash of it.</summary>
public sealed class ProcessMessageExtractor(int maxShards = ProcessMessageExtractor.DefaultShards) : HashCodeMessageExtractor(maxShards)
{
    /// <summary>About ten times the largest expected number of workers.</summary>
    public const int DefaultShards = 50;

    public override string? EntityId(object message) => message is IProcessCommand c ? c.ProcessId : null;
}
