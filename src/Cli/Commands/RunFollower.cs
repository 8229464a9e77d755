using System.Text.Json;
using Ferry.Cli.Api;
using Ferry.Coordinator.Api;
using Ferry.Cli.Rendering;
using Ferry.Shared.Processes;
using Spectre.Console;

namespace Ferry.Cli.Commands;

/// <summary>
/// Follows a pipeline run on the cluster until it ends (`ferry run --wait`): a live table with a progress
/// bar, rows/s and ETA per running process on a terminal; otherwise a line per process state change and,
/// every <see cref="ProgressEvery"/>, a progress line per running process; with --json, one JSON object per poll.
/// </summary>
public static class RunFollower
{
    public static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(10);

    /// <summary>Polls the run every <paramref name="pollEvery"/> until it is no longer running, and returns its last status.</summary>
    public static async Task<PipelineRunStatus> FollowAsync(FerryApiClient client, string pipelineRunId, IAnsiConsole console, TimeSpan pollEvery,
        CancellationToken ct, bool json = false)
    {
        var interactive = console.Profile.Capabilities.Interactive && !Console.IsOutputRedirected;
        var poller = new RunPoller(client, pipelineRunId, console);
        try
        {
            return json ? await JsonLinesAsync(poller, pollEvery, ct)
                : interactive ? await LiveAsync(poller, console, pollEvery, ct)
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
        var lastProgress = DateTimeOffset.UtcNow;
        while (true)
        {
            var (status, progress) = await poller.NextAsync(ct);
            foreach (var p in status.Processes)
            {
                if (seen.TryGetValue(p.ProcessId, out var before) && before == (p.State, p.RunId)) continue;
                seen[p.ProcessId] = (p.State, p.RunId);
                if (p.State == ProcessRunState.Pending) continue;
                console.WriteLine(PipelineRunProgress.Line(status, p));
            }
            if (status.State != PipelineRunState.Running) return status;
            var now = DateTimeOffset.UtcNow;
            if (now - lastProgress >= ProgressEvery)
            {
                lastProgress = now;
                foreach (var p in progress.Values) console.WriteLine($"  {p.ProcessId}: {p.DescribeAt(now)}");
            }
            await Task.Delay(pollEvery, ct);
        }
    }

    private static async Task<PipelineRunStatus> LiveAsync(RunPoller poller, IAnsiConsole console, TimeSpan pollEvery, CancellationToken ct)
    {
        var (last, progress) = await poller.NextAsync(ct);
        await console.Live(PipelineRunProgress.Table(last, progress, DateTimeOffset.UtcNow)).StartAsync(async live =>
        {
            while (last.State == PipelineRunState.Running)
            {
                await Task.Delay(pollEvery, ct);
                (last, progress) = await poller.NextAsync(ct);
                live.UpdateTarget(PipelineRunProgress.Table(last, progress, DateTimeOffset.UtcNow));
            }
            live.UpdateTarget(new Text(""));
        });
        return last;
    }

    /// <summary>One JSON object per poll on standard output, for scripts: the run's state and each running process's numbers.</summary>
    private static async Task<PipelineRunStatus> JsonLinesAsync(RunPoller poller, TimeSpan pollEvery, CancellationToken ct)
    {
        while (true)
        {
            var (status, progress) = await poller.NextAsync(ct);
            var now = DateTimeOffset.UtcNow;
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                status.PipelineRunId,
                State = Cells.Lower(status.State),
                Stage = status.CurrentStage + 1,
                status.Stages,
                Processes = status.Processes.Select(p => progress.TryGetValue(p.ProcessId, out var s)
                    ? new { p.ProcessId, State = Cells.Lower(p.State), Step = (string?)Cells.Lower(s.Step), s.RowsDone, s.RowsExpected, RowsPerSecond = s.RowsPerSecond(now),
                        EtaSeconds = s.Eta(now)?.TotalSeconds }
                    : new { p.ProcessId, State = Cells.Lower(p.State), Step = (string?)null, RowsDone = 0L, RowsExpected = (long?)null, RowsPerSecond = (double?)null,
                        EtaSeconds = (double?)null }),
            }, ApiJson.Options));
            if (status.State != PipelineRunState.Running) return status;
            await Task.Delay(pollEvery, ct);
        }
    }

    /// <summary>
    /// One poll of a run, and the progress of its running processes (asked of each; one that does not answer has
    /// none this time). A coordinator that is briefly unavailable (503 while the runner singleton moves, a
    /// restart) is waited for, up to half a minute, before the CLI gives up.
    /// </summary>
    private sealed class RunPoller(FerryApiClient client, string pipelineRunId, IAnsiConsole console)
    {
        private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
        private DateTime? _failingSince;

        public async Task<(PipelineRunStatus Status, IReadOnlyDictionary<string, StepProgress> Progress)> NextAsync(CancellationToken ct)
        {
            var status = await RunAsync(ct);
            var running = status.Processes.Where(p => p.State == ProcessRunState.Running).Select(p => p.ProcessId).ToList();
            var answers = await Task.WhenAll(running.Select(async id =>
            {
                try { return (await client.GetProcessAsync(id, ct)).Progress; }
                catch (FerryApiException) { return null; }
            }));
            return (status, answers.Where(a => a is not null).ToDictionary(a => a!.ProcessId, a => a!));
        }

        private async Task<PipelineRunStatus> RunAsync(CancellationToken ct)
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
