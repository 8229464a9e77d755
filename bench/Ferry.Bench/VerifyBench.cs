using System.Diagnostics;
using System.Globalization;
using System.Text;
using Ferry.Shared.Stg;
using Npgsql;

namespace Ferry.Bench;

/// <summary>
/// `bench/run.sh --verify`: Ferry's source ↔ STG verify of the bench table against the raw baseline, the count +
/// hash-sum query that pgcopydb's `compare data` runs on each side. pgcopydb (src/bin/pgcopydb/schema.c,
/// schema_send_table_checksum) sends, per table and side:
///   select count(1) as cnt, encode(sha256(format('%s-%s', sum(hashtext((c1, c2, …)::text)::bigint), count(1))::bytea), 'hex') as chksum from only t
/// Here the STG side adds `WHERE stg_deleted_at IS NULL` and lists only the source's columns, or the two could
/// never agree. Both sides run at the same time for the baseline as for Ferry. Then 10 rows are changed in STG:
/// the baseline can only say "differs", Ferry must name the 10 keys.
/// </summary>
public static class VerifyBench
{
    private static readonly long[] ChangedFractions = [3, 97, 211, 307, 401, 503, 601, 709, 809, 907];

    public static async Task<int> RunAsync(BenchOptions options, Action<string> log)
    {
        var work = Path.GetFullPath(options.WorkDirectory ?? Path.Combine(Path.GetTempPath(), $"ferry-bench-verify-{Environment.ProcessId}"));
        var sqlFolder = Path.Combine(AppContext.BaseDirectory, "sql");
        var storeRoot = Path.Combine(work, "store");
        Directory.CreateDirectory(storeRoot);
        try
        {
            log($"starting a durable PostgreSQL (shared_buffers {options.SharedBuffers}) under {work}");
            await using var server = await BenchServer.StartAsync(Path.Combine(work, "pg"), options.SharedBuffers, options.LogMinDurationMs, options.ExplainMinDurationMs);
            var source = new ShopSource(server, sqlFolder);
            log($"generating {options.Rows:N0} rows in {ShopSource.Table}");
            await source.CreateAsync(options.Rows);
            var rows = await source.CountAsync();

            log("bulk load into STG with Ferry (untimed: the verify's fixture)");
            var loadSpec = new FerryCaseSpec(server.Port, server.User, storeRoot, 7, options.ThresholdRows, options.RowsPerChunk,
                options.Parallelism, RunMode.Bulk, Path.Combine(work, "ferry-load.json"));
            await FerryCase.RunChildAsync(loadSpec, Path.Combine(work, "ferry-load-spec.json"), server.ChildEnvironment);
            await server.SettleAsync(server.Target, FerryCase.StgTable);
            await server.SettleAsync(server.Source, ShopSource.Table);

            var run = 0;
            async Task<(VerifyCaseResult, TimeSpan)> Ferry()
            {
                var spec = new VerifyCaseSpec(server.Port, server.User, options.LeafRows, options.Fanout, Path.Combine(work, $"verify-result-{++run}.json"));
                return await VerifyCase.RunChildAsync(spec, Path.Combine(work, $"verify-spec-{run}.json"), server.ChildEnvironment);
            }

            log("warming the cache (one untimed baseline)");
            await BaselineAsync(server);

            log("clean copy: baseline, then Ferry");
            var load1 = Report.LoadAverage();
            var (cleanBase, cleanBaseEqual) = await BaselineAsync(server);
            if (!cleanBaseEqual) throw new InvalidOperationException("baseline: the clean copy differs");
            var (clean, cleanWall) = await Ferry();
            if (clean.Outcome != "Equal" || clean.SourceRows != rows || clean.TargetRows != rows)
                throw new InvalidOperationException($"Ferry: the clean copy is {clean.Outcome} ({clean.SourceRows:N0} / {clean.TargetRows:N0} rows, {clean.Items.Count} items)");

            var ids = ChangedFractions.Select(f => Math.Max(1, rows * f / 1000)).ToList();
            log($"changing 10 rows in STG: ids {string.Join(", ", ids)}");
            await BenchServer.ExecAsync(server.Target,
                $"UPDATE {FerryCase.StgTable} SET note = coalesce(note, '') || ' (changed)' WHERE id IN ({string.Join(", ", ids)})");
            await server.SettleAsync(server.Target, FerryCase.StgTable);
            var load2 = Report.LoadAverage();
            var (changedBase, changedBaseEqual) = await BaselineAsync(server);
            if (changedBaseEqual) throw new InvalidOperationException("baseline: did not see the 10 changed rows");
            var (changed, changedWall) = await Ferry();
            var expected = ids.Select(id => $"Different id={id} [note]").ToList();
            if (!changed.Items.SequenceEqual(expected))
                throw new InvalidOperationException($"Ferry: expected {string.Join("; ", expected)}, found {string.Join("; ", changed.Items)}");

            Console.WriteLine();
            Console.WriteLine(Render(options, rows, cleanBase, clean, cleanWall, changedBase, changed, changedWall, load1, load2));
            return 0;
        }
        finally
        {
            if (!options.Keep)
                try { Directory.Delete(work, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            else
                log($"kept {work}");
        }
    }

    /// <summary>pgcopydb's checksum query on both sides at once, each on a fresh connection; true when they agree.</summary>
    private static async Task<(TimeSpan Took, bool Equal)> BaselineAsync(BenchServer server)
    {
        var columns = string.Join(", ", ShopSource.Columns);
        string Query(string table, string where) =>
            $"select count(1) as cnt, encode(sha256(format('%s-%s', sum(hashtext(({columns})::text)::bigint), count(1))::bytea), 'hex') as chksum from only {table}{where}";
        static async Task<string> SideAsync(string connectionString, string sql)
        {
            await using var conn = new NpgsqlConnection(connectionString);
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand(sql, conn) { CommandTimeout = 0 };
            await using var r = await cmd.ExecuteReaderAsync();
            await r.ReadAsync();
            return $"{r.GetInt64(0)}:{r.GetString(1)}";
        }
        var clock = Stopwatch.StartNew();
        var results = await Task.WhenAll(SideAsync(server.Source, Query(ShopSource.Table, "")),
            SideAsync(server.Target, Query(FerryCase.StgTable, " where stg_deleted_at is null")));
        return (clock.Elapsed, results[0] == results[1]);
    }

    private static string Render(BenchOptions options, long rows, TimeSpan cleanBase, VerifyCaseResult clean, TimeSpan cleanWall,
        TimeSpan changedBase, VerifyCaseResult changed, TimeSpan changedWall, string load1, string load2)
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(c, $"Ferry verify benchmark: N = {rows:N0} rows, LeafRows {options.LeafRows:N0}, Fanout {options.Fanout}");
        sb.AppendLine(c, $"  machine  {Report.Machine()}");
        sb.AppendLine();
        sb.AppendLine("| case                   | baseline s | Ferry s (warm) | Ferry s (cold) | Ferry/base | target  | ranges | items | Ferry peak RSS MB | load avg |");
        sb.AppendLine("|------------------------|-----------:|---------------:|---------------:|-----------:|---------|-------:|------:|------------------:|---------:|");
        sb.AppendLine(c, $"| clean copy             | {cleanBase.TotalSeconds,10:F2} | {clean.Seconds,14:F2} | {clean.ColdSeconds,14:F2} | {clean.Seconds / cleanBase.TotalSeconds,9:F2}x | <= 1.0x | {clean.Ranges,6:N0} | {clean.Items.Count,5} | {clean.PeakRssKb / 1024.0,17:F0} | {load1,8} |");
        sb.AppendLine(c, $"| 10 rows changed in STG | {changedBase.TotalSeconds,10:F2} | {changed.Seconds,14:F2} | {changed.ColdSeconds,14:F2} | {changed.Seconds / changedBase.TotalSeconds,9:F2}x |         | {changed.Ranges,6:N0} | {changed.Items.Count,5} | {changed.PeakRssKb / 1024.0,17:F0} | {load2,8} |");
        sb.AppendLine();
        sb.AppendLine(c, $"  10 keys reported / clean verify (warm): {changed.Seconds / clean.Seconds:F2}x (target <= 1.5x); the baseline only says \"differs\".");
        sb.AppendLine(c, $"  Ferry allocated {clean.AllocatedBytes / 1048576.0:F1} MB (clean) and {changed.AllocatedBytes / 1048576.0:F1} MB (changed) in all (two verifies each); child process wall {cleanWall.TotalSeconds:F2} / {changedWall.TotalSeconds:F2} s; PeakWorkingSet64 {clean.PeakWorkingSetKb / 1024.0:F0} / {changed.PeakWorkingSetKb / 1024.0:F0} MB.");
        sb.AppendLine(c, $"  keys found: {string.Join("; ", changed.Items)}");
        return sb.ToString();
    }
}
