using System.Diagnostics;
using Akka.Actor;
using Ferry.Shared.History;
using Ferry.Shared.Metadata;
using Ferry.Shared.Postgres;
using Ferry.Shared.Processes;
using Ferry.Shared.Stg;
using Ferry.Tests.Infrastructure;
using Ferry.Tests.Stg;
using Ferry.Worker.Processes;
using Xunit.Abstractions;

namespace Ferry.Tests.Reliability;

/// <summary>
/// The target database (STG, the journal, run history) goes away and comes back: the pipeline runner
/// and the process entities come back by themselves, without restarting the node.
/// </summary>
public class TargetOutageTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task The_pipeline_runner_comes_back_by_itself_after_the_target_database_was_down()
    {
        await using var bed = await StgTestBed.CreateAsync("outage");
        await bed.ExecSourceAsync("CREATE TABLE a (id int PRIMARY KEY, v text); INSERT INTO a SELECT g, 'a' || g FROM generate_series(1, 30) g;");
        var a = StgTestBed.Table("a", ["id"]);

        // A target of its own, so that stopping it disturbs no other test.
        var root = Path.Combine(Path.GetTempPath(), $"ferry-test-outage-{Guid.NewGuid():N}");
        var pgOptions = new LocalPostgresOptions { Port = LocalPostgres.FreeLoopbackPort(), Durable = false, MaxConnections = 50, SharedBuffers = "32MB" };
        var server = await LocalPostgres.StartAsync(root, pgOptions);
        try
        {
            var targetCs = await server.CreateDatabaseAsync("target");
            var passwordVariable = $"FERRY_TEST_OUTAGE_PASSWORD_{Guid.NewGuid():N}";
            Environment.SetEnvironmentVariable(passwordVariable, server.Password);
            var target = new PgConnection("target", "127.0.0.1", server.Port, "target", server.User, new SecretRef(passwordVariable));
            var metadata = bed.Metadata(a) with
            {
                Target = target,
                Pipelines = [new PipelineDefinition("stg", [new PipelineStep([new ProcessGroup("all", [a.ProcessId], [a.ProcessId])])])],
            };
            var services = new ProcessServices(metadata, bed.Store, new RunHistory(targetCs));
            await using (var node = await OneNode.StartAsync(metadata, services, targetCs))
            {
                var runner = node.Runner;
                Assert.Equal(PipelineRunState.Succeeded, (await node.RunAsync(["stg"], RunMode.Bulk)).Status.State);

                await server.StopAsync();
                // The runner tries to persist the start of a run while its journal is gone.
                await Assert.ThrowsAnyAsync<Exception>(() => runner.Ask<PipelineRunAccepted>(new RunTargets(["stg"], RunMode.Incremental), TimeSpan.FromSeconds(5)));
                await Task.Delay(TimeSpan.FromSeconds(10));
                server = await LocalPostgres.StartAsync(root, pgOptions);
                var back = Stopwatch.StartNew();

                PipelineRunAccepted? accepted = null;
                while (accepted is null && back.Elapsed < Long)
                {
                    try { accepted = await runner.Ask<PipelineRunAccepted>(new RunTargets(["stg"], RunMode.Incremental), TimeSpan.FromSeconds(3)); }
                    catch (Exception e) when (e is AskTimeoutException or TimeoutException) { await Task.Delay(500); }
                }
                Assert.True(accepted is not null, $"the runner did not answer within {Long.TotalSeconds:0} s of the target's return");
                output.WriteLine($"the runner accepted a run {back.Elapsed.TotalSeconds:0.0} s after the target came back");
                var status = await node.WaitAsync(accepted.PipelineRunId);
                Assert.True(status.State == PipelineRunState.Succeeded, OneNode.Describe(status));
                Assert.Equal(new MergeCounts(0, 0, 0, 30), status.Processes.Single().Result!.Counts);
            }
        }
        finally
        {
            await server.DisposeAsync();
            try { Directory.Delete(root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
