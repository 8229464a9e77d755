using System.Diagnostics;
using Ferry.Bench;
using Ferry.Shared.Stg;

// Ferry's STG data path against the psql | gzip baseline, on one durable local PostgreSQL.
// The Ferry side re-enters this program as a child process (--ferry-case) so its memory is measured alone.
if (args.Length == 2 && args[0] == FerryCase.Flag)
    return await FerryCase.ChildMainAsync(args[1]);
if (args.Length == 2 && args[0] == VerifyCase.Flag)
    return await VerifyCase.ChildMainAsync(args[1]);

BenchOptions options;
try { options = BenchOptions.Parse(args); }
catch (ArgumentException e) { Console.Error.WriteLine(e.Message); return 2; }

if (options.Obfuscate)
{
    var clock = Stopwatch.StartNew();
    try { return await ObfuscationBench.RunAsync(options, m => Console.Error.WriteLine($"[{clock.Elapsed:hh\\:mm\\:ss}] {m}")); }
    catch (Exception e) when (e is not OutOfMemoryException)
    {
        Console.Error.WriteLine($"obfuscation benchmark failed: {e}");
        return 1;
    }
}

if (options.Verify)
{
    var clock = Stopwatch.StartNew();
    try { return await VerifyBench.RunAsync(options, m => Console.Error.WriteLine($"[{clock.Elapsed:hh\\:mm\\:ss}] {m}")); }
    catch (Exception e) when (e is not OutOfMemoryException)
    {
        Console.Error.WriteLine($"verify benchmark failed: {e}");
        return 1;
    }
}

var work = Path.GetFullPath(options.WorkDirectory ?? Path.Combine(Path.GetTempPath(), $"ferry-bench-{Environment.ProcessId}"));
var sqlFolder = Path.Combine(AppContext.BaseDirectory, "sql");
var filesFolder = Path.Combine(work, "baseline-files");
var storeRoot = Path.Combine(work, "store");
Directory.CreateDirectory(filesFolder);
Directory.CreateDirectory(storeRoot);
var started = Stopwatch.StartNew();
void Log(string message) => Console.Error.WriteLine($"[{started.Elapsed:hh\\:mm\\:ss}] {message}");

try
{
    Log($"starting a durable PostgreSQL (shared_buffers {options.SharedBuffers}) under {work}");
    await using var server = await BenchServer.StartAsync(Path.Combine(work, "pg"), options.SharedBuffers, options.LogMinDurationMs, options.ExplainMinDurationMs);
    var source = new ShopSource(server, sqlFolder);
    var baseline = new BaselineRun(server, sqlFolder, filesFolder);

    Log($"generating {options.Rows:N0} rows in {ShopSource.Table}");
    var generate = await source.CreateAsync(options.Rows);
    var rows = await source.CountAsync();
    var csvBytes = await source.CsvBytesAsync();
    var windowDays = await source.WindowDaysAsync(rows, 0.01);
    var windowRows = await source.CountAsync(ShopSource.WindowPredicate(windowDays));
    var setup = new Report.Setup(rows, csvBytes, await source.SizeOnDiskAsync(), generate.Elapsed, windowDays, windowRows, Report.Machine(),
        $"PostgreSQL {await server.VersionAsync()}, durable (fsync, full_page_writes, synchronous_commit on), shared_buffers {options.SharedBuffers}, max_wal_size 8GB",
        options);
    Log($"{Report.Mb(csvBytes)} of CSV; window {windowDays} days = {windowRows:N0} rows");
    var sourceDigest = await TableDigest.OfAsync(server.Source, ShopSource.Table);

    var run = 0;
    async Task<(FerryCaseResult, TimeSpan)> Ferry(RunMode mode, int runs = 1)
    {
        var spec = new FerryCaseSpec(server.Port, server.User, storeRoot, windowDays, options.ThresholdRows, options.RowsPerChunk,
            options.Parallelism, mode, Path.Combine(work, $"ferry-result-{++run}.json"), runs);
        return await FerryCase.RunChildAsync(spec, Path.Combine(work, $"ferry-spec-{run}.json"), server.ChildEnvironment);
    }
    async Task<TableDigest> Digest(string stgTable) => await TableDigest.OfAsync(server.Target, stgTable, "stg_deleted_at IS NULL");
    void Expect(bool ok, string what) { if (!ok) throw new InvalidOperationException(what); }

    var cases = new List<CaseFigures>();

    // Case 1: a first bulk load into an empty STG. The target is reset the same way for both sides: no STG, no load table.
    Log("case 1: first bulk load into an empty STG");
    await baseline.ResetAsync();
    await BenchServer.ExecAsync(server.Target, $"DROP TABLE IF EXISTS {FerryCase.StgTable}; DROP SCHEMA IF EXISTS stg_load CASCADE");
    await server.CheckpointAsync();
    var load1 = Report.LoadAverage();
    var b1 = await baseline.RunAsync("case1-bulk", null);
    Log($"  baseline {b1.Total.TotalSeconds:F1} s");
    (await Digest(BaselineRun.StgTable)).MustEqual(sourceDigest, "baseline, case 1");
    var b1Vacuum = await server.SettleAsync(server.Target, BaselineRun.StgTable);
    var (f1, f1Wall) = await Ferry(RunMode.Bulk);
    Log($"  Ferry    {f1Wall.TotalSeconds:F1} s");
    (await Digest(FerryCase.StgTable)).MustEqual(sourceDigest, "Ferry, case 1");
    Expect(f1.Inserted == rows, $"Ferry, case 1: {f1.Inserted:N0} inserted, expected {rows:N0}");
    var f1Vacuum = await server.SettleAsync(server.Target, FerryCase.StgTable);
    cases.Add(new CaseFigures("1 first bulk load", "<= 0.5x", 0.5, b1, f1, f1Wall, b1Vacuum, f1Vacuum, load1));

    // Case 3 runs before case 2's change: the change touches 1.5% of rows "now", so any window after it
    // would hold at least that; before it, STG equals the source and a 1% window really changes nothing.
    Log($"case 3: no-change incremental run over a {windowDays}-day window");
    var window = ShopSource.WindowPredicate(windowDays);
    var load3 = Report.LoadAverage();
    var b3 = await baseline.RunAsync("case3-window", window);
    Log($"  baseline {b3.Total.TotalSeconds:F1} s");
    (await Digest(BaselineRun.StgTable)).MustEqual(sourceDigest, "baseline, case 3");
    Expect(b3.Upserted == 0, $"baseline, case 3: {b3.Upserted:N0} rows written, expected none");
    var b3Vacuum = await server.SettleAsync(server.Target, BaselineRun.StgTable);
    // Run twice in the one child: the first run (cold process) is the figure; the second shows a warm worker's cost.
    var (f3, f3Wall) = await Ferry(RunMode.Incremental, runs: 2);
    Log($"  Ferry    {f3Wall.TotalSeconds:F1} s");
    (await Digest(FerryCase.StgTable)).MustEqual(sourceDigest, "Ferry, case 3");
    Expect(f3.Inserted + f3.Updated + f3.Deleted == 0, $"Ferry, case 3: {f3.Inserted}/{f3.Updated}/{f3.Deleted} changed, expected none");
    var f3Vacuum = await server.SettleAsync(server.Target, FerryCase.StgTable);
    var case3 = new CaseFigures($"3 no-change window ({windowDays} d)", "~window %", null, b3, f3, f3Wall, b3Vacuum, f3Vacuum, load3);

    // Case 2: both STG tables hold the pre-change state, each loaded by its own side in case 1 (and left
    // unchanged by case 3), vacuumed and checkpointed. The source changes once; both reload that same source.
    Log("case 2: full reload after 1% updated, 0.5% new, 0.2% deleted");
    await source.ChangeAsync(rows);
    var changed = await TableDigest.OfAsync(server.Source, ShopSource.Table);
    var (expUpdated, expInserted, expDeleted) = ShopSource.ExpectedChange(rows);
    await server.CheckpointAsync();
    var load2 = Report.LoadAverage();
    var b2 = await baseline.RunAsync("case2-reload", null);
    Log($"  baseline {b2.Total.TotalSeconds:F1} s");
    (await Digest(BaselineRun.StgTable)).MustEqual(changed, "baseline, case 2");
    Expect(b2.Upserted == expUpdated + expInserted && b2.MarkedDeleted == expDeleted,
        $"baseline, case 2: {b2.Upserted:N0} upserted and {b2.MarkedDeleted:N0} deleted, expected {expUpdated + expInserted:N0} and {expDeleted:N0}");
    var b2Vacuum = await server.SettleAsync(server.Target, BaselineRun.StgTable);
    var (f2, f2Wall) = await Ferry(RunMode.Bulk);
    Log($"  Ferry    {f2Wall.TotalSeconds:F1} s");
    (await Digest(FerryCase.StgTable)).MustEqual(changed, "Ferry, case 2");
    Expect(f2.Inserted == expInserted && f2.Updated == expUpdated && f2.Deleted == expDeleted,
        $"Ferry, case 2: {f2.Inserted:N0}/{f2.Updated:N0}/{f2.Deleted:N0} inserted/updated/deleted, expected {expInserted:N0}/{expUpdated:N0}/{expDeleted:N0}");
    var f2Vacuum = await server.SettleAsync(server.Target, FerryCase.StgTable);
    cases.Add(new CaseFigures("2 full reload (1%/0.5%/0.2%)", "<= 0.6x", 0.6, b2, f2, f2Wall, b2Vacuum, f2Vacuum, load2));
    cases.Add(case3);

    Log($"done in {started.Elapsed.TotalMinutes:F1} min; every STG matched its source");
    Console.WriteLine();
    Console.WriteLine(Report.Render(setup, cases, f3Wall.TotalSeconds / f2Wall.TotalSeconds, f2.RunSeconds));
    return 0;
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
        Log($"kept {work}");
}
