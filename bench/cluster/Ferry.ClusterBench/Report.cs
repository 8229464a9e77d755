using System.Globalization;
using System.Text;

namespace Ferry.ClusterBench;

/// <summary>The printed result: setup, then one section per experiment.</summary>
public static class Report
{
    public sealed record Setup(BenchOptions Options, string Machine, string Postgres, TimeSpan Generate, double BulkCsvBytesPerRow, long BulkBytesOnDisk,
        double CommitLatencySeconds);

    public sealed record Tiny(RunFigures Cold, RunFigures Warm, double ClusterUpSeconds);

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static string Render(Setup s, Tiny? tiny, IReadOnlyList<(RunFigures Figures, double UpSeconds, double WarmupSeconds)> bulk,
        IReadOnlyList<(string Cluster, CpuUse Cpu, double Seconds)> idle)
    {
        var o = s.Options;
        var sb = new StringBuilder();
        sb.AppendLine(Inv, $"Ferry cluster benchmark, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        sb.AppendLine(Inv, $"  machine  {s.Machine}");
        sb.AppendLine(Inv, $"  server   {s.Postgres}, durable (fsync, full_page_writes, synchronous_commit on), shared_buffers {o.SharedBuffers};");
        sb.AppendLine(Inv, $"           one server holds the source, the target (STG, ferry.run_history) and the Akka journal (ferry_akka);");
        sb.AppendLine(Inv, $"           one durable single-row commit (INSERT, its own transaction, measured before the runs): {s.CommitLatencySeconds * 1000:F1} ms");
        sb.AppendLine(Inv, $"  nodes    `dotnet ferry.dll coordinator|worker` child processes on loopback; filesystem object store");
        if (o.NodeEnvironment.Count > 0)
            sb.AppendLine(Inv, $"           node environment: {string.Join(", ", o.NodeEnvironment.Select(kv => $"{kv.Key}={kv.Value}"))}");
        sb.AppendLine(Inv, $"  source   `app`, max_concurrent_extracts = {o.Concurrency} (the per-source limit on running processes); every table cdc: full, run in bulk mode");
        sb.AppendLine(Inv, $"           generated server-side in {s.Generate.TotalSeconds:F1} s");
        sb.AppendLine();

        if (tiny is not null) RenderTiny(sb, s, tiny);
        if (bulk.Count > 0) RenderBulk(sb, s, bulk);
        if (idle.Count > 0)
        {
            sb.AppendLine();
            sb.AppendLine("   Idle nodes: CPU in % of one core over 3 s after each cluster's last run (warm, nothing running)");
            foreach (var (cluster, cpu, seconds) in idle)
                sb.AppendLine(Inv, $"   {cluster}: {string.Join(", ", cpu.Nodes.Select(n => $"{n.Key} {100 * n.Value / seconds:F0} %"))}; machine {cpu.MachineBusyShare:P0} busy");
        }
        return sb.ToString();
    }

    private static void RenderTiny(StringBuilder sb, Setup s, Tiny t)
    {
        var o = s.Options;
        var runs = new[] { t.Cold, t.Warm };
        sb.AppendLine(Inv, $"1. Orchestration overhead: {o.TinyTables} tables x {o.TinyRows} rows, 1 coordinator + 1 worker (cluster up in {t.ClusterUpSeconds:F1} s)");
        sb.AppendLine("   cold = first run on a fresh cluster and target (entities created, STG tables created, first load straight into STG);");
        sb.AppendLine("   warm = the same pipeline again (entities alive, STG exists: load table + merge, nothing changes).");
        sb.AppendLine();
        Table(sb, ["run", "processes", "wall s", "sum data path s", "limit", "overhead/process s", "mean queueing s", "first start s", "mean running", "max running", "processes/s"],
            runs.Select(r => new[]
            {
                r.Label, N(r.Processes), S(r.Wall), S(r.DataPath), N(r.Concurrency), S3(r.OverheadPerProcess), S(r.MeanQueue), S3(r.FirstStart),
                S(r.MeanRunning), N(r.MaxRunning), S(r.Processes / r.Wall),
            }).ToList());
        sb.AppendLine("   wall            the pipeline run's StartedAt -> FinishedAt (the runner's own times, GET /api/runs/<id>)");
        sb.AppendLine("   sum data path   sum over the run's ferry.run_history rows of their steps (extracting + loading + merging seconds)");
        sb.AppendLine("   overhead/proc.  (wall x limit - sum data path) / processes");
        sb.AppendLine("   mean queueing   mean of (process started_at - pipeline StartedAt); with a limit most of it is waiting for a slot");
        sb.AppendLine("   first start     the first process's started_at - pipeline StartedAt (cold: shard allocation, remembering and starting the entity)");
        sb.AppendLine("   mean running    sum of (finished_at - started_at) / wall: how full the limit's slots were on average");
        Repaired(sb, runs);
        sb.AppendLine();

        sb.AppendLine("   Per process, seconds: a slot's cycle, from the journal (ferry_akka.journal: event times and payloads) and ferry.run_history");
        Table(sb, ["run", "extract", "load", "before extract", "before load", "merge step", "after merge", "report", "dispatch", "sum", "wall x limit / N"],
            runs.Select(r => r.Timeline is { } t
                ? new[]
                {
                    r.Label, S3(r.Extract / r.Processes), S3(r.Load / r.Processes), S3(t.PreExtract), S3(t.PreLoad), S3(t.MergeStep), S3(t.AfterMerge),
                    S3(t.Report), S3(t.Dispatch),
                    S3(r.Extract / r.Processes + r.Load / r.Processes + t.PreExtract + t.PreLoad + t.MergeStep + t.AfterMerge + t.Report + t.Dispatch),
                    S3(r.Wall * r.Concurrency / r.Processes),
                }
                : [r.Label, "-", "-", "-", "-", "-", "-", "-", "-", "-", "-"]).ToList());
        sb.AppendLine("   extract, load    the steps' own times (Took, measured inside the step actor)");
        sb.AppendLine("   before extract   RunStarted.at -> the extract's start: the entity persists RunStarted, starts a step actor under a backoff supervisor");
        sb.AppendLine("   before load      Extracted written -> the load's start: persist Extracted, start the next step actor");
        sb.AppendLine("   merge step       Loaded written -> RunSucceeded.at: persist Loaded, start the step actor, the merge's SQL (none in a first load)");
        sb.AppendLine("   after merge      RunSucceeded.at -> run_history.finished_at: the step's reply, persist RunSucceeded");
        sb.AppendLine("   report           run_history.finished_at -> the runner's ProcessFinishedInPipeline.at (through the singleton proxy)");
        sb.AppendLine("   dispatch         the runner's k-th finish -> the (k + limit)-th RunStarted: persist the finish, Advance, StartRun through the");
        sb.AppendLine("                    shard region proxy to the next entity (processes paired by order)");
        sb.AppendLine("   The data path as ferry.run_history counts it (extracting + loading + merging) already holds 'before extract', 'before load'");
        sb.AppendLine("   and 'merge step': its merging figure is everything from RunStarted to the merge's end except the extract and load steps.");
        sb.AppendLine("   sum ~ wall x limit / N when the slots are always full; the difference is the ramp-up and the tail.");
        sb.AppendLine();

        sb.AppendLine("   Durable writes per process (the journal's events in the run's time span; WAL: pg_current_wal_lsn, server-wide)");
        var kinds = runs.SelectMany(r => r.Timeline?.EventsByKind.Keys ?? []).Distinct().Order(StringComparer.Ordinal).ToList();
        Table(sb, ["run", .. kinds.Select(k => $"journal: {k}"), "WAL kB", "runner accept lag s"],
            runs.Select(r => new[] { r.Label }
                .Concat(kinds.Select(k => S((r.Timeline?.EventsByKind.GetValueOrDefault(k) ?? 0) / (double)r.Processes)))
                .Append(S(r.WalBytes / 1024.0 / r.Processes))
                .Append(S3(r.Timeline?.AcceptLag ?? double.NaN)).ToArray()).ToList());
        sb.AppendLine("   A process run persists 4 events on its entity (RunStarted, Extracted, Loaded, RunSucceeded) and 2 on the runner, writes its");
        sb.AppendLine("   ferry.run_history row 4 times, and in a cold run its shard remembers the new entity once: each a commit that waits for a WAL");
        sb.AppendLine(Inv, $"   flush (about {s.CommitLatencySeconds * 1000:F1} ms alone, see above), besides the data path's own statements.");
        sb.AppendLine();
        Cpu(sb, runs);
        sb.AppendLine();
    }

    private static void RenderBulk(StringBuilder sb, Setup s, IReadOnlyList<(RunFigures Figures, double UpSeconds, double WarmupSeconds)> bulk)
    {
        var o = s.Options;
        var runs = bulk.Select(b => b.Figures).ToList();
        sb.AppendLine(Inv, $"2. Bulk throughput: {o.BulkTables} tables x {o.BulkRows:N0} rows ({s.BulkCsvBytesPerRow:F0} B/row of CSV, {Mb(s.BulkBytesOnDisk)} on disk with keys), limit {o.Concurrency}");
        sb.AppendLine("   each run on a fresh target database and a fresh cluster (coordinator + N workers), same source data; first load into empty STG;");
        sb.AppendLine(Inv, $"   {o.BulkRepeats} run(s) per worker count, in alternating order (1, 2, 2, 1, ...);");
        sb.AppendLine(o.BulkWarmup
            ? $"   before each timed run, an untimed warm-up pipeline of {Math.Min(20, o.TinyTables)} tiny tables (every worker starts its shards and journal, JIT-compiles the data path)"
            : "   no warm-up: each timed run is the fresh cluster's first (--no-warmup), so it includes every node's start-up work");
        sb.AppendLine();
        Table(sb, ["run", "rows", "wall s", "rows/s", "processes per node", "first start per node s", "sum extract / load / merge s", "mean running", "max running"],
            bulk.Select(b => new[]
            {
                b.Figures.Label, N(b.Figures.RowsExtracted), S(b.Figures.Wall), N(b.Figures.RowsPerSecond),
                string.Join(", ", b.Figures.PerNode.Select(p => $"{p.Key} {p.Value}")),
                string.Join(", ", b.Figures.FirstStartPerNode.Select(p => $"{p.Key} {S(p.Value)}")),
                $"{S(b.Figures.Extract)} / {S(b.Figures.Load)} / {S(b.Figures.Merge)}", S(b.Figures.MeanRunning), N(b.Figures.MaxRunning),
            }).ToList());
        var one = runs.Where(r => r.Workers == 1).ToList();
        var two = runs.Where(r => r.Workers == 2).ToList();
        if (one.Count > 0 && two.Count > 0)
        {
            double Mean(List<RunFigures> rs) => rs.Average(r => r.RowsPerSecond);
            string Range(List<RunFigures> rs) => rs.Count == 1 ? "" : $" (runs: {string.Join(", ", rs.Select(r => N(r.RowsPerSecond)))})";
            sb.AppendLine(Inv, $"   mean rows/s: 1 worker {N(Mean(one))}{Range(one)}; 2 workers {N(Mean(two))}{Range(two)}");
            sb.AppendLine(Inv, $"   2 workers / 1 worker: {Mean(two) / Mean(one):F2}x the rows/s (mean wall {S(two.Average(r => r.Wall))} s vs {S(one.Average(r => r.Wall))} s)");
        }
        sb.AppendLine("   rows/s = rows extracted (sum over ferry.run_history) / the pipeline run's wall time; processes per node from ferry.run_history.node;");
        sb.AppendLine("   first start per node = the node's first RunStarted after the pipeline's start (a worker's first shard also starts its journal).");
        Repaired(sb, runs);
        sb.AppendLine("   cluster up (members Up, every shard region registered) / warm-up pipeline, seconds: " +
            string.Join("; ", bulk.Select(b => $"{b.Figures.Label} {S(b.UpSeconds)} / {S(b.WarmupSeconds)}")));
        sb.AppendLine(Inv, $"   This machine has {Environment.ProcessorCount} cores shared by PostgreSQL (source and target), every node and other users: a second");
        sb.AppendLine("   worker adds no CPU here. What it shows is that the work spreads over the workers, not what a second machine would add.");
        sb.AppendLine();
        Cpu(sb, runs);
    }

    /// <summary>Says how many history rows were rebuilt from the journal (see HistoryRow.ReadAsync).</summary>
    private static void Repaired(StringBuilder sb, IReadOnlyList<RunFigures> runs)
    {
        sb.AppendLine("   ferry.run_history rows left at 'running' after the run succeeded (out-of-order history writes), rebuilt from the journal: " +
            string.Join(", ", runs.Select(r => $"{r.Label} {r.RepairedRows} of {r.Processes}")));
    }

    private static void Cpu(StringBuilder sb, IReadOnlyList<RunFigures> runs)
    {
        var nodeNames = runs.SelectMany(r => r.Cpu.Nodes.Keys).Distinct().Order(StringComparer.Ordinal).ToList();
        sb.AppendLine("   CPU seconds used during each run (from /proc; machine busy counts every process on the machine, other users' too)");
        Table(sb, ["run", .. nodeNames, "postgres", "(Ferry + postgres) / cores", "wall s", "machine busy", "of all cores", "load avg before"],
            runs.Select(r => new[] { r.Label }
                .Concat(nodeNames.Select(n => r.Cpu.Nodes.TryGetValue(n, out var v) ? S(v) : "-"))
                .Concat([S(r.Cpu.Postgres), S((r.Cpu.Nodes.Values.Sum() + r.Cpu.Postgres) / Environment.ProcessorCount), S(r.Wall),
                    S(r.Cpu.MachineBusy), $"{r.Cpu.MachineBusyShare:P0}", r.LoadBefore]).ToArray()).ToList());
        sb.AppendLine("   (Ferry + postgres) / cores = the shortest wall the run could have had with every core its own: close to the wall = CPU-bound");
    }

    private static string S(double v) => double.IsNaN(v) ? "-" : v.ToString("F2", Inv);
    private static string S3(double v) => double.IsNaN(v) ? "-" : v.ToString("F3", Inv);
    private static string N(double v) => v.ToString("N0", Inv);

    public static string Mb(long bytes) => (bytes / 1048576.0).ToString("F0", Inv) + " MB";

    private static void Table(StringBuilder sb, string[] header, List<string[]> rows)
    {
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        string Line(string[] cells) => "| " + string.Join(" | ", cells.Select((c, i) => i == 0 ? c.PadRight(widths[i]) : c.PadLeft(widths[i]))) + " |";
        sb.AppendLine(Line(header));
        sb.AppendLine("|" + string.Join("|", widths.Select((w, i) => i == 0 ? new string('-', w + 2) : new string('-', w + 1) + ":")) + "|");
        foreach (var r in rows) sb.AppendLine(Line(r));
    }

    /// <summary>Cores, CPU model and memory, from /proc.</summary>
    public static string Machine()
    {
        var model = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?";
        var memKb = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal))["MemTotal:".Length..].Trim().Split(' ')[0];
        return $"{Environment.ProcessorCount} cores ({model}), {long.Parse(memKb, Inv) / 1048576.0:F1} GB RAM, {Environment.OSVersion}, .NET {Environment.Version}";
    }

    public static string LoadAverage() => File.ReadAllText("/proc/loadavg").Split(' ')[0];
}
