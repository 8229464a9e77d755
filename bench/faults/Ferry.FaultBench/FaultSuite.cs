using System.Text.RegularExpressions;
using Ferry.Shared.Postgres;
using Ferry.Shared.Processes;
using Ferry.Shared.Stg;
using Npgsql;

namespace Ferry.FaultBench;

/// <summary>What one iteration found.</summary>
public sealed record IterationResult(int Index, FaultKind Kind, RunMode Mode, string PipelineRunId, string Outcome, bool Completed, bool FollowUp,
    FaultSource.Difference Difference, int RanTwice, int Retried, int LeftRunning, double? Recovery, double? FaultToEnd, string Notes)
{
    /// <summary>Partition and worker faults: fault → the node is down / its shard region is gone; heal → the node is back (partition).</summary>
    public double? ToDown { get; init; }
    public double? ToShardsMoved { get; init; }
    public double? ToRejoin { get; init; }
}

/// <summary>
/// One iteration: start the pipeline (bulk, or incremental after a source mutation), inject the fault at a
/// seeded moment while processes run, wait (bounded) for the pipeline to end, re-run it once without a fault if
/// the fault failed it, then check STG against the source, the run history and the processes' state.
/// </summary>
public sealed class FaultSuite(NamespacedCluster cluster, TestNetwork network, FaultSource source, LocalPostgres target, string targetRoot, PostgresRelay targetRelay,
    LocalPostgres sourceServer, FaultOptions options, Action<string> log)
{
    private string TargetDb => target.ConnectionString("target");

    public async Task<double> WarmUpAsync(CancellationToken ct)
    {
        var started = DateTimeOffset.UtcNow;
        var (id, status) = await StartAndWaitAsync(RunMode.Bulk, ct);
        if (status?.State != PipelineRunState.Succeeded)
            throw new InvalidOperationException($"the warm-up run {id} ended {status?.State.ToString() ?? "not in time"}: " + Errors(status));
        var diff = await source.CompareAsync();
        if (!diff.None) throw new InvalidOperationException($"warm-up: {diff}");
        return ((status.FinishedAt ?? DateTimeOffset.UtcNow) - status.StartedAt).TotalSeconds;
    }

    private async Task<(string Id, PipelineRunStatus? Status)> StartAndWaitAsync(RunMode mode, CancellationToken ct)
    {
        var id = await StartAsync(mode, ct);
        var watch = new ProgressWatch(cluster.Api, id, [], DateTimeOffset.UtcNow);
        return (id, await watch.RunUntilEndedAsync(DateTimeOffset.UtcNow + options.RunTimeout, ct));
    }

    private async Task<string> StartAsync(RunMode mode, CancellationToken ct)
    {
        // A coordinator that just came back may answer 503 for a few seconds (runner recovering): ask again, bounded.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            try
            {
                var start = await cluster.Api.StartRunAsync([FaultSource.Pipeline], mode, null, ct);
                if (start.Accepted is { } accepted) return accepted.PipelineRunId;
                // A run an earlier fault left hanging would reject every later iteration: cancel it (and say so), then ask again.
                if (start.Rejected?.ActivePipelineRunId is { } active && DateTime.UtcNow < deadline)
                {
                    log($"cancelling {active}, still running from an earlier iteration");
                    await cluster.Api.CancelRunAsync(active, ct);
                    await Task.Delay(2000, ct);
                    continue;
                }
                throw new InvalidOperationException($"run rejected: {start.Rejected?.Reason}");
            }
            catch (Exception e) when (e is Cli.Api.FerryApiException or HttpRequestException && DateTime.UtcNow < deadline)
            {
                await Task.Delay(1000, ct);
            }
        }
    }

    public async Task<IterationResult> RunAsync(int index, FaultKind kind, RunMode mode, double warmWall, Random random, CancellationToken ct)
    {
        var notes = new List<string>();
        if (mode == RunMode.Incremental)
            notes.Add($"mutated {await source.MutateAsync(random, index):N0} source rows");
        var offsets = cluster.LogOffsets();
        var delay = TimeSpan.FromSeconds(warmWall * (0.15 + 0.45 * random.NextDouble()));
        var copyOnSource = random.Next(2) == 0;
        var id = await StartAsync(mode, ct);
        var runDeadline = DateTimeOffset.UtcNow + options.RunTimeout;
        log($"#{index} {FaultKinds.Name(kind)}: {mode.ToString().ToLowerInvariant()} run {id}; fault in {delay.TotalSeconds:F1} s");
        await Task.Delay(delay, ct);

        // Who runs what right now.
        var running = await RunningAsync(ct);
        var killedByUs = new HashSet<string>();
        NamespacedCluster.Node? victim = null;
        if (kind is FaultKind.WorkerKill or FaultKind.SamePortRestart or FaultKind.Partition)
            victim = cluster.Workers.OrderByDescending(w => running.Count(r => r.Node?.Contains(w.Host + ":", StringComparison.Ordinal) == true)).First();
        else if (kind == FaultKind.CoordinatorKill)
            victim = cluster.Coordinator;
        IEnumerable<string> interrupted = victim is { } v && v != cluster.Coordinator
            ? running.Where(r => r.Node?.Contains(v.Host + ":", StringComparison.Ordinal) == true).Select(r => r.ProcessId)
            : running.Select(r => r.ProcessId);

        var fault = DateTimeOffset.UtcNow;
        ProgressWatch watch;
        double? toRejoin = null;
        Task<PipelineRunStatus?> waiting;
        switch (kind)
        {
            case FaultKind.WorkerKill:
            case FaultKind.SamePortRestart:
            case FaultKind.CoordinatorKill:
            {
                await cluster.KillAsync(victim!);
                killedByUs.Add(victim!.Name);
                fault = DateTimeOffset.UtcNow;
                watch = new ProgressWatch(cluster.Api, id, interrupted.ToList(), fault) { WatchedAddress = victim == cluster.Coordinator ? null : victim.Address };
                waiting = watch.RunUntilEndedAsync(runDeadline, ct);
                if (kind == FaultKind.SamePortRestart) cluster.Start(victim);
                else if (kind == FaultKind.CoordinatorKill)
                {
                    await Task.Delay(2000, ct);
                    cluster.Start(victim);
                }
                else
                {
                    // Restart the killed worker once the cluster has downed it (what a service manager with a restart delay does), bounded.
                    var until = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(90);
                    while (watch.Downed is null && !waiting.IsCompleted && DateTimeOffset.UtcNow < until) await Task.Delay(500, ct);
                    cluster.Start(victim);
                }
                break;
            }
            case FaultKind.CopyTerminate:
            {
                var (pid, processId, side) = await TerminateCopyAsync(copyOnSource, ct);
                fault = DateTimeOffset.UtcNow;
                notes.Add(pid is null ? "no active COPY found within 20 s" : $"terminated {side} COPY backend {pid} of {processId}");
                watch = new ProgressWatch(cluster.Api, id, processId is null ? [] : [processId], fault);
                waiting = watch.RunUntilEndedAsync(runDeadline, ct);
                break;
            }
            case FaultKind.TargetStop:
            {
                await target.StopAsync();
                await targetRelay.PauseAsync();
                fault = DateTimeOffset.UtcNow;
                watch = new ProgressWatch(cluster.Api, id, interrupted.ToList(), fault) { ReferenceSet = false };
                waiting = watch.RunUntilEndedAsync(runDeadline, ct);
                await Task.Delay(options.TargetDown, ct);
                await LocalPostgres.StartAsync(targetRoot, new LocalPostgresOptions { Port = target.Port, Durable = true }, ct);
                targetRelay.Resume();
                // The suite's own pooled connections to the target died with it.
                NpgsqlConnection.ClearAllPools();
                watch.Reference = DateTimeOffset.UtcNow;
                watch.ReferenceSet = true;
                notes.Add($"target down {(watch.Reference - fault).TotalSeconds:F1} s");
                break;
            }
            case FaultKind.Partition:
            {
                network.Partition(victim!.Name);
                fault = DateTimeOffset.UtcNow;
                watch = new ProgressWatch(cluster.Api, id, interrupted.ToList(), fault) { WatchedAddress = victim.Address };
                waiting = watch.RunUntilEndedAsync(runDeadline, ct);
                break;
            }
            default: throw new ArgumentOutOfRangeException(nameof(kind));
        }

        var status = await waiting;
        var ended = watch.Ended;
        if (kind == FaultKind.Partition)
        {
            // Heal only after the pipeline ended (or timed out), so the heal does not help the run finish.
            var exitedBefore = victim!.ExitCode;
            network.Heal(victim.Name);
            var healed = DateTimeOffset.UtcNow;
            notes.Add(exitedBefore is { } code ? $"{victim.Name} had exited {code} before the heal (restarted by the suite)" : $"{victim.Name} was still running at the heal");
            var settled = await cluster.SettleAsync(TimeSpan.FromSeconds(120), ct);
            if (settled.Length > 0 && exitedBefore is null) notes.Add($"after the heal: {settled}");
            killedByUs.Add(victim.Name);
            toRejoin = (DateTimeOffset.UtcNow - healed).TotalSeconds;
        }

        var outcome = status is null ? $"not ended in {options.RunTimeout.TotalSeconds:F0} s" : status.State.ToString().ToLowerInvariant();
        if (status is { State: not PipelineRunState.Succeeded }) outcome += ": " + Errors(status);
        var completed = status?.State == PipelineRunState.Succeeded;

        // Nodes that exited without being killed by the suite (downed by the cluster: exit 3).
        foreach (var n in cluster.Nodes.Where(n => !n.Running && !killedByUs.Contains(n.Name)))
            notes.Add($"{n.Name} exited {n.ExitCode} on its own");
        foreach (var (node, line) in cluster.Grep(offsets, "Requested shard homes").GroupBy(g => g.Node).Select(g => (g.Key, g.Count().ToString())))
            notes.Add($"{node}: {line}× 'Requested shard homes'");

        var settle = await cluster.SettleAsync(TimeSpan.FromSeconds(150), ct);
        if (settle.Length > 0) notes.Add(settle);

        var followUp = false;
        if (!completed)
        {
            if (status is null)
                try { await cluster.Api.CancelRunAsync(id, ct); } catch (Exception e) when (e is Cli.Api.FerryApiException or HttpRequestException) { }
            // What a user does next: run it again. The data check below is after this run.
            followUp = true;
            var (againId, again) = await StartAndWaitAsync(mode, ct);
            notes.Add($"follow-up {againId}: {again?.State.ToString().ToLowerInvariant() ?? "not ended"}");
        }

        var leftRunning = await LeftRunningAsync(ct);
        var (ranTwice, retried) = await HistoryAsync(id);
        var diff = await source.CompareAsync();
        var recovery = watch.Recovery?.TotalSeconds;
        var result = new IterationResult(index, kind, mode, id, outcome, completed, followUp, diff, ranTwice, retried, leftRunning,
            recovery, ended is { } e2 ? (e2 - watch.Fault).TotalSeconds : null,
            $"{watch.Interrupted.Count} interrupted" + (notes.Count > 0 ? "; " + string.Join("; ", notes) : ""))
        {
            ToDown = watch.Downed is { } d ? (d - watch.Fault).TotalSeconds : null,
            ToShardsMoved = watch.RegionGone is { } g ? (g - watch.Fault).TotalSeconds : null,
            ToRejoin = toRejoin,
        };
        log($"#{index} {FaultKinds.Name(kind)}: {outcome}; recovery {Fmt(recovery)} s; fault→end {Fmt(result.FaultToEnd)} s; {diff}; ran twice {ranTwice}; left running {leftRunning}; {result.Notes}");
        return result;
    }

    private static string Fmt(double? s) => s is { } v ? v.ToString("F1") : "-";

    private static string Errors(PipelineRunStatus? status) =>
        status is null ? "" : string.Join("; ", status.Processes.Where(p => p.Error is not null).Take(3).Select(p => $"{p.ProcessId}: {p.Error}"));

    private async Task<List<ProcessStatus>> RunningAsync(CancellationToken ct)
    {
        try
        {
            var list = await cluster.Api.GetProcessesAsync(ct);
            return list.Processes.Where(p => p.Answered && p.Status is { ActiveRunId: not null }).Select(p => p.Status!).ToList();
        }
        catch (Exception e) when (e is Cli.Api.FerryApiException or HttpRequestException)
        {
            return [];
        }
    }

    /// <summary>Processes still holding an active run 15 s after the pipeline (and any follow-up) ended.</summary>
    private async Task<int> LeftRunningAsync(CancellationToken ct)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        var count = -1;
        while (DateTime.UtcNow < until)
        {
            try
            {
                var list = await cluster.Api.GetProcessesAsync(ct);
                count = list.Processes.Count(p => !p.Answered || p.Status is { ActiveRunId: not null });
                if (count == 0) return 0;
            }
            catch (Exception e) when (e is Cli.Api.FerryApiException or HttpRequestException) { }
            await Task.Delay(1000, ct);
        }
        return count;
    }

    /// <summary>From ferry.run_history: processes of the pipeline run that succeeded more than once (ran twice), and that had more than one run (retried).</summary>
    private async Task<(int RanTwice, int Retried)> HistoryAsync(string pipelineRunId)
    {
        await using var conn = new NpgsqlConnection(TargetDb);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("""
            SELECT count(*) FILTER (WHERE ok > 1), count(*) FILTER (WHERE runs > 1)
            FROM (SELECT process_id, count(*) FILTER (WHERE status = 'succeeded') AS ok, count(*) AS runs
                  FROM ferry.run_history WHERE pipeline_run_id = $1 GROUP BY process_id) h
            """, conn);
        cmd.Parameters.Add(new() { Value = pipelineRunId });
        await using var r = await cmd.ExecuteReaderAsync();
        await r.ReadAsync();
        return ((int)r.GetInt64(0), (int)r.GetInt64(1));
    }

    private static readonly Regex TableOfCopy = new(@"orders_(\d+)", RegexOptions.Compiled);

    /// <summary>pg_terminate_backend of an active COPY, on the preferred side (source: the extract; target: the load) if one is active there, else on the other; polled for up to 20 s.</summary>
    private async Task<(int? Pid, string? ProcessId, string Side)> TerminateCopyAsync(bool onSource, CancellationToken ct)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        var sides = onSource ? new[] { ("source", sourceServer.ConnectionString("source")), ("target", TargetDb) } : [("target", TargetDb), ("source", sourceServer.ConnectionString("source"))];
        while (DateTime.UtcNow < until)
        {
            // The preferred side first, then the other: a COPY is only seconds long, so take whichever is active now.
            foreach (var (side, conn) in sides)
            {
                await using var c = new NpgsqlConnection(conn);
                await c.OpenAsync(ct);
                await using var cmd = new NpgsqlCommand("""
                    SELECT pid, query FROM pg_stat_activity
                    WHERE state = 'active' AND query ILIKE 'COPY%' AND pid <> pg_backend_pid() AND datname = current_database()
                    ORDER BY random() LIMIT 1
                    """, c);
                int? pid = null;
                string? query = null;
                await using (var r = await cmd.ExecuteReaderAsync(ct))
                    if (await r.ReadAsync(ct)) { pid = r.GetInt32(0); query = r.GetString(1); }
                if (pid is null) continue;
                await using var kill = new NpgsqlCommand($"SELECT pg_terminate_backend({pid})", c);
                await kill.ExecuteScalarAsync(ct);
                var m = TableOfCopy.Match(query!);
                return (pid, m.Success ? FaultSource.ProcessId($"orders_{m.Groups[1].Value}") : null, side);
            }
            await Task.Delay(100, ct);
        }
        return (null, null, onSource ? "source" : "target");
    }
}
