using Ferry.Cli.Api;
using Ferry.Cli.Rendering;
using Ferry.Shared.Processes;
using Spectre.Console;

namespace Ferry.Cli.Commands;

/// <summary>
/// Follows a pipeline run on the cluster until it ends (`ferry run --cluster --wait`): a live table on a
/// terminal, a line per process state change otherwise.
/// </summary>
public static class RunFollower
{
    /// <summary>Polls the run every <paramref name="pollEvery"/> until it is no longer running, and returns its last status.</summary>
    public static async Task<PipelineRunStatus> FollowAsync(FerryApiClient client, string pipelineRunId, IAnsiConsole console, TimeSpan pollEvery,
        CancellationToken ct)
    {
        var interactive = console.Profile.Capabilities.Interactive && !Console.IsOutputRedirected;
        var poller = new RunPoller(client, pipelineRunId, console);
        try
        {
            return interactive
                ? await LiveAsync(poller, console, pollEvery, ct)
                : await LinesAsync(poller, console, pollEvery, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            console.WriteLine($"Stopped waiting; pipeline run {pipelineRunId} goes on on the cluster (its process runs: ferry runs --pipeline-run {pipelineRunId})");
            throw;
        }
    }

    private static async Task<PipelineRunStatus> LinesAsync(RunPoller poller, IAnsiConsole console, TimeSpan pollEvery, CancellationToken ct)
    {
        var seen = new Dictionary<string, (ProcessRunState, string?)>();
        while (true)
        {
            var status = await poller.NextAsync(ct);
            foreach (var p in status.Processes)
            {
                if (seen.TryGetValue(p.ProcessId, out var before) && before == (p.State, p.RunId)) continue;
                seen[p.ProcessId] = (p.State, p.RunId);
                if (p.State == ProcessRunState.Pending) continue;
                console.WriteLine(PipelineRunProgress.Line(status, p));
            }
            if (status.State != PipelineRunState.Running) return status;
            await Task.Delay(pollEvery, ct);
        }
    }

    private static async Task<PipelineRunStatus> LiveAsync(RunPoller poller, IAnsiConsole console, TimeSpan pollEvery, CancellationToken ct)
    {
        var last = await poller.NextAsync(ct);
        await console.Live(PipelineRunProgress.Table(last)).StartAsync(async live =>
        {
            while (last.State == PipelineRunState.Running)
            {
                await Task.Delay(pollEvery, ct);
                last = await poller.NextAsync(ct);
                live.UpdateTarget(PipelineRunProgress.Table(last));
            }
            live.UpdateTarget(new Text(""));
        });
        return last;
    }

    /// <summary>
    /// One poll of a run. A coordinator that is briefly unavailable (503 while the runner singleton moves,
    /// a restart) is waited for, up to half a minute, before the CLI gives up.
    /// </summary>
    private sealed class RunPoller(FerryApiClient client, string pipelineRunId, IAnsiConsole console)
    {
        private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
        private DateTime? _failingSince;

        public async Task<PipelineRunStatus> NextAsync(CancellationToken ct)
        {
            while (true)
            {
                try
                {
                    var status = await client.GetRunAsync(pipelineRunId, ct);
                    _failingSince = null;
                    return status;
                }
                catch (FerryApiException e) when (e.Status is null or System.Net.HttpStatusCode.ServiceUnavailable)
                {
                    var now = DateTime.UtcNow;
                    _failingSince ??= now;
                    if (now - _failingSince > Patience) throw;
                    if (_failingSince == now) console.WriteLine($"  (coordinator unavailable, retrying: {e.Message})");
                    await Task.Delay(TimeSpan.FromSeconds(1), ct);
                }
            }
        }
    }
}
