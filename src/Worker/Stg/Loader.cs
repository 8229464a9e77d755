using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Ferry.Shared.Metadata;
using Ferry.Shared.Processes;
using Ferry.Shared.Sql;
using Ferry.Shared.Stg;
using Ferry.Shared.Storage;
using Npgsql;

namespace Ferry.Worker.Stg;

/// <summary>What the load step did: either rows staged in a load table for the merge, or, when STG was empty, rows written straight into STG.</summary>
public sealed record LoadResult(long Rows, bool MergedDirectly, MergeCounts? Counts, IReadOnlyList<string> SchemaChanges);

/// <summary>
/// Object store → target. Parts are streamed back, checked against the manifest (bytes, SHA-256, rows),
/// and every row gets its hash on the way in. A first load into an empty STG table goes straight into
/// STG in one transaction (there is nothing to merge against); otherwise the rows land in an unlogged
/// load table in the stg_load schema that the merge step reads. Either way a bad part aborts before
/// STG changes.
/// </summary>
public sealed class Loader(IObjectStore store)
{
    public const string LoadSchema = "stg_load";

    /// <summary>
    /// The load table of one run: "&lt;stg table&gt;__&lt;run id&gt;&lt;suffix&gt;", so two writers of the same table never
    /// share, or drop, each other's load table. A name over 63 bytes keeps the start of the table name and a hash of all of it.
    /// </summary>
    public static string LoadTableName(string stgTable, string runId, string suffix = "")
    {
        var tail = "__" + runId.ToLowerInvariant() + suffix;
        var name = stgTable + tail;
        if (Encoding.UTF8.GetByteCount(name) <= 63) return name;
        var hash = "_" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(stgTable)))[..8].ToLowerInvariant();
        var head = stgTable;
        while (Encoding.UTF8.GetByteCount(head + hash + tail) > 63) head = head[..^1];
        return head + hash + tail;
    }

    /// <summary>Drops a run's load tables (after its merge, or when its load or merge failed).</summary>
    public static async Task DropLoadTablesAsync(string targetConnectionString, Manifest manifest, CancellationToken ct)
    {
        await using var conn = await PgConnect.OpenAsync(targetConnectionString, ct);
        await conn.ExecAsync(DropLoadTablesSql(manifest), ct);
    }

    public static string DropLoadTablesSql(Manifest manifest) =>
        $"DROP TABLE IF EXISTS {SqlText.Qualified(LoadSchema, LoadTableName(manifest.StgTable, manifest.RunId))}; " +
        $"DROP TABLE IF EXISTS {SqlText.Qualified(LoadSchema, LoadTableName(manifest.StgTable, manifest.RunId, "__keys"))}";

    /// <param name="folder">The run folder in the object store that holds the manifest's parts.</param>
    /// <param name="progress">Rows and compressed bytes of the parts loaded so far (each counted once it passed its checks), out of the manifest's rows.</param>
    public async Task<LoadResult> LoadAsync(Manifest manifest, string folder, string targetConnectionString, string stgSchema,
        int parallelism = 2, IProgress<StepProgress>? progress = null, CancellationToken ct = default)
    {
        var tally = new ProgressTotal(manifest.ProcessId, ProcessStep.Loading, manifest.TotalRows, progress);
        await using var conn = await PgConnect.OpenAsync(targetConnectionString, ct);
        await PgCopy.PinSessionAsync(conn, ct);
        var stg = SqlText.Qualified(stgSchema, manifest.StgTable);

        await conn.EnsureSchemaAsync(stgSchema, ct);
        await conn.EnsureSchemaAsync(LoadSchema, ct);
        // Table first, in its own transaction, so a drift error stops the table before any data moves.
        IReadOnlyList<string> changes;
        await using (var tx = await conn.BeginTransactionAsync(ct))
        {
            changes = await StgSchemaManager.EnsureAsync(conn, stgSchema, manifest, ct);
            await tx.CommitAsync(ct);
        }

        var columnList = SqlText.IdentList(manifest.Columns.Select(c => c.Name));
        await using (var tx = await conn.BeginTransactionAsync(ct))
        {
            await conn.ExecAsync($"LOCK TABLE {stg} IN SHARE ROW EXCLUSIVE MODE", ct);
            var empty = await IsEmptyAsync(conn, stg, ct);
            if (empty && manifest.Parts.Count > 1 && parallelism > 1)
            {
                await tx.CommitAsync(ct);
                var direct = await LoadEmptyInParallelAsync(manifest, folder, targetConnectionString, stg, columnList, parallelism, tally, ct);
                tally.Finish();
                return direct with { SchemaChanges = changes };
            }
            if (empty)
            {
                // First load: COPY straight into STG, frozen, in this one transaction.
                await conn.ExecAsync($"TRUNCATE {stg}", ct);
                var copySql = $"COPY {stg} ({columnList}, stg_row_hash, stg_run_id) FROM STDIN (FORMAT csv, FREEZE)";
                long rows = 0;
                foreach (var part in manifest.Parts)
                    rows += await LoadPartAsync(conn, folder, manifest, part, copySql, "," + manifest.RunId, tally, ct);
                if (manifest.SoftDeleteColumn is { } soft)
                    await conn.ExecAsync($"UPDATE {stg} SET stg_deleted_at = stg_inserted_at WHERE {SqlText.Ident(soft)} IS NOT NULL", ct);
                await tx.CommitAsync(ct);
                tally.Finish();
                return new LoadResult(rows, true, new MergeCounts(rows, 0, 0, 0), changes);
            }
            await tx.CommitAsync(ct);
        }

        // Later loads: stage into an unlogged table; parts in parallel, each on its own connection.
        var load = SqlText.Qualified(LoadSchema, LoadTableName(manifest.StgTable, manifest.RunId));
        var keys = SqlText.Qualified(LoadSchema, LoadTableName(manifest.StgTable, manifest.RunId, "__keys"));
        await conn.ExecAsync(DropLoadTablesSql(manifest), ct);
        // Whatever crashed runs of any table left behind goes now (see LoadTableSweep); its own sessions, not this load's.
        await LoadTableSweep.SweepAsync(conn, DateTimeOffset.UtcNow, LoadTableSweep.MaxAge, ct);
        var loadColumns = manifest.Columns.Select(c => $"{SqlText.Ident(c.Name)} {c.StgType}").Append("stg_row_hash bigint NOT NULL");
        // No autovacuum on a table that lives minutes: it would only start mid-load and stall the DDL that follows.
        await conn.ExecAsync($"CREATE UNLOGGED TABLE {load} ({string.Join(", ", loadColumns)}) WITH (autovacuum_enabled = false)", ct);
        var loadCopy = $"COPY {load} ({columnList}, stg_row_hash) FROM STDIN (FORMAT csv)";
        long total = 0;
        await Parallel.ForEachAsync(manifest.Parts, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, parallelism), CancellationToken = ct },
            async (part, token) =>
            {
                await using var partConn = await PgConnect.OpenAsync(targetConnectionString, token);
                await PgCopy.PinSessionAsync(partConn, token);
                var n = await LoadPartAsync(partConn, folder, manifest, part, loadCopy, "", tally, token);
                Interlocked.Add(ref total, n);
            });
        if (manifest.Keys is { } keysPart)
        {
            var keyColumns = manifest.Key.Select(k => $"{SqlText.Ident(k)} {manifest.Columns.First(c => c.Name == k).StgType}");
            await conn.ExecAsync($"CREATE UNLOGGED TABLE {keys} ({string.Join(", ", keyColumns)}) WITH (autovacuum_enabled = false)", ct);
            await LoadPartAsync(conn, folder, manifest with { Columns = manifest.Columns.Where(c => manifest.Key.Contains(c.Name)).OrderBy(c => manifest.Key.ToList().IndexOf(c.Name)).ToList() },
                keysPart, $"COPY {keys} ({SqlText.IdentList(manifest.Key)}) FROM STDIN (FORMAT csv)", null, null, ct);
        }
        // The merge checks this note, so it never merges a load table left over from another run.
        await conn.ExecAsync($"COMMENT ON TABLE {load} IS {SqlText.Literal(LoadNote(manifest.RunId, total))}", ct);
        await conn.ExecAsync($"ANALYZE {load}", ct);
        tally.Finish();
        return new LoadResult(total, false, null, changes);
    }

    /// <summary>
    /// A first load of several parts: each lane (connection) copies parts straight into the empty STG table
    /// in its own open transaction; only when every part has passed its checks do the lanes commit. A bad
    /// part rolls every lane back, so STG stays empty. (A crash between two commits leaves some parts in;
    /// the next run then merges instead of loading, and ends in the same state.)
    /// </summary>
    private async Task<LoadResult> LoadEmptyInParallelAsync(Manifest manifest, string folder, string targetConnectionString, string stg,
        string columnList, int parallelism, ProgressTotal tally, CancellationToken ct)
    {
        var copySql = $"COPY {stg} ({columnList}, stg_row_hash, stg_run_id) FROM STDIN (FORMAT csv)";
        var lanes = new List<(NpgsqlConnection Conn, NpgsqlTransaction Tx)>();
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(ct);
        try
        {
            for (var i = 0; i < Math.Min(parallelism, manifest.Parts.Count); i++)
            {
                var conn = await PgConnect.OpenAsync(targetConnectionString, ct);
                lanes.Add((conn, await conn.BeginTransactionAsync(ct)));
                await PgCopy.PinSessionAsync(conn, ct);
            }
            var queue = new System.Collections.Concurrent.ConcurrentQueue<PartInfo>(manifest.Parts);
            long rows = 0;
            var work = lanes.Select(async lane =>
            {
                try
                {
                    while (queue.TryDequeue(out var part))
                        Interlocked.Add(ref rows, await LoadPartAsync(lane.Conn, folder, manifest, part, copySql, "," + manifest.RunId, tally, failed.Token));
                }
                catch
                {
                    await failed.CancelAsync();
                    throw;
                }
            }).ToList();
            try
            {
                await Task.WhenAll(work);
            }
            catch when (!ct.IsCancellationRequested)
            {
                // Report the part that failed, not the lanes stopped because of it.
                var cause = work.Where(t => t.IsFaulted).Select(t => t.Exception!.GetBaseException())
                    .FirstOrDefault(e => e is not OperationCanceledException);
                if (cause is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(cause);
                throw;
            }
            foreach (var lane in lanes)
                await lane.Tx.CommitAsync(ct);
            if (manifest.SoftDeleteColumn is { } soft)
                await lanes[0].Conn.ExecAsync($"UPDATE {stg} SET stg_deleted_at = stg_inserted_at WHERE {SqlText.Ident(soft)} IS NOT NULL", ct);
            return new LoadResult(rows, true, new MergeCounts(rows, 0, 0, 0), []);
        }
        finally
        {
            foreach (var lane in lanes)
            {
                await lane.Tx.DisposeAsync();   // rolls back what was not committed
                await lane.Conn.DisposeAsync();
            }
        }
    }

    public static string LoadNote(string runId, long rows) => $"ferry run {runId}: {rows} rows";

    /// <summary>Streams one part into COPY, checking it against the manifest; returns its row count.</summary>
    private async Task<long> LoadPartAsync(NpgsqlConnection conn, string folder, Manifest manifest, PartInfo part, string copySql,
        string? suffix, ProgressTotal? tally, CancellationToken ct)
    {
        var where = $"{manifest.ProcessId}: load failed: {part.Name}";
        long rows;
        long bytes;
        string sha;
        try
        {
            await using var source = await store.OpenReadAsync(folder + part.Name, ct);
            await using var hashing = new HashingStream(source);
            await using var import = await PgCopy.ImportAsync(conn, copySql, ct);
            await using (var gunzip = new GZipStream(hashing, CompressionMode.Decompress, leaveOpen: true))
            {
                var hasher = new CsvRowHasher(manifest.Columns.Select(c => c.Name).ToList(), suffix ?? "", appendHash: suffix is not null);
                rows = await hasher.CopyAsync(gunzip, import.Stream, part.Name, ct);
            }
            // Hash whatever gzip did not need to read, so the checksum covers the whole object.
            var rest = new byte[81920];
            while (await hashing.ReadAsync(rest, ct) > 0) { }
            bytes = hashing.BytesSeen;
            sha = hashing.Sha256Hex;
            if (bytes != part.Bytes || sha != part.Sha256)
                throw new InvalidDataException(
                    $"{part.Name} is corrupt: {bytes:N0} bytes with SHA-256 {sha[..12]}…, the manifest says {part.Bytes:N0} bytes, {part.Sha256[..Math.Min(12, part.Sha256.Length)]}…");
            if (rows != part.Rows)
                throw new InvalidDataException($"{part.Name} is truncated (expected {part.Rows:N0} rows, read {rows:N0})");
            await import.CompleteAsync();
        }
        catch (InvalidDataException e)
        {
            // Our own checks name the part; gzip's errors do not.
            var what = e.Message.StartsWith(part.Name, StringComparison.Ordinal) ? e.Message : $"{part.Name} is corrupt: {e.Message}";
            throw new LoadFailedException($"{manifest.ProcessId}: load failed: {what}; STG unchanged", e);
        }
        catch (ObjectNotFoundException e)
        {
            throw new LoadFailedException($"{where} is missing from the object store; STG unchanged", e);
        }
        catch (PostgresException e) when (!e.IsTransient)
        {
            // Bytes that decompress but are not the CSV the manifest describes: the database says why.
            throw new LoadFailedException($"{where} could not be loaded: {ErrorText.Of(e)}; STG unchanged", e);
        }
        tally?.Add(rows, bytes);
        return rows;
    }

    private static async Task<bool> IsEmptyAsync(NpgsqlConnection conn, string table, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand($"SELECT NOT EXISTS (SELECT 1 FROM {table})", conn);
        return (bool)(await cmd.ExecuteScalarAsync(ct))!;
    }

}

public class LoadFailedException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The merge found no load table for its run: the files must be loaded again first.</summary>
public sealed class LoadTableMissingException(string message) : LoadFailedException(message);
