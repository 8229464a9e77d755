using Ferry.Shared.Sql;
using Npgsql;
using NpgsqlTypes;

namespace Ferry.Worker.Files;

/// <summary>One row of stg.file_copies: where an object of a files process went, and how its last copy went.</summary>
public sealed record FileCopyRecord(
    string ProcessId,
    string SourceKey,
    string? TargetKey,
    long? SizeBytes,
    string? Checksum,
    string Status,
    string? Error,
    string RunId,
    int Attempts,
    DateTimeOffset? SourceCreatedAt,
    DateTimeOffset StgInsertedAt,
    DateTimeOffset StgUpdatedAt);

/// <summary>What a copy attempt wrote to stg.file_copies (a skipped file writes nothing).</summary>
internal sealed record FileCopyRow(string SourceKey, string? TargetKey, long? SizeBytes, string? Checksum, string Status, string? Error, DateTimeOffset? SourceCreatedAt);

/// <summary>
/// stg.file_copies: source key → target key, size, checksum and status of every object a files process
/// has tried to copy; BL SQL joins it to give attachments their new location. A row's stg_updated_at
/// moves only when what BL reads (target key, size, checksum, status, error, created_at) changes;
/// run_id and attempts record every attempt.
/// </summary>
public static class FileCopyTable
{
    public const string TableName = "file_copies";
    public const string Copied = "copied";
    public const string Failed = "failed";

    public static string Qualified(string stgSchema) => SqlText.Qualified(stgSchema, TableName);

    /// <summary>Creates the schema and the table if missing; safe when several processes do it at once.</summary>
    public static async Task EnsureAsync(NpgsqlConnection conn, string stgSchema, CancellationToken ct)
    {
        await conn.EnsureSchemaAsync(stgSchema, ct);
        var table = Qualified(stgSchema);
        await TolerateRaceAsync(conn, $"""
            CREATE TABLE IF NOT EXISTS {table} (
              process_id        text        NOT NULL,
              source_key        text        NOT NULL,
              target_key        text,
              size_bytes        bigint,
              checksum          text,
              status            text        NOT NULL,
              error             text,
              run_id            text        NOT NULL,
              attempts          integer     NOT NULL,
              source_created_at timestamptz,
              stg_inserted_at   timestamptz NOT NULL,
              stg_updated_at    timestamptz NOT NULL,
              PRIMARY KEY (process_id, source_key)
            )
            """, ct);
        // `ferry files failures` and the retry of failed files read these few rows, not the whole table.
        await TolerateRaceAsync(conn,
            $"CREATE INDEX IF NOT EXISTS {SqlText.Ident(TableName + "_failed")} ON {table} (process_id, source_key) WHERE status = 'failed'", ct);
    }

    /// <summary>Two sessions creating the same object at once: the loser sees a catalog unique violation, which means it is there.</summary>
    private static async Task TolerateRaceAsync(NpgsqlConnection conn, string sql, CancellationToken ct)
    {
        try { await conn.ExecAsync(sql, ct); }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.DuplicateTable or PostgresErrorCodes.DuplicateObject) { }
    }

    /// <summary>Records a batch of copy attempts of one run in one statement.</summary>
    internal static async Task WriteAsync(NpgsqlConnection conn, string stgSchema, string processId, string runId, IReadOnlyList<FileCopyRow> rows, CancellationToken ct)
    {
        if (rows.Count == 0) return;
        await conn.ExecAsync($"""
            INSERT INTO {Qualified(stgSchema)} AS c (process_id, source_key, target_key, size_bytes, checksum, status, error, run_id, attempts,
                                                   source_created_at, stg_inserted_at, stg_updated_at)
            SELECT $1, r.source_key, r.target_key, r.size_bytes, r.checksum, r.status, r.error, $2, 1, r.source_created_at, now(), now()
            FROM unnest($3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[], $8::text[], $9::timestamptz[])
                 AS r(source_key, target_key, size_bytes, checksum, status, error, source_created_at)
            ON CONFLICT (process_id, source_key) DO UPDATE SET
                target_key = excluded.target_key, size_bytes = excluded.size_bytes, checksum = excluded.checksum,
                status = excluded.status, error = excluded.error, source_created_at = excluded.source_created_at,
                run_id = excluded.run_id, attempts = c.attempts + 1,
                stg_updated_at = CASE WHEN (c.target_key, c.size_bytes, c.checksum, c.status, c.error, c.source_created_at)
                                          IS DISTINCT FROM (excluded.target_key, excluded.size_bytes, excluded.checksum, excluded.status, excluded.error, excluded.source_created_at)
                                      THEN now() ELSE c.stg_updated_at END
            """, ct,
            new NpgsqlParameter { Value = processId },
            new NpgsqlParameter { Value = runId },
            Array(rows.Select(r => r.SourceKey), NpgsqlDbType.Text),
            Array(rows.Select(r => r.TargetKey), NpgsqlDbType.Text),
            new NpgsqlParameter { Value = rows.Select(r => r.SizeBytes).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint },
            Array(rows.Select(r => r.Checksum), NpgsqlDbType.Text),
            Array(rows.Select(r => r.Status), NpgsqlDbType.Text),
            Array(rows.Select(r => r.Error), NpgsqlDbType.Text),
            new NpgsqlParameter { Value = rows.Select(r => r.SourceCreatedAt).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
    }

    private static NpgsqlParameter Array(IEnumerable<string?> values, NpgsqlDbType type) =>
        new() { Value = values.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | type };

    /// <summary>The failed files of one process (or of all when <paramref name="processId"/> is null), by process and key; none when the table does not exist yet.</summary>
    public static async Task<IReadOnlyList<FileCopyRecord>> ListFailedAsync(NpgsqlConnection conn, string stgSchema, string? processId, int limit, CancellationToken ct)
    {
        await using (var exists = new NpgsqlCommand("SELECT to_regclass($1) IS NOT NULL", conn))
        {
            exists.Parameters.Add(new NpgsqlParameter { Value = Qualified(stgSchema) });
            if (!(bool)(await exists.ExecuteScalarAsync(ct))!) return [];
        }
        await using var cmd = new NpgsqlCommand($"""
            SELECT process_id, source_key, target_key, size_bytes, checksum, status, error, run_id, attempts, source_created_at, stg_inserted_at, stg_updated_at
            FROM {Qualified(stgSchema)}
            WHERE status = 'failed' AND ($1::text IS NULL OR process_id = $1)
            ORDER BY process_id, source_key
            LIMIT $2
            """, conn);
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)processId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter { Value = limit });
        var result = new List<FileCopyRecord>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            result.Add(new FileCopyRecord(r.GetString(0), r.GetString(1), Text(r, 2), r.IsDBNull(3) ? null : r.GetInt64(3), Text(r, 4),
                r.GetString(5), Text(r, 6), r.GetString(7), r.GetInt32(8), Time(r, 9), Time(r, 10)!.Value, Time(r, 11)!.Value));
        }
        return result;
    }

    private static string? Text(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    private static DateTimeOffset? Time(NpgsqlDataReader r, int i) =>
        r.IsDBNull(i) ? null : new DateTimeOffset(DateTime.SpecifyKind(r.GetDateTime(i), DateTimeKind.Utc));
}
