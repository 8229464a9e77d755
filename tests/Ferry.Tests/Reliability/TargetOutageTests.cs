using Ferry.Shared.History;
using System.Diagnostics;
using Akka.Actor;
using Akka.Hosting;
using Ferry.Coordinator.Pipelines;
using Ferry.Shared.Cluster;
using Ferry.Shared.Metadata;
using Ferry.Shared.Postgres;
using Ferry.Shared.Processes;
using Ferry.Shared.Stg;
using Ferry.Tests.Infrastructure;
using Ferry.Tests.Stg;
using Ferry.Worker.Processes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
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
            var port = LocalPostgres.FreeLoopbackPort();
            var options = new NodeOptions
            {
                Roles = [FerryNode.CoordinatorRole, FerryNode.WorkerRole],
                Port = port,
                Seeds = [$"127.0.0.1:{port}"],
                HoconDirectory = Repository.Hocon,
                PersistenceConnectionString = targetCs,
            };
            using var host = FerryNode.CreateBuilder(options, (akka, _) => akka
                .AddWorkerRole(services)
                .AddPipelineRunner(metadata, pollInterval: TimeSpan.FromSeconds(1))).Build();
            await host.StartAsync();
            try
            {
                var runner = host.Services.GetRequiredService<ActorRegistry>().Get<PipelineRunnerProxy>();
                Assert.Equal(PipelineRunState.Succeeded, (await RunAsync(runner, RunMode.Bulk)).State);

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
                var status = await WaitAsync(runner, accepted.PipelineRunId);
                Assert.True(status.State == PipelineRunState.Succeeded,
                    $"{status.State}: {string.Join("; ", status.Processes.Select(p => $"{p.ProcessId} {p.State} {p.Error}"))}");
                Assert.Equal(new MergeCounts(0, 0, 0, 30), status.Processes.Single().Result!.Counts);
            }
            finally
            {
                await host.StopAsync();
            }
        }
        finally
        {
            await server.DisposeAsync();
            try { Directory.Delete(root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    private static async Task<PipelineRunStatus> RunAsync(IActorRef runner, RunMode mode)
    {
        var accepted = await runner.Ask<PipelineRunAccepted>(new RunTargets(["stg"], mode), Long);
        return await WaitAsync(runner, accepted.PipelineRunId);
    }

    private static async Task<PipelineRunStatus> WaitAsync(IActorRef runner, string pipelineRunId)
    {
        var deadline = DateTime.UtcNow + Long;
        PipelineRunStatus status;
        do
        {
            await Task.Delay(250);
            status = await runner.Ask<PipelineRunStatus>(new GetPipelineRun(pipelineRunId), Long);
        }
        while (status.State == PipelineRunState.Running && DateTime.UtcNow < deadline);
        return status;
    }
}
