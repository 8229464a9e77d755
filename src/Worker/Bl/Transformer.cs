using Ferry.Shared.Bl;
using Ferry.Shared.Metadata;
using Ferry.Shared.Sql;
using Ferry.Shared.Stg;
using Ferry.Worker.Stg;
using Npgsql;
using NpgsqlTypes;

namespace Ferry.Worker.Bl;

/// <summary>A transform that failed: the message names the process, the file (and line) and the database's cause.</summary>
public sealed class TransformFailedException(string processId, string message, Exception? inner = null)
    : Exception(message, inner)
{
    public string ProcessId { get; } = processId;
}

/// <summary>
/// Runs one BL transform against the target database in one transaction: the SELECT is materialised
/// into a temp table, then merged into the target table with real-change detection (rows written
/// only when some column differs). Rows the SELECT flags deleted are removed, and a full run also
/// removes target rows the SELECT no longer returns. Each successful run is recorded in dwh.bl_runs;
/// the next incremental run gets @since = that run's start, moved back to the start of the oldest
/// other transaction of the database still in progress then: STG stamps stg_updated_at with its
/// transaction's start, so a merge that began before this run but committed after its snapshot
/// has rows older than the run's start that this run did not see. Reading them again is harmless
/// (real-change detection).
/// </summary>
public static class Transformer
{
    private const string SourceTable = "bl_source";

    /// <summary>
    /// The next run's @since: now(), or the start of the oldest other transaction in this database.
    /// A backend whose activity this role may not see (no pg_read_all_stats) is assumed to have
    /// begun at most an hour ago; grant pg_read_all_stats to the BL role to make this exact.
    /// </summary>
    private const string InProgressSince =
        "SELECT least(now(), min(xact_start), CASE WHEN bool_or(state IS NULL AND backend_type = 'client backend') THEN now() - interval '1 hour' END) " +
        "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()";

    /// <summary>Runs <paramref name="file"/> in its own mode, or in <paramref name="mode"/> when given (a full rebuild of an incremental transform).</summary>
    public static async Task<MergeCounts> RunAsync(TransformFile file, string targetConnectionString, string runId,
        CancellationToken ct, TransformMode? mode = null)
    {
        var processId = file.ProcessId;
        var effectiveMode = mode ?? file.Mode;
        var target = SqlText.Qualified(file.Target.Schema, file.Target.Name);
        await using var conn = await PgConnect.OpenAsync(targetConnectionString, ct);
        await DwhSchema.EnsureAsync(conn, ct);

        await using var tx = await conn.BeginTransactionAsync(ct);
        var startedAt = await ScalarAsync<DateTime>(conn, "SELECT now()", ct);
        // Read before the SELECT's snapshot: whatever commits after it began no earlier than this.
        var nextSince = await ScalarAsync<DateTime>(conn, InProgressSince, ct);
        var since = effectiveMode == TransformMode.Full
            ? DateTime.MinValue
            : await ScalarAsync<DateTime?>(conn,
                "SELECT coalesce(next_since, started_at) FROM dwh.bl_runs WHERE process_id = $1 ORDER BY started_at DESC LIMIT 1", ct, processId) ?? DateTime.MinValue;

        var targetColumns = (await StgSchemaManager.ReadColumnsAsync(conn, file.Target.Schema, file.Target.Name, ct))
            .ToDictionary(c => c.Name, c => c.Type);
        if (targetColumns.Count == 0)
            throw Fail(file, $"the target table {file.Target.Schema}.{file.Target.Name} does not exist");

        // Materialise: the query is the file's text, so an error position maps back to a file line.
        var prefix = $"CREATE TEMP TABLE {SourceTable} ON COMMIT DROP AS\n";
        try
        {
            await using var cmd = new NpgsqlCommand(prefix + file.Query, conn, tx);
            if (file.Query.Contains("$1"))
                cmd.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.TimestampTz, Value = DateTime.SpecifyKind(since, DateTimeKind.Utc) });
            await cmd.ExecuteNonQueryAsync(ct);
        }
        catch (PostgresException e)
        {
            var where = e.Position > prefix.Length ? $"{file.FileName}:{file.LineOf(e.Position - prefix.Length)}" : file.FileName;
            throw new TransformFailedException(processId, $"{processId}: transform failed: {where}: {Describe(e)}; {file.Target.Schema}.{file.Target.Name} unchanged", e);
        }

        var sourceColumns = await ReadTempColumnsAsync(conn, ct);
        CheckColumns(file, sourceColumns, targetColumns);

        var duplicate = await ScalarAsync<string?>(conn,
            $"SELECT ({SqlText.IdentList(file.Key)})::text FROM {SourceTable} GROUP BY {SqlText.IdentList(file.Key)} HAVING count(*) > 1 LIMIT 1", ct);
        if (duplicate is not null)
            throw Fail(file, $"the SELECT returns key ({string.Join(", ", file.Key)}) = {duplicate} more than once");

        var columns = sourceColumns.Select(c => c.Name).Where(c => c != file.DeletedColumn).ToList();
        var nonKey = columns.Where(c => !file.Key.Contains(c)).ToList();
        string S(string c) => $"s.{SqlText.Ident(c)}::{targetColumns[c]}";
        string T(string c) => $"t.{SqlText.Ident(c)}";
        var keyJoin = string.Join(" AND ", file.Key.Select(k => $"{T(k)} = {S(k)}"));
        var live = file.DeletedColumn is { } d ? $"s.{SqlText.Ident(d)} IS NOT TRUE" : "true";

        try
        {
            await conn.ExecAsync($"ANALYZE {SourceTable}", ct);
            var returned = await ScalarAsync<long>(conn, $"SELECT count(*) FROM {SourceTable} s WHERE {live}", ct);

            long deleted = 0;
            if (effectiveMode == TransformMode.Full)
                deleted = await conn.ExecAsync($"DELETE FROM {target} t WHERE NOT EXISTS (SELECT 1 FROM {SourceTable} s WHERE {keyJoin} AND {live})", ct);
            else if (file.DeletedColumn is { } del)
                deleted = await conn.ExecAsync($"DELETE FROM {target} t USING {SourceTable} s WHERE {keyJoin} AND s.{SqlText.Ident(del)} IS TRUE", ct);

            long updated = 0;
            if (nonKey.Count > 0)
                updated = await conn.ExecAsync($"""
                    UPDATE {target} t SET {string.Join(", ", nonKey.Select(c => $"{SqlText.Ident(c)} = {S(c)}"))}
                    FROM {SourceTable} s
                    WHERE {keyJoin} AND {live}
                      AND ROW({string.Join(", ", nonKey.Select(T))}) IS DISTINCT FROM ROW({string.Join(", ", nonKey.Select(S))})
                    """, ct);

            var inserted = await conn.ExecAsync($"""
                INSERT INTO {target} ({SqlText.IdentList(columns)})
                SELECT {string.Join(", ", columns.Select(S))} FROM {SourceTable} s
                WHERE {live} AND NOT EXISTS (SELECT 1 FROM {target} t WHERE {keyJoin})
                """, ct);

            var counts = new MergeCounts(inserted, updated, deleted, returned - inserted - updated);
            await conn.ExecAsync("""
                INSERT INTO dwh.bl_runs (process_id, run_id, mode, since, started_at, finished_at, inserted, updated, deleted, unchanged, next_since)
                VALUES ($1, $2, $3, $4, $5, clock_timestamp(), $6, $7, $8, $9, $10)
                """, ct, Value(processId), Value(runId), Value(effectiveMode.ToString().ToLowerInvariant()),
                new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.TimestampTz, Value = DateTime.SpecifyKind(since, DateTimeKind.Utc) },
                Value(startedAt), Value(counts.Inserted), Value(counts.Updated), Value(counts.Deleted), Value(counts.Unchanged), Value(nextSince));
            await tx.CommitAsync(ct);
            return counts;
        }
        catch (PostgresException e)
        {
            throw new TransformFailedException(processId,
                $"{processId}: merge into {file.Target.Schema}.{file.Target.Name} failed: {file.FileName}: {Describe(e)}; {file.Target.Schema}.{file.Target.Name} unchanged", e);
        }
    }

    private static TransformFailedException Fail(TransformFile file, string cause) =>
        new(file.ProcessId, $"{file.ProcessId}: transform failed: {file.FileName}: {cause}; {file.Target.Schema}.{file.Target.Name} unchanged");

    private static string Describe(PostgresException e) =>
        e.MessageText + (e.Detail is { Length: > 0 } detail ? $" ({detail})" : "");

    private static void CheckColumns(TransformFile file, IReadOnlyList<(string Name, string Type)> source, IReadOnlyDictionary<string, string> target)
    {
        var names = source.Select(c => c.Name).ToHashSet();
        foreach (var k in file.Key.Where(k => !names.Contains(k)))
            throw Fail(file, $"key column '{k}' is not an output column of the SELECT");
        if (file.DeletedColumn is { } del)
        {
            var col = source.FirstOrDefault(c => c.Name == del);
            if (col.Name is null) throw Fail(file, $"deleted column '{del}' is not an output column of the SELECT");
            if (col.Type != "boolean") throw Fail(file, $"deleted column '{del}' is {col.Type}, not boolean");
        }
        var missing = source.Where(c => c.Name != file.DeletedColumn && !target.ContainsKey(c.Name)).Select(c => c.Name).ToList();
        if (missing.Count > 0)
            throw Fail(file, $"the SELECT returns {string.Join(", ", missing)}, which {(missing.Count == 1 ? "is not a column" : "are not columns")} of {file.Target.Schema}.{file.Target.Name}");
    }

    private static async Task<IReadOnlyList<(string Name, string Type)>> ReadTempColumnsAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand($"""
            SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
            WHERE attrelid = 'pg_temp.{SourceTable}'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum
            """, conn);
        var result = new List<(string, string)>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct)) result.Add((r.GetString(0), r.GetString(1)));
        return result;
    }

    private static NpgsqlParameter Value(object value) => new() { Value = value };

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection conn, string sql, CancellationToken ct, params object[] values)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        foreach (var v in values) cmd.Parameters.Add(new NpgsqlParameter { Value = v });
        var result = await cmd.ExecuteScalarAsync(ct);
        return result is null or DBNull ? default! : (T)result;
    }
}
