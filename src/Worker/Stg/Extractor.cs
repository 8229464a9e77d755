using System.IO.Compression;
using System.Text.RegularExpressions;
using Ferry.Shared.Metadata;
using Ferry.Shared.Processes;
using Ferry.Shared.Sql;
using Ferry.Shared.Stg;
using Ferry.Shared.Storage;
using Ferry.Worker.Obfuscation;
using Npgsql;

namespace Ferry.Worker.Stg;

public sealed record ExtractRequest(
    SourceTable Table,
    string SourceConnectionString,
    string TargetConnectionString,
    string StgSchema,
    RunMode Mode,
    string RunId,
    bool KeySweep,
    int MaxParallelism = 2,
    bool Obfuscate = false);

/// <summary>
/// Source → object store. `COPY (SELECT …) TO STDOUT (FORMAT csv, HEADER)` streamed through gzip into
/// the store, rows counted and bytes hashed on the way; large tables are split into key ranges read in
/// parallel from one exported snapshot. The manifest is written last: no manifest, no extract.
/// With <see cref="ExtractRequest.Obfuscate"/> (DEV only), the table's obfuscation rules rewrite each record
/// on its way to gzip: the source sees the same COPY as in PROD and the key never leaves the worker.
/// </summary>
public sealed partial class Extractor(IObjectStore store)
{
    private const int CopyBufferSize = 1 << 20;

    /// <param name="progress">Rows and compressed bytes written so far, summed over the chunks; rows expected from the catalog's estimate.</param>
    public async Task<Manifest> ExtractAsync(ExtractRequest req, IProgress<StepProgress>? progress = null, CancellationToken ct = default)
    {
        var table = req.Table;
        var folder = RunLayout.RunFolder(table, req.RunId);
        // Checked before the source is touched: a DEV extract without its key must not start.
        var obfuscationKey = req.Obfuscate && table.Obfuscate is { Count: > 0 } ? ObfuscationKey.FromEnvironment($"{table.Schema}.{table.Table}") : null;

        // The control session holds the snapshot that every chunk imports, so all parts see one instant.
        await using var control = await PgConnect.OpenAsync(req.SourceConnectionString, ct);
        await PgCopy.PinSessionAsync(control, ct);
        await using var tx = await control.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
        await control.ExecAsync("SET TRANSACTION READ ONLY", ct);
        var columns = await SourceSchema.ReadColumnsAsync(control, table.Schema, table.Table, ct);
        CheckColumns(table, columns);
        var obfuscation = obfuscationKey is null ? null : ObfuscationPlan.For(table, columns, obfuscationKey);
        DateTimeOffset snapshotTime;
        string snapshotId;
        await using (var cmd = new NpgsqlCommand("SELECT now(), pg_export_snapshot()", control))
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            await r.ReadAsync(ct);
            snapshotTime = r.GetFieldValue<DateTimeOffset>(0);
            snapshotId = r.GetString(1);
        }
        if (!SnapshotIdPattern().IsMatch(snapshotId))
            throw new InvalidOperationException($"unexpected snapshot id from the source: {snapshotId}");

        var watermark = table.Cdc.Mode == CdcMode.Watermark && req.Mode == RunMode.Incremental
            ? await StgWatermarkAsync(req, ct) : null;
        var completeReason = req.Mode == RunMode.Incremental && table.Cdc.Mode != CdcMode.Full
            ? CompleteExtract.Reason(table.Cdc.Mode, columns, await StgColumnsAsync(req, ct), table.Cdc.FullEvery,
                table.Cdc.FullEvery is null ? null : await LastCompleteAsync(table, ct), snapshotTime)
            : null;
        var plan = CdcPlan.For(table, req.Mode, snapshotTime, watermark, completeReason);
        // A complete extract reads the whole table, so the catalog's estimate is what to expect; a CDC window has none.
        var estimate = plan.Complete ? await SourceSchema.EstimateRowsAsync(control, table.Schema, table.Table, ct) : -1;
        var ranges = await PlanRangesAsync(control, table, columns, plan, estimate, ct);

        var selectList = SqlText.IdentList(columns.Select(c => c.Name));
        var from = SqlText.Qualified(table.Schema, table.Table);
        var parallelism = Math.Max(1, Math.Min(Math.Min(req.MaxParallelism, table.Chunking.Parallelism), ranges.Count));
        var parts = new PartInfo[ranges.Count];
        var total = new ProgressTotal(table.ProcessId, ProcessStep.Extracting, estimate >= 0 ? estimate : null, progress);
        await Parallel.ForEachAsync(Enumerable.Range(0, ranges.Count), new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = ct },
            async (i, token) =>
            {
                var range = ranges[i];
                var where = string.Join(" AND ", new[] { plan.Predicate is null ? null : $"({plan.Predicate})", range.Predicate }.Where(p => p is not null));
                var sql = $"COPY (SELECT {selectList} FROM {from}{(where.Length > 0 ? " WHERE " + where : "")}) TO STDOUT (FORMAT csv, HEADER)";
                var settings = plan.Settings.Concat(range.Settings).ToDictionary();
                var part = await ExtractPartAsync(req.SourceConnectionString, snapshotId, sql, settings, folder, RunLayout.PartName(i), total, obfuscation, token);
                parts[i] = part with { KeyRange = range.Description };
            });

        PartInfo? keys = null;
        if (req.KeySweep && !plan.Complete)
        {
            var keySql = $"COPY (SELECT {SqlText.IdentList(table.Key)} FROM {from}) TO STDOUT (FORMAT csv, HEADER)";
            // Key columns are never obfuscated (the table file refuses rules on them), so the key sweep is copied as is.
            keys = await ExtractPartAsync(req.SourceConnectionString, snapshotId, keySql, new Dictionary<string, string>(), folder, RunLayout.KeysPartName, null, null, ct);
        }
        await tx.CommitAsync(ct);

        var manifest = new Manifest(table.ProcessId, req.RunId, table.Source, $"{table.Schema}.{table.Table}", table.StgTable, req.Mode,
            plan.Complete, plan.Bounds, snapshotTime, columns, table.Key, parts, keys, table.SoftDeleteColumn, DateTimeOffset.UtcNow,
            ExtractSettings.Pinned, completeReason, obfuscation?.Applied);
        await store.PutBytesAsync(folder + Manifest.FileName, manifest.ToJson(), ct);
        total.Finish();
        return manifest;
    }

    private async Task<PartInfo> ExtractPartAsync(string connectionString, string snapshotId, string copySql,
        IReadOnlyDictionary<string, string> settings, string folder, string partName, ProgressTotal? total, ObfuscationPlan? obfuscation,
        CancellationToken ct)
    {
        await using var conn = await PgConnect.OpenAsync(connectionString, ct);
        await PgCopy.PinSessionAsync(conn, ct);
        await using var tx = await conn.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
        await conn.ExecAsync($"SET TRANSACTION SNAPSHOT {SqlText.Literal(snapshotId)}", ct);
        await conn.ExecAsync("SET TRANSACTION READ ONLY", ct);
        foreach (var (name, value) in settings)
        {
            await using var set = new NpgsqlCommand("SELECT set_config($1, $2, true)", conn) { Parameters = { new() { Value = name }, new() { Value = value } } };
            await set.ExecuteNonQueryAsync(ct);
        }

        await using var upload = await store.BeginUploadAsync(folder + partName, ct);
        var hashing = new HashingStream(upload.Stream, leaveOpen: true);
        long records = 0, bytesReported = 0;
        await using (var gzip = new GZipStream(hashing, CompressionLevel.Fastest, leaveOpen: true))
        await using (var copy = await PgCopy.ExportAsync(conn, copySql, ct))
        using (var obfuscator = obfuscation is null ? null : new CsvObfuscator(obfuscation, partName))
        {
            var scanner = new CsvRecordScanner();
            var buffer = new byte[CopyBufferSize];
            int n;
            while ((n = await copy.ReadAsync(buffer, ct)) > 0)
            {
                var ends = scanner.CountRecordEnds(buffer.AsSpan(0, n));
                // The first record is the header.
                var rows = records == 0 && ends > 0 ? ends - 1 : ends;
                records += ends;
                if (obfuscator is null) await gzip.WriteAsync(buffer.AsMemory(0, n), ct);
                else await obfuscator.WriteAsync(buffer.AsMemory(0, n), gzip, ct);
                total?.Add(rows, hashing.BytesSeen - bytesReported);
                bytesReported = hashing.BytesSeen;
            }
            if (obfuscator is not null) await obfuscator.CompleteAsync(gzip, ct);
        }
        // What gzip held back until it was closed.
        total?.Add(0, hashing.BytesSeen - bytesReported);
        await hashing.FlushAsync(ct);
        await upload.CompleteAsync(ct);
        await tx.CommitAsync(ct);
        return new PartInfo(partName, Math.Max(0, records - 1), hashing.BytesSeen, hashing.Sha256Hex);
    }

    private sealed record KeyRange(string? Predicate, IReadOnlyDictionary<string, string> Settings, string? Description);

    /// <summary>One range for small tables and CDC extracts; integer-keyed large tables get ranges of about RowsPerChunk rows.</summary>
    private static async Task<IReadOnlyList<KeyRange>> PlanRangesAsync(NpgsqlConnection control, SourceTable table, IReadOnlyList<ColumnSpec> columns,
        CdcPlan plan, long estimate, CancellationToken ct)
    {
        var whole = new[] { new KeyRange(null, new Dictionary<string, string>(), null) };
        if (!plan.Complete || table.Key.Count != 1) return whole;
        var keyColumn = columns.First(c => c.Name == table.Key[0]);
        if (!SourceSchema.IsIntegerType(keyColumn.StgType)) return whole;
        if (estimate < table.Chunking.ThresholdRows) return whole;

        var key = SqlText.Ident(keyColumn.Name);
        long min, max;
        await using (var cmd = new NpgsqlCommand($"SELECT min({key})::bigint, max({key})::bigint FROM {SqlText.Qualified(table.Schema, table.Table)}", control))
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            await r.ReadAsync(ct);
            if (r.IsDBNull(0)) return whole;
            min = r.GetInt64(0);
            max = r.GetInt64(1);
        }
        var chunks = (int)Math.Clamp((estimate + table.Chunking.RowsPerChunk - 1) / Math.Max(1, table.Chunking.RowsPerChunk), 1, 10_000);
        var span = (decimal)max - min + 1;
        var ranges = new List<KeyRange>(chunks);
        for (var i = 0; i < chunks; i++)
        {
            var lo = i == 0 ? (long?)null : (long)(min + Math.Floor(span * i / chunks));
            var hi = i == chunks - 1 ? (long?)null : (long)(min + Math.Floor(span * (i + 1) / chunks));
            var conditions = new List<string>();
            var settings = new Dictionary<string, string>();
            if (lo is not null) { conditions.Add($"{key} >= current_setting('ferry.lo')::bigint"); settings["ferry.lo"] = lo.Value.ToString(); }
            if (hi is not null) { conditions.Add($"{key} < current_setting('ferry.hi')::bigint"); settings["ferry.hi"] = hi.Value.ToString(); }
            ranges.Add(new KeyRange(conditions.Count == 0 ? null : string.Join(" AND ", conditions), settings,
                $"{keyColumn.Name} in [{lo?.ToString() ?? "-inf"}, {hi?.ToString() ?? "+inf"})"));
        }
        return ranges;
    }

    /// <summary>STG's columns (name → type), or null when STG does not exist yet.</summary>
    private static async Task<IReadOnlyDictionary<string, string>?> StgColumnsAsync(ExtractRequest req, CancellationToken ct)
    {
        await using var conn = await PgConnect.OpenAsync(req.TargetConnectionString, ct);
        await PgCopy.PinSessionAsync(conn, ct);
        if (!await StgSchemaManager.TableExistsAsync(conn, req.StgSchema, req.Table.StgTable, ct))
            return null;
        return (await StgSchemaManager.ReadColumnsAsync(conn, req.StgSchema, req.Table.StgTable, ct)).ToDictionary(c => c.Name, c => c.Type);
    }

    /// <summary>
    /// The snapshot time of this table's newest complete extract, from the manifests in the object store
    /// (run ids sort by time, so the newest are read first and reading stops at the first complete one).
    /// </summary>
    private async Task<DateTimeOffset?> LastCompleteAsync(SourceTable table, CancellationToken ct)
    {
        var folder = RunLayout.TableFolder(table);
        var manifests = new List<string>();
        await foreach (var o in store.ListAsync(folder, ct))
            if (o.Key.EndsWith("/" + Manifest.FileName, StringComparison.Ordinal))
                manifests.Add(o.Key);
        manifests.Sort(StringComparer.Ordinal);
        for (var i = manifests.Count - 1; i >= 0; i--)
        {
            var m = Manifest.FromJson(await store.GetBytesAsync(manifests[i], ct), $"{manifests[i]} in {store.Describe()}");
            if (m.Complete) return m.SnapshotTime;
        }
        return null;
    }

    private static async Task<DateTimeOffset?> StgWatermarkAsync(ExtractRequest req, CancellationToken ct)
    {
        var column = req.Table.Cdc.WatermarkColumn!;
        await using var conn = await PgConnect.OpenAsync(req.TargetConnectionString, ct);
        await PgCopy.PinSessionAsync(conn, ct);
        if (!await StgSchemaManager.TableExistsAsync(conn, req.StgSchema, req.Table.StgTable, ct))
            return null;
        await using var cmd = new NpgsqlCommand(
            $"SELECT max({SqlText.Ident(column)})::timestamptz FROM {SqlText.Qualified(req.StgSchema, req.Table.StgTable)}", conn);
        return await cmd.ExecuteScalarAsync(ct) is DateTime dt ? new DateTimeOffset(DateTime.SpecifyKind(dt, DateTimeKind.Utc)) : null;
    }

    /// <summary>The step around the extract names the process and the step; these messages say only what is wrong.</summary>
    private static void CheckColumns(SourceTable table, IReadOnlyList<ColumnSpec> columns)
    {
        var names = columns.Select(c => c.Name).ToHashSet();
        var needed = table.Key.Concat(table.Cdc.Columns).Concat(table.Cdc.WatermarkColumn is { } w ? [w] : [])
            .Concat(table.SoftDeleteColumn is { } s ? [s] : []);
        var missing = needed.Where(n => !names.Contains(n)).Distinct().ToList();
        if (missing.Count > 0)
            throw new InvalidOperationException(
                $"column(s) {string.Join(", ", missing)} named in {table.File ?? "metadata"} do not exist in {table.Schema}.{table.Table}");
        var reserved = columns.Select(c => c.Name).Where(StgSchemaManager.IsReservedName).ToList();
        if (reserved.Count > 0)
            throw new InvalidOperationException($"source column(s) {string.Join(", ", reserved)} clash with STG's own stg_* columns");
    }


    [GeneratedRegex("^[0-9A-Fa-f-]+$")]
    private static partial Regex SnapshotIdPattern();
}
