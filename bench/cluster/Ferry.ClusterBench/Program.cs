using System.Diagnostics;
using System.Runtime.InteropServices;
using Ferry.ClusterBench;
using Ferry.Shared.Metadata;
using Ferry.Shared.Postgres;
using Ferry.Shared.Processes;
using Ferry.Shared.Stg;

// Ferry as a cluster of real processes on one durable local PostgreSQL:
//   1. orchestration overhead per process: many tiny tables in bulk on 1 coordinator + 1 worker, cold then warm;
//   2. bulk throughput with 1 vs 2 workers, on the same source data, each on a fresh target and a fresh cluster.
BenchOptions options;
try { options = BenchOptions.Parse(args); }
catch (ArgumentException e) { Console.Error.WriteLine(e.Message); return 2; }

if (!File.Exists(FerryCluster.FerryDll))
{
    Console.Error.WriteLine($"{FerryCluster.FerryDll} is missing: build this project (it references src/Cli), e.g. with bench/cluster/run.sh");
    return 2;
}

using var cts = new CancellationTokenSource();
// Ctrl+C or SIGTERM: unwind through the finally blocks, which kill every node and stop PostgreSQL.
void Stop(PosixSignalContext context) { context.Cancel = true; cts.Cancel(); }
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
var ct = cts.Token;

var work = Path.GetFullPath(options.WorkDirectory ?? Path.Combine(Path.GetTempPath(), $"ferry-clusterbench-{Environment.ProcessId}"));
var started = Stopwatch.StartNew();
void Log(string message) => Console.Error.WriteLine($"[{started.Elapsed:hh\\:mm\\:ss}] {message}");

try
{
    Log($"starting a durable PostgreSQL (shared_buffers {options.SharedBuffers}) under {work}");
    await using var pg = await LocalPostgres.StartAsync(Path.Combine(work, "pg"), new LocalPostgresOptions { Durable = true, SharedBuffers = options.SharedBuffers }, ct);
    var postmaster = CpuSampler.PostmasterPid(pg.DataDirectory);
    var source = new BenchSource(await pg.CreateDatabaseAsync("source", ct: ct), options);
    var generate = await source.CreateAsync(Path.Combine(AppContext.BaseDirectory, "sql"), options.RunTiny || (options.RunBulk && options.BulkWarmup), options.RunBulk, Log);
    Log($"source ready in {generate.TotalSeconds:F1} s");

    var metadataDir = Path.Combine(work, "metadata");
    source.WriteMetadata(metadataDir);
    var metadata = MetadataLoader.Load(metadataDir); // fails here, with file and line, if the files are wrong
    if (metadata.Sources[BenchSource.SourceName].MaxConcurrentExtracts != options.Concurrency)
        throw new InvalidOperationException("max_concurrent_extracts did not load as written");

    var commitLatency = await WalPosition.CommitLatencyAsync(source.ConnectionString);
    Log($"one durable single-row commit takes {commitLatency * 1000:F1} ms");
    var setup = new Report.Setup(options, Report.Machine(), $"PostgreSQL {await Db.ScalarAsync<string>(pg.ConnectionString(), "SHOW server_version")}",
        generate, options.RunBulk ? await source.BulkCsvBytesPerRowAsync() : 0, options.RunBulk ? await source.BulkSizeOnDiskAsync() : 0, commitLatency);

    // Connections reach the nodes through their environment only, as with metadata/connections.yaml.
    Dictionary<string, string> Env(string targetDb) => new(options.NodeEnvironment)
    {
        ["APP_HOST"] = "127.0.0.1", ["APP_PORT"] = pg.Port.ToString(), ["APP_USER"] = pg.User, ["APP_PASSWORD"] = pg.Password, ["APP_DATABASE"] = "source",
        ["TARGET_HOST"] = "127.0.0.1", ["TARGET_PORT"] = pg.Port.ToString(), ["TARGET_USER"] = pg.User, ["TARGET_PASSWORD"] = pg.Password, ["TARGET_DATABASE"] = targetDb,
    };

    var idle = new List<(string Cluster, CpuUse Cpu, double Seconds)>();

    async Task Settle()
    {
        await Db.ExecAsync(pg.ConnectionString(), "CHECKPOINT");
        using var sync = Process.Start("sync") ?? throw new InvalidOperationException("could not run sync");
        await sync.WaitForExitAsync(ct);
    }

    async Task<RunFigures> Measure(FerryCluster cluster, string label, string pipeline, string target, int processes)
    {
        await Settle();
        var load = Report.LoadAverage();
        var nodes = cluster.Nodes.Select(n => (n.Name, n.Process.Id)).ToList();
        var walBefore = await WalPosition.TakeAsync(pg.ConnectionString());
        var before = CpuSampler.Take(nodes, postmaster);
        Log($"{label}: running {pipeline} (load average {load})");
        var status = await cluster.RunAsync(pipeline, RunMode.Bulk, options.RunTimeout, ct);
        var cpu = CpuSampler.Take(nodes, postmaster).Since(before);
        if (status.State != PipelineRunState.Succeeded)
            throw new InvalidOperationException($"{label}: {status.PipelineRunId} ended {status.State}: " +
                string.Join("; ", status.Processes.Where(p => p.Error is not null).Take(5).Select(p => $"{p.ProcessId}: {p.Error}")) + "\n" + cluster.Logs());
        var wal = await WalPosition.TakeAsync(pg.ConnectionString()) - walBefore;
        var history = await HistoryRow.ReadAsync(target, status.PipelineRunId, processes, ct);
        var events = await Timeline.EventsAsync(target, status.StartedAt, status.FinishedAt ?? DateTimeOffset.UtcNow, ct);
        var rows = Timeline.Repair(history, events);
        var figures = new RunFigures(label, cluster.WorkerPorts.Length, options.Concurrency, status, rows, cpu, load,
            cluster.Nodes.ToDictionary(n => n.Address, n => n.Name)) { WalBytes = wal };
        figures = figures with { Timeline = Timeline.Of(figures, events) };
        if (figures.RepairedRows > 0)
            Log($"{label}: {figures.RepairedRows} ferry.run_history row(s) were left at 'running' (out-of-order history writes); rebuilt from the journal");
        Log($"{label}: {figures.Processes} processes in {figures.Wall:F2} s; Σ steps {figures.DataPath:F2} s; overhead/process {figures.OverheadPerProcess:F3} s");
        return figures;
    }

    async Task Verify(string target, IReadOnlyList<string> tables, string what)
    {
        var expected = await source.CountsAsync(tables);
        var actual = await Db.CountsAsync(target, tables.ToDictionary(t => t, BenchSource.StgTable), "stg_deleted_at IS NULL");
        var wrong = tables.Where(t => actual.GetValueOrDefault(t, -1) != expected[t]).ToList();
        if (wrong.Count > 0)
            throw new InvalidOperationException($"{what}: STG differs from the source for {wrong.Count} table(s): " +
                string.Join(", ", wrong.Take(5).Select(t => $"{t} source {expected[t]:N0}, STG {actual.GetValueOrDefault(t, -1):N0}")));
        Log($"{what}: STG row counts equal the source's ({tables.Count} tables, {expected.Values.Sum():N0} rows)");
    }

    /// <summary>A fresh target database and a fresh cluster of a coordinator and <paramref name="workers"/> workers on it.</summary>
    async Task<T> WithCluster<T>(string name, int workers, Func<FerryCluster, string, double, Task<T>> body)
    {
        var target = await pg.CreateDatabaseAsync(name, ct: ct);
        await using var cluster = new FerryCluster(Path.Combine(work, name), metadataDir, Env(name), workers);
        var clock = Stopwatch.StartNew();
        var coordinator = cluster.StartCoordinator();
        var workerNodes = Enumerable.Range(0, workers).Select(cluster.StartWorker).ToArray();
        await cluster.WaitForClusterAsync([coordinator, .. workerNodes], workerNodes, ct);
        var up = clock.Elapsed.TotalSeconds;
        Log($"{name}: coordinator + {workers} worker(s) up in {up:F1} s");
        var result = await body(cluster, target, up);
        // What the nodes burn doing nothing (gossip, heartbeats, timers) once warm, on this shared 2-core machine.
        var nodes = cluster.Nodes.Select(n => (n.Name, n.Process.Id)).ToList();
        var idleBefore = CpuSampler.Take(nodes, postmaster);
        await Task.Delay(TimeSpan.FromSeconds(3), ct);
        idle.Add((name, CpuSampler.Take(nodes, postmaster).Since(idleBefore), 3.0));
        Log($"{name}: stopping the nodes");
        return result;
    }

    Report.Tiny? tiny = null;
    if (options.RunTiny)
    {
        tiny = await WithCluster("target_tiny", 1, async (cluster, target, upSeconds) =>
        {
            var cold = await Measure(cluster, "tiny, cold", BenchSource.TinyPipeline, target, source.TinyTables.Count);
            await Verify(target, source.TinyTables, "tiny, cold");
            var warm = await Measure(cluster, "tiny, warm", BenchSource.TinyPipeline, target, source.TinyTables.Count);
            await Verify(target, source.TinyTables, "tiny, warm");
            return new Report.Tiny(cold, warm, upSeconds);
        });
    }

    var bulk = new List<(RunFigures Figures, double UpSeconds, double WarmupSeconds)>();
    if (options.RunBulk)
    {
        // Pairs in alternating order (1, 2, then 2, 1, …) so a drift in the machine's background load does not favour one side.
        var order = Enumerable.Range(0, options.BulkRepeats).SelectMany(i => i % 2 == 0 ? new[] { 1, 2 } : [2, 1]).ToList();
        var repeat = new Dictionary<int, int> { [1] = 0, [2] = 0 };
        foreach (var workers in order)
        {
            var n = ++repeat[workers];
            var name = $"target_bulk_{workers}w_{n}";
            bulk.Add(await WithCluster(name, workers, async (cluster, target, upSeconds) =>
            {
                var label = $"bulk, {workers} worker{(workers == 1 ? "" : "s")}{(options.BulkRepeats > 1 ? $" #{n}" : "")}";
                var warmup = double.NaN;
                if (options.BulkWarmup)
                {
                    // Untimed: every worker starts its shards and journal and JIT-compiles the data path on tiny tables,
                    // so the timed run measures a running cluster rather than the start of its processes.
                    var w = await cluster.RunAsync(BenchSource.WarmupPipeline, RunMode.Bulk, options.RunTimeout, ct);
                    if (w.State != PipelineRunState.Succeeded) throw new InvalidOperationException($"{label}: warm-up {w.PipelineRunId} ended {w.State}\n{cluster.Logs()}");
                    warmup = ((w.FinishedAt ?? w.StartedAt) - w.StartedAt).TotalSeconds;
                    var spread = w.Processes.Count;
                    Log($"{label}: warm-up of {spread} tiny tables took {warmup:F1} s");
                }
                var figures = await Measure(cluster, label, BenchSource.BulkPipeline, target, source.BulkTables.Count);
                await Verify(target, source.BulkTables, figures.Label);
                return (figures, upSeconds, warmup);
            }));
            // The next run gets a fresh target; this one's data would only cost disk and cache from here on.
            if (!options.Keep) await Db.ExecAsync(pg.ConnectionString(), $"DROP DATABASE {name} WITH (FORCE)");
        }
    }

    Log($"done in {started.Elapsed.TotalMinutes:F1} min; every STG table matched its source");
    Console.WriteLine();
    Console.WriteLine(Report.Render(setup, tiny, bulk, idle));
    return 0;
}
catch (OperationCanceledException) when (ct.IsCancellationRequested)
{
    Log("interrupted; every node was stopped");
    return 130;
}
catch (Exception e) when (e is not OutOfMemoryException)
{
    Log($"benchmark failed: {e.Message}");
    Console.Error.WriteLine(e);
    return 1;
}
finally
{
    if (!options.Keep)
        try { Directory.Delete(work, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    else
        Log($"kept {work} (node logs in {work}/<target>/<node>.log)");
}
