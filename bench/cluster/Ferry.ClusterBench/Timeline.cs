using System.Text.Json;
using Npgsql;

namespace Ferry.ClusterBench;

/// <summary>
/// Where each process's time went between and around its steps, from the Akka journal in the target
/// (ferry_akka.journal: every event the entities and the pipeline runner persisted, with its `created` time
/// in .NET ticks and its JSON payload) together with ferry.run_history. All times are on one machine's clock.
/// </summary>
public sealed record Timeline(
    int Processes,
    double PreExtract,
    double PreLoad,
    double MergeStep,
    double AfterMerge,
    double Report,
    double Dispatch,
    double AcceptLag,
    int JournalEvents,
    IReadOnlyDictionary<string, int> EventsByKind)
{
    /// <summary>One journal event: who persisted it, its type, when the write was made, its JSON payload (null for Akka's own).</summary>
    public sealed record Ev(string PersistenceId, string Manifest, DateTimeOffset Created, JsonElement Body)
    {
        public string? RunId => Body.ValueKind == JsonValueKind.Object && Body.TryGetProperty("runId", out var v) ? v.GetString() : null;
        public DateTimeOffset At => Body.GetProperty("at").GetDateTimeOffset();
        public double Took => TimeSpan.Parse(Body.GetProperty("took").GetString()!, System.Globalization.CultureInfo.InvariantCulture).TotalSeconds;
    }

    /// <summary>Every journal event written between <paramref name="from"/> and <paramref name="until"/> (a second of margin each side).</summary>
    public static async Task<IReadOnlyList<Ev>> EventsAsync(string target, DateTimeOffset from, DateTimeOffset until, CancellationToken ct)
    {
        var events = new List<Ev>();
        await using var conn = new NpgsqlConnection(target);
        await conn.OpenAsync(ct);
        await using var cmd = new NpgsqlCommand("""
            SELECT persistence_id, coalesce(manifest, ''), created,
                   CASE WHEN manifest LIKE 'ev-%' THEN convert_from(message, 'UTF8') ELSE 'null' END
            FROM ferry_akka.journal WHERE created BETWEEN $1 AND $2 ORDER BY ordering
            """, conn);
        cmd.Parameters.Add(new NpgsqlParameter { Value = from.AddSeconds(-1).UtcTicks });
        cmd.Parameters.Add(new NpgsqlParameter { Value = until.AddSeconds(1).UtcTicks });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
            events.Add(new Ev(r.GetString(0), r.GetString(1), new DateTimeOffset(r.GetInt64(2), TimeSpan.Zero), JsonDocument.Parse(r.GetString(3)).RootElement.Clone()));
        return events;
    }

    /// <summary>
    /// Rows left stale by out-of-order history writes, rebuilt from the entity's own events the way the entity computes
    /// them: extracting = Extracted.took, loading = Loaded.took, merging = (RunSucceeded written − started) − both;
    /// finished_at = when RunSucceeded was written (the history's own time is taken a persist later: a few ms early here).
    /// </summary>
    public static IReadOnlyList<HistoryRow> Repair(IReadOnlyList<HistoryRow> rows, IReadOnlyList<Ev> events)
    {
        var byRun = events.Where(e => e.PersistenceId.StartsWith("process-", StringComparison.Ordinal) && e.RunId is not null).ToLookup(e => e.RunId!);
        return rows.Select(row =>
        {
            if (!row.Stale) return row;
            var ev = byRun[row.RunId].ToList();
            var x = ev.FirstOrDefault(e => e.Manifest == "ev-extracted");
            var l = ev.FirstOrDefault(e => e.Manifest == "ev-loaded");
            var ok = ev.FirstOrDefault(e => e.Manifest == "ev-run-succeeded")
                ?? throw new InvalidOperationException($"{row.ProcessId}: run {row.RunId} is '{row.Status}' in ferry.run_history and has no RunSucceeded in the journal");
            var extract = x?.Took ?? 0;
            var load = l?.Took ?? 0;
            var steps = new Dictionary<string, double>
            {
                ["extracting"] = extract, ["loading"] = load, ["merging"] = (ok.Created - row.StartedAt).TotalSeconds - extract - load,
            };
            return row with { FinishedAt = ok.Created, Status = "succeeded (repaired)", Steps = steps };
        }).ToList();
    }

    /// <summary>
    /// Per process (means, seconds):
    /// PreExtract  RunStarted.at → the extract step's start (= Extracted written − its Took): persisting RunStarted, starting the step actor;
    /// PreLoad     Extracted written → the load step's start (= Loaded written − its Took): persisting Extracted, starting the step actor;
    /// MergeStep   Loaded written → RunSucceeded.at: persisting Loaded, starting the step actor, and the merge's SQL if any;
    /// AfterMerge  RunSucceeded.at → run_history.finished_at: the step's reply, persisting RunSucceeded;
    /// Report      run_history.finished_at → the runner's ProcessFinishedInPipeline.at: the report through the singleton proxy;
    /// Dispatch    the runner's k-th finish → the (k + limit)-th RunStarted.at (by order): persisting the finish, Advance, StartRun
    ///             through the shard region proxy to the next entity;
    /// AcceptLag   RunStarted.at → the runner's ProcessRunStartedInPipeline.at (not on the critical path: the runner stashes
    ///             messages while it persists).
    /// </summary>
    public static Timeline Of(RunFigures run, IReadOnlyList<Ev> all)
    {
        var pipelineId = run.Pipeline.PipelineRunId;
        // Entity events belong to the run by run id, runner events by pipeline run id; Akka's own (shard coordinator,
        // remembered entities) by time: written between the pipeline's start and just after its end.
        var until = (run.Pipeline.FinishedAt ?? DateTimeOffset.MaxValue).AddSeconds(0.5);
        var events = all.Where(e => e.Created >= run.Pipeline.StartedAt.AddSeconds(-0.05) && e.Created <= until).ToList();

        var byRun = run.Rows.ToDictionary(r => r.RunId);
        var entity = events.Where(e => e.PersistenceId.StartsWith("process-", StringComparison.Ordinal) && e.RunId is { } id && byRun.ContainsKey(id))
            .ToLookup(e => e.RunId!);
        var runner = events.Where(e => e.PersistenceId == "pipeline-runner" && e.Body.ValueKind == JsonValueKind.Object
            && e.Body.TryGetProperty("pipelineRunId", out var p) && p.GetString() == pipelineId).ToList();
        static DateTimeOffset At(Ev e) => e.At;
        static double Took(Ev e) => e.Took;

        var pre = new List<double>(); var preLoad = new List<double>(); var merge = new List<double>(); var after = new List<double>();
        var report = new List<double>(); var accept = new List<double>();
        var finishes = runner.Where(e => e.Manifest == "ev-process-finished-in-pipeline").ToDictionary(e => e.Body.GetProperty("processId").GetString()!, At);
        var accepted = runner.Where(e => e.Manifest == "ev-process-run-started-in-pipeline").ToDictionary(e => e.Body.GetProperty("processId").GetString()!, At);
        foreach (var row in run.Rows)
        {
            var ev = entity[row.RunId].ToList();
            var x = ev.FirstOrDefault(e => e.Manifest == "ev-extracted");
            var l = ev.FirstOrDefault(e => e.Manifest == "ev-loaded");
            var ok = ev.FirstOrDefault(e => e.Manifest == "ev-run-succeeded");
            if (x is null || l is null || ok is null) continue; // a resumed or odd run: left out of the means
            pre.Add((x.Created - row.StartedAt).TotalSeconds - Took(x));
            preLoad.Add((l.Created - x.Created).TotalSeconds - Took(l));
            merge.Add((At(ok) - l.Created).TotalSeconds);
            after.Add((row.FinishedAt - At(ok)).TotalSeconds);
            if (finishes.TryGetValue(row.ProcessId, out var f)) report.Add((f - row.FinishedAt).TotalSeconds);
            if (accepted.TryGetValue(row.ProcessId, out var a)) accept.Add((a - row.StartedAt).TotalSeconds);
        }
        var starts = run.Rows.Select(r => r.StartedAt).Order().ToList();
        var finishOrder = finishes.Values.Order().ToList();
        var c = run.Concurrency;
        var dispatch = Enumerable.Range(c, Math.Max(0, Math.Min(starts.Count, finishOrder.Count + c) - c))
            .Select(k => (starts[k] - finishOrder[k - c]).TotalSeconds).ToList();

        var mine = events.Where(e => Kind(e) switch
        {
            "entities" => e.RunId is { } id && byRun.ContainsKey(id),
            "runner" => runner.Contains(e),
            _ => true,
        }).ToList();
        var kinds = mine.GroupBy(e => Kind(e)).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count());
        return new Timeline(run.Processes, Mean(pre), Mean(preLoad), Mean(merge), Mean(after), Mean(report), Mean(dispatch), Mean(accept), mine.Count, kinds);
    }

    private static string Kind(Ev e) => e.PersistenceId switch
    {
        "pipeline-runner" => "runner",
        var p when p.StartsWith("process-", StringComparison.Ordinal) => "entities",
        var p when p.Contains("Shard/", StringComparison.Ordinal) => "shards (remembered entities)",
        var p when p.Contains("Coordinator", StringComparison.Ordinal) => "shard coordinator",
        _ => "other",
    };

    private static double Mean(List<double> values) => values.Count == 0 ? double.NaN : values.Average();
}
