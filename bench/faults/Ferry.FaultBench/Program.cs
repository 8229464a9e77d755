using System.Diagnostics;
using System.Runtime.InteropServices;
using Ferry.FaultBench;
using Ferry.Shared.Metadata;
using Ferry.Shared.Postgres;
using Ferry.Shared.Processes;
using Ferry.Shared.Stg;

// Ferry's fault suite: a coordinator and workers as real processes, each in its own network namespace, on a
// source PostgreSQL and a separate target PostgreSQL; every iteration runs the pipeline and injects one fault
// (worker / coordinator SIGKILL, restart on the same port, COPY backend terminated, target stopped, partition),
// then checks that STG equals the source, that nothing ran twice or was left running, and how long recovery took.
FaultOptions options;
try { options = FaultOptions.Parse(args); }
catch (ArgumentException e) { Console.Error.WriteLine(e.Message); return 2; }

if (!File.Exists(NamespacedCluster.FerryDll))
{
    Console.Error.WriteLine($"{NamespacedCluster.FerryDll} is missing: build this project (it references src/Cli), e.g. with bench/faults/run.sh");
    return 2;
}

using var cts = new CancellationTokenSource(options.Deadline + TimeSpan.FromMinutes(10));
void Stop(PosixSignalContext context) { context.Cancel = true; cts.Cancel(); }
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
var ct = cts.Token;

var work = Path.GetFullPath(options.WorkDirectory ?? Path.Combine(Path.GetTempPath(), $"ferry-faults-{Environment.ProcessId}"));
var clock = Stopwatch.StartNew();
void Log(string message) => Console.Error.WriteLine($"[{clock.Elapsed:hh\\:mm\\:ss}] {message}");

TestNetwork? network = null;
try
{
    network = TestNetwork.Create();
    Log($"network {TestNetwork.Bridge} {TestNetwork.Gateway}/24 up; starting the source and the target PostgreSQL under {work}");
    // Two servers: stopping the target must not stop the sources (a target outage, not a whole-database outage).
    await using var sourcePg = await LocalPostgres.StartAsync(Path.Combine(work, "pg-source"), new LocalPostgresOptions { Durable = false }, ct);
    var targetRoot = Path.Combine(work, "pg-target");
    await using var targetPg = await LocalPostgres.StartAsync(targetRoot, new LocalPostgresOptions { Durable = true }, ct);
    await using var sourceRelay = new PostgresRelay(sourcePg.Port);
    await using var targetRelay = new PostgresRelay(targetPg.Port);
    await sourcePg.CreateDatabaseAsync("source", ct: ct);
    await targetPg.CreateDatabaseAsync("target", ct: ct);

    var source = new FaultSource(sourcePg.ConnectionString("source"), targetPg.ConnectionString("target"), options);
    Log($"creating {options.Tables} tables of {options.Rows:N0} rows");
    await source.CreateAsync(Path.Combine(AppContext.BaseDirectory, "sql"));
    var metadataDir = Path.Combine(work, "metadata");
    source.WriteMetadata(metadataDir);
    MetadataLoader.Load(metadataDir); // fails here, with file and line, if the files are wrong

    // The nodes run from a copy of the binaries, so --hocon can change their settings without touching the build output.
    var ferryDir = Path.Combine(work, "ferry");
    CopyDirectory(AppContext.BaseDirectory, ferryDir);
    if (options.Hocon.Count > 0)
    {
        File.AppendAllText(Path.Combine(ferryDir, "hocon", "base.conf"), "\n# --hocon (bench/faults)\n" + string.Join("\n", options.Hocon) + "\n");
        Log($"hocon overrides: {string.Join("; ", options.Hocon)}");
    }

    var env = new Dictionary<string, string>
    {
        ["APP_HOST"] = TestNetwork.Gateway, ["APP_PORT"] = sourceRelay.Port.ToString(), ["APP_USER"] = sourcePg.User, ["APP_PASSWORD"] = sourcePg.Password, ["APP_DATABASE"] = "source",
        ["TARGET_HOST"] = TestNetwork.Gateway, ["TARGET_PORT"] = targetRelay.Port.ToString(), ["TARGET_USER"] = targetPg.User, ["TARGET_PASSWORD"] = targetPg.Password, ["TARGET_DATABASE"] = "target",
    };
    await using var cluster = new NamespacedCluster(Path.Combine(work, "cluster"), Path.Combine(ferryDir, "ferry.dll"), network, metadataDir, env, options.Workers, Log);
    cluster.StartAll();
    await cluster.SettleAsync(TimeSpan.FromSeconds(180), ct);
    Log($"coordinator + {options.Workers} workers up in namespaces ({string.Join(", ", cluster.Nodes.Select(n => $"{n.Name} {n.Host}"))})");

    var suite = new FaultSuite(cluster, network, source, targetPg, targetRoot, targetRelay, sourcePg, options, Log);
    var warm = await suite.WarmUpAsync(ct);
    Log($"warm-up bulk run without a fault: {warm:F1} s; STG equals the source");

    var random = new Random(options.Seed);
    var schedule = options.Schedule();
    var results = new List<IterationResult>();
    var skipped = 0;
    for (var i = 0; i < schedule.Count; i++)
    {
        if (clock.Elapsed > options.Deadline) { skipped = schedule.Count - i; Log($"deadline reached: {skipped} iteration(s) not started"); break; }
        var mode = i % 2 == 0 ? RunMode.Bulk : RunMode.Incremental;
        try
        {
            results.Add(await suite.RunAsync(i + 1, schedule[i], mode, warm, random, ct));
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            Log($"#{i + 1} {FaultKinds.Name(schedule[i])}: the iteration failed: {e.Message}");
            results.Add(new IterationResult(i + 1, schedule[i], mode, "-", "suite error: " + e.Message.Split('\n')[0], false, false,
                await source.CompareAsync(), 0, 0, -1, null, null, "cluster restarted"));
            // Start over from a clean cluster (same namespaces, same journal): bounded, or the suite stops.
            try
            {
                foreach (var n in cluster.Nodes.ToList()) await cluster.KillAsync(n);
                cluster.StartAll();
                await cluster.SettleAsync(TimeSpan.FromSeconds(180), ct);
            }
            catch (Exception again) when (again is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                skipped = schedule.Count - i - 1;
                Log($"the cluster did not come back ({again.Message.Split('\n')[0]}): stopping the suite; {skipped} iteration(s) not started");
                break;
            }
        }
    }

    var setup = $"""
        Ferry fault suite: {results.Count} iterations (seed {options.Seed}; kinds {string.Join(", ", options.Kinds.Select(FaultKinds.Name))}),
        coordinator + {options.Workers} workers in network namespaces on 10.213.0.0/24, {options.Tables} tables × {options.Rows:N0} rows (cdc full,
        max_concurrent_extracts {options.Concurrency}), bulk and incremental runs alternating (incremental after a source mutation);
        warm-up bulk run {warm:F1} s;{(options.Hocon.Count > 0 ? " HOCON overrides: " + string.Join("; ", options.Hocon) + ";" : "")} target outage {options.TargetDown.TotalSeconds:F0} s; {Environment.ProcessorCount} cores; load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]} at the end; {clock.Elapsed.TotalMinutes:F1} min.
        """;
    Console.WriteLine(FaultReport.Render(setup, results, skipped));
    var bad = results.Sum(r => r.Difference.Lost + r.Difference.Duplicated + r.Difference.Differing + r.Difference.Extra + r.RanTwice + Math.Max(0, r.LeftRunning));
    return bad == 0 ? 0 : 1;
}
catch (OperationCanceledException) when (ct.IsCancellationRequested)
{
    Log("interrupted (signal or the suite's own deadline); every node was stopped");
    return 130;
}
catch (Exception e) when (e is not OutOfMemoryException)
{
    Log($"fault suite failed: {e.Message}");
    Console.Error.WriteLine(e);
    return 1;
}
finally
{
    // The cluster and both servers are disposed by now (await using); the namespaces and links go last.
    network?.Dispose();
    if (!options.Keep)
        try { Directory.Delete(work, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    else
        Log($"kept {work} (node logs in {work}/cluster/<node>.log)");
}

static void CopyDirectory(string from, string to)
{
    foreach (var dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
        Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
    Directory.CreateDirectory(to);
    foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)), overwrite: true);
}
