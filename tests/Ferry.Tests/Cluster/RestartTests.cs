using Ferry.Shared.Processes;
using Ferry.Shared.Stg;

namespace Ferry.Tests.Cluster;

/// <summary>Nodes killed and started again on the same address: the new incarnation replaces the old one.</summary>
[Collection("cluster")]
public class RestartTests
{
    [Fact]
    public async Task A_worker_killed_and_restarted_on_the_same_port_again_and_again_replaces_itself_and_the_pipeline_completes()
    {
        await using var cluster = await FerryClusterHarness.CreateAsync("restartsame");
        cluster.SetEnvironment("FERRY_CLUSTER_SECRET", "restart-secret");
        var (coordinator, w0, w1) = await cluster.StartCoordinatorAndTwoWorkersAsync();

        for (var i = 0; i < 4; i++)
        {
            await FerryClusterHarness.KillAsync(w1);
            w1 = cluster.StartWorker(1);
            await cluster.WaitForMembersAsync(coordinator, w0, w1);
            // Give a false "unreachable" between the survivors and the new incarnation time to show.
            await Task.Delay(TimeSpan.FromSeconds(5));
            await cluster.WaitForMembersAsync(coordinator, w0, w1);
        }

        var run = await cluster.RunAsync(["stg.*"], RunMode.Bulk, TimeSpan.FromMinutes(4));
        Assert.True(run.State == PipelineRunState.Succeeded, $"{run.State}\n{cluster.Logs()}");
        await cluster.WaitForMembersAsync(coordinator, w0, w1);
        Assert.False(coordinator.Exited || w0.Exited || w1.Exited, cluster.Logs());
    }

    [Fact]
    public async Task A_worker_the_cluster_downed_rejoins_by_itself_as_a_new_incarnation_and_the_pipeline_completes()
    {
        await using var cluster = await FerryClusterHarness.CreateAsync("rejoin");
        var (coordinator, w0, w1) = await cluster.StartCoordinatorAndTwoWorkersAsync();

        // An operator (or the split-brain resolver) downs a live worker: it leaves, and comes back by itself.
        await cluster.Api.DownAsync(w1.Address, CancellationToken.None);
        await WaitForLogAsync(w1, "rejoining as a new incarnation", TimeSpan.FromMinutes(1), cluster);
        await cluster.WaitForMembersAsync(coordinator, w0, w1);
        Assert.False(w1.Exited, cluster.Logs());

        var run = await cluster.RunAsync(["stg.*"], RunMode.Bulk, TimeSpan.FromMinutes(4));
        Assert.True(run.State == PipelineRunState.Succeeded, $"{run.State}\n{cluster.Logs()}");
    }

    private static async Task WaitForLogAsync(FerryClusterHarness.Node node, string text, TimeSpan timeout, FerryClusterHarness cluster)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            lock (node.Log)
                if (node.Log.ToString().Contains(text, StringComparison.Ordinal)) return;
            await Task.Delay(500);
        }
        Assert.Fail($"{node.Name} never said '{text}'\n{cluster.Logs()}");
    }
}
