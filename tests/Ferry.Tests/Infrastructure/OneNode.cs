using Akka.Actor;
using Akka.Hosting;
using Ferry.Coordinator.Pipelines;
using Ferry.Shared.Cluster;
using Ferry.Shared.Metadata;
using Ferry.Shared.Postgres;
using Ferry.Shared.Processes;
using Ferry.Shared.Stg;
using Ferry.Worker.Processes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Ferry.Tests.Infrastructure;

/// <summary>
/// A one-node cluster in the test's process with both roles, as `ferry standalone` hosts them: the process
/// entities sharded, the runner a singleton, every event through Ferry's serializer into the SQL journal
/// of <paramref name="journal"/>.
/// </summary>
public sealed class OneNode(IHost host) : IAsyncDisposable
{
    public static readonly TimeSpan Long = TimeSpan.FromSeconds(90);

    /// <param name="hostServices">More services for the node's host (the metrics endpoint).</param>
    public static async Task<OneNode> StartAsync(MigrationMetadata metadata, ProcessServices services, string journal, Action<IServiceCollection>? hostServices = null)
    {
        var port = LocalPostgres.FreeLoopbackPort();
        var options = new NodeOptions
        {
            Roles = [FerryNode.CoordinatorRole, FerryNode.WorkerRole],
            Port = port,
            Seeds = [$"127.0.0.1:{port}"],
            HoconDirectory = Repository.Hocon,
            PersistenceConnectionString = journal,
        };
        var host = FerryNode.CreateBuilder(options, (akka, _) => akka
            .AddWorkerRole(services)
            .AddPipelineRunner(metadata, pollInterval: TimeSpan.FromSeconds(1)), hostServices).Build();
        await host.StartAsync();
        return new OneNode(host);
    }

    public IActorRef Runner => host.Services.GetRequiredService<ActorRegistry>().Get<PipelineRunnerProxy>();

    /// <summary>Starts a run of <paramref name="targets"/> and waits for it to end.</summary>
    public async Task<(PipelineRunAccepted Accepted, PipelineRunStatus Status)> RunAsync(string[] targets, RunMode mode)
    {
        var accepted = await Runner.Ask<PipelineRunAccepted>(new RunTargets(targets, mode), Long);
        return (accepted, await WaitAsync(accepted.PipelineRunId));
    }

    public async Task<PipelineRunStatus> WaitAsync(string pipelineRunId)
    {
        var deadline = DateTime.UtcNow + Long;
        PipelineRunStatus status;
        do
        {
            await Task.Delay(250);
            status = await Runner.Ask<PipelineRunStatus>(new GetPipelineRun(pipelineRunId), Long);
        }
        while (status.State == PipelineRunState.Running && DateTime.UtcNow < deadline);
        return status;
    }

    public static string Describe(PipelineRunStatus status) =>
        $"{status.State}: {string.Join("; ", status.Processes.Select(p => $"{p.ProcessId} {p.State} {p.Error}"))}";

    public async ValueTask DisposeAsync()
    {
        await host.StopAsync();
        host.Dispose();
    }
}
