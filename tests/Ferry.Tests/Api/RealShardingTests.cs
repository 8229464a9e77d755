using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Ferry.Shared.Cluster;
using Ferry.Shared.Processes;

namespace Ferry.Tests.Api;

/// <summary>
/// The same API in front of a real shard region (entities that only answer status, on this one node), so
/// the process listing and the sharding statistics go through Akka's sharding rather than a stub.
/// </summary>
public sealed class ShardedApiTestHost : ApiTestHost
{
    protected override void AddActors(AkkaConfigurationBuilder builder) =>
        builder.WithShardRegion<ProcessRegion>(ProcessSharding.TypeName, id => Props.Create(() => new StatusOnlyProcess(id)), new ProcessMessageExtractor(),
            new ShardOptions { Role = FerryNode.CoordinatorRole, StateStoreMode = StateStoreMode.DData, RememberEntities = false });

    private sealed class StatusOnlyProcess : ReceiveActor
    {
        public StatusOnlyProcess(string processId) => Receive<GetProcessStatus>(_ =>
        {
            if (processId != StubProcessRegion.SilentProcess)
                Sender.Tell(new ProcessStatus(processId, ProcessStep.Idle, null, null, null, 0, null, null, null, Context.System.Name));
        });
    }
}

public sealed class RealShardingTests(ShardedApiTestHost host) : IClassFixture<ShardedApiTestHost>
{
    [Fact]
    public async Task Processes_are_asked_through_the_shard_region_and_the_entities_they_start_are_counted_on_this_node()
    {
        using var client = host.Client();
        var deadline = DateTime.UtcNow.AddSeconds(40);
        // Sharding starts once this node is up and its shard coordinator runs: until then processes do not answer.
        var processes = await client.GetProcessesAsync(CancellationToken.None);
        while (processes.Processes.Count(p => p.Answered) < 5 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(500);
            processes = await client.GetProcessesAsync(CancellationToken.None);
        }
        // Every process of the metadata answers but the silent one: the three STG tables and the three verify processes that compare them.
        Assert.Equal([true, true, false, true, true, true], processes.Processes.Select(p => p.Answered));

        var region = Assert.Single((await client.GetShardingAsync(CancellationToken.None)).Regions);
        var node = Assert.Single(region.Nodes);
        Assert.Equal(host.SelfAddress, node.Address);
        Assert.Equal(6, node.Entities);
        Assert.InRange(node.Shards, 1, 6);
        Assert.Empty(node.FailedShards);
    }
}
