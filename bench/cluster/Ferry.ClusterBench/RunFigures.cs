using System.Text.Json;
using Ferry.Shared.Processes;
using Npgsql;

namespace Ferry.ClusterBench;

/// <summary>One process run of a pipeline run, as ferry.run_history has it (written by the entity on its worker).</summary>
public sealed record HistoryRow(string ProcessId, string RunId, string Node, DateTimeOffset StartedAt, DateTimeOffset FinishedAt, string Status,
    IReadOnlyDictionary<string, double> Steps, long RowsExtracted, long Inserted, long Updated, long Deleted, long Unchanged)
{
    /// <summary>The data path: the seconds of every step the entity recorded (extracting, loading, merging).</summary>
    public double StepSeconds => Steps.Values.Sum();

    /// <summary>The entity's own wall clock for the run: RunStarted (before its persist) to the history write after RunSucceeded.</summary>
    public double EntitySeconds => (FinishedAt - StartedAt).TotalSeconds;

    public double Step(string name) => Steps.GetValueOrDefault(name);

    /// <summary>The row is not at its final state (see <see cref="ReadAsync"/>); <see cref="Timeline.Repair"/> fills it in from the journal.</summary>
    public bool Stale => Status == "running";

    public bool Repaired => Status == "succeeded (repaired)";

    /// <summary>
    /// Reads the pipeline run's rows, waiting until there is one per process and every one says succeeded: the entity
    /// writes them off its thread. A row still not final 5 s after that is returned as it is (<see cref="Stale"/>): the
    /// entity's history writes are fire-and-forget upserts on separate connections, so the one after Loaded can commit
    /// after the one after RunSucceeded and leave the row at 'running', without finished_at or the merging time.
    /// </summary>
    public static async Task<IReadOnlyList<HistoryRow>> ReadAsync(string target, string pipelineRunId, int expected, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        DateTime? allThere = null;
        while (true)
        {
            var rows = await ReadOnceAsync(target, pipelineRunId, ct);
            if (rows.Count == expected) allThere ??= DateTime.UtcNow;
            if (rows.Count == expected && (rows.All(r => !r.Stale) || DateTime.UtcNow - allThere > TimeSpan.FromSeconds(5)))
                return rows;
            if (DateTime.UtcNow > deadline)
                throw new InvalidOperationException($"ferry.run_history has {rows.Count} rows for {pipelineRunId}, expected {expected}");
            await Task.Delay(250, ct);
        }
    }

    private static async Task<List<HistoryRow>> ReadOnceAsync(string target, string pipelineRunId, CancellationToken ct)
    {
        await using var conn = new NpgsqlConnection(target);
        await conn.OpenAsync(ct);
        await using var cmd = new NpgsqlCommand("""
            SELECT process_id, run_id, coalesce(node, ''), started_at, coalesce(finished_at, started_at), status, steps::text,
                   coalesce(rows_extracted, 0), coalesce(inserted, 0), coalesce(updated, 0), coalesce(deleted, 0), coalesce(unchanged, 0)
            FROM ferry.run_history WHERE pipeline_run_id = $1 ORDER BY started_at
            """, conn);
        cmd.Parameters.Add(new NpgsqlParameter { Value = pipelineRunId });
        var rows = new List<HistoryRow>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
            rows.Add(new HistoryRow(r.GetString(0), r.GetString(1), r.GetString(2), r.GetFieldValue<DateTimeOffset>(3), r.GetFieldValue<DateTimeOffset>(4),
                r.GetString(5), JsonSerializer.Deserialize<Dictionary<string, double>>(r.GetString(6)) ?? [],
                r.GetInt64(7), r.GetInt64(8), r.GetInt64(9), r.GetInt64(10), r.GetInt64(11)));
        return rows;
    }
}

/// <summary>
/// The figures of one pipeline run: its wall time (the runner's StartedAt → FinishedAt), the processes' step times
/// from ferry.run_history, and what they imply about the time spent outside the data path.
/// </summary>
public sealed record RunFigures(string Label, int Workers, int Concurrency, PipelineRunStatus Pipeline, IReadOnlyList<HistoryRow> Rows,
    CpuUse Cpu, string LoadBefore, IReadOnlyDictionary<string, string> NodeNames)
{
    /// <summary>The journal's view of the same run (set after the run).</summary>
    public Timeline? Timeline { get; init; }

    /// <summary>WAL the server wrote during the run (server-wide).</summary>
    public long WalBytes { get; init; }

    /// <summary>First RunStarted on each node, seconds after the pipeline's start (a fresh worker's first shard pays for its journal warm-up).</summary>
    public IReadOnlyDictionary<string, double> FirstStartPerNode => Rows.GroupBy(r => NodeNames.GetValueOrDefault(r.Node, r.Node))
        .OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Min(r => (r.StartedAt - Pipeline.StartedAt).TotalSeconds));

    public int Processes => Rows.Count;

    /// <summary>History rows left at 'running' by out-of-order writes and rebuilt from the journal.</summary>
    public int RepairedRows => Rows.Count(r => r.Repaired);
    public double Wall => ((Pipeline.FinishedAt ?? Pipeline.StartedAt) - Pipeline.StartedAt).TotalSeconds;
    public double DataPath => Rows.Sum(r => r.StepSeconds);
    public double Extract => Rows.Sum(r => r.Step("extracting"));
    public double Load => Rows.Sum(r => r.Step("loading"));
    public double Merge => Rows.Sum(r => r.Step("merging"));
    public double EntityWall => Rows.Sum(r => r.EntitySeconds);
    public long RowsExtracted => Rows.Sum(r => r.RowsExtracted);

    /// <summary>(wall × concurrency − Σ data path) / processes: slot-seconds per process not spent in a step.</summary>
    public double OverheadPerProcess => (Wall * Concurrency - DataPath) / Processes;

    /// <summary>Per process, entity time after the last step: persisting RunSucceeded and writing the history row.</summary>
    public double AfterStepsPerProcess => (EntityWall - DataPath) / Processes;

    /// <summary>Per process, slot time when no entity ran it: the hand-off between processes, plus ramp-up and the tail.</summary>
    public double OutsideEntityPerProcess => (Wall * Concurrency - EntityWall) / Processes;

    /// <summary>Mean time from the pipeline's start to each process's start (RunStarted on its entity).</summary>
    public double MeanQueue => Rows.Average(r => (r.StartedAt - Pipeline.StartedAt).TotalSeconds);

    public double FirstStart => Rows.Min(r => (r.StartedAt - Pipeline.StartedAt).TotalSeconds);

    /// <summary>Last process finished (history row written) → the runner recorded the pipeline run finished.</summary>
    public double LastFinishToEnd => ((Pipeline.FinishedAt ?? Pipeline.StartedAt) - Rows.Max(r => r.FinishedAt)).TotalSeconds;

    /// <summary>
    /// Mean hand-off: the k-th process to start (k > concurrency) takes the slot of the (k − concurrency)-th to finish, so
    /// start[k] − finish[k − c] is the time from an entity's finish to the next process's RunStarted: the report to the
    /// runner, its persist, the StartRun through the shard region proxy to the next entity.
    /// </summary>
    public double MeanHandoff
    {
        get
        {
            var starts = Rows.Select(r => r.StartedAt).Order().ToList();
            var finishes = Rows.Select(r => r.FinishedAt).Order().ToList();
            var gaps = Enumerable.Range(Concurrency, Math.Max(0, starts.Count - Concurrency)).Select(k => (starts[k] - finishes[k - Concurrency]).TotalSeconds).ToList();
            return gaps.Count == 0 ? double.NaN : gaps.Average();
        }
    }

    /// <summary>Average number of processes running (Σ entity wall / pipeline wall).</summary>
    public double MeanRunning => EntityWall / Wall;

    /// <summary>Most processes running at one moment (by their history intervals).</summary>
    public int MaxRunning
    {
        get
        {
            var events = Rows.SelectMany(r => new[] { (At: r.StartedAt, Delta: 1), (At: r.FinishedAt, Delta: -1) })
                .OrderBy(e => e.At).ThenBy(e => e.Delta).ToList();
            int running = 0, max = 0;
            foreach (var e in events) max = Math.Max(max, running += e.Delta);
            return max;
        }
    }

    /// <summary>Processes run per node, by node name (coordinator, worker0, …).</summary>
    public IReadOnlyDictionary<string, int> PerNode => Rows.GroupBy(r => NodeNames.GetValueOrDefault(r.Node, r.Node))
        .OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count());

    public double RowsPerSecond => RowsExtracted / Wall;
}
