using Ferry.Shared.History;
using Ferry.Shared.Metadata;
using Ferry.Shared.Processes;
using Ferry.Shared.Stg;
using Ferry.Tests.Infrastructure;
using Ferry.Tests.Stg;
using Ferry.Worker.Processes;

namespace Ferry.Tests.Pipelines;

/// <summary>
/// The runner as the node hosts it: a one-node cluster with both roles, the process entities sharded,
/// the runner a singleton, every event and message through Ferry's serializer into the SQL journal.
/// </summary>
public class PipelineRunnerNodeTests
{
    [Fact]
    public async Task A_node_with_both_roles_runs_a_pipeline_through_the_runner_singleton_and_the_shard_region()
    {
        await using var bed = await StgTestBed.CreateAsync("pipelinenode");
        await bed.ExecSourceAsync("""
            CREATE TABLE a (id int PRIMARY KEY, v text); INSERT INTO a SELECT g, 'a' || g FROM generate_series(1, 30) g;
            CREATE TABLE b (id int PRIMARY KEY, v text); INSERT INTO b SELECT g, 'b' || g FROM generate_series(1, 20) g;
            """);
        var a = StgTestBed.Table("a", ["id"]);
        var b = StgTestBed.Table("b", ["id"]);
        var metadata = bed.Metadata(a, b) with
        {
            Pipelines = [new PipelineDefinition("stg", [
                new PipelineStep([new ProcessGroup("first", [a.ProcessId], [a.ProcessId])]),
                new PipelineStep([new ProcessGroup("second", [b.ProcessId], [b.ProcessId])])])],
        };
        var services = new ProcessServices(metadata, bed.Store, new RunHistory(bed.TargetConnectionString));
        await using (var node = await OneNode.StartAsync(metadata, services, bed.TargetConnectionString))
        {
            var (accepted, status) = await node.RunAsync(["stg"], RunMode.Bulk);

            Assert.True(status.State == PipelineRunState.Succeeded, OneNode.Describe(status));
            Assert.Equal([[a.ProcessId], [b.ProcessId]], accepted.Plan);
            Assert.Equal(new MergeCounts(20, 0, 0, 0), status.Processes.Single(p => p.ProcessId == b.ProcessId).Result!.Counts);
            await bed.AssertStgEqualsSourceAsync("a", "src_a", ["id", "v"], "id");
            await bed.AssertStgEqualsSourceAsync("b", "src_b", ["id", "v"], "id");
            Assert.True(await StgTestBed.ScalarAsync<long>(bed.TargetConnectionString,
                "SELECT count(*) FROM ferry_akka.journal WHERE persistence_id = 'pipeline-runner' AND manifest LIKE 'ev-%'") >= 6);
        }
    }
}
