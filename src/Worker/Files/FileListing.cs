using System.Runtime.CompilerServices;
using Ferry.Shared.Metadata;
using Ferry.Shared.Sql;
using Ferry.Shared.Stg;
using Npgsql;
using NpgsqlTypes;

namespace Ferry.Worker.Files;

/// <summary>What stg.file_copies says about an object from an earlier run.</summary>
internal sealed record PreviousCopy(string Status, string? TargetKey, long? SizeBytes, string? Checksum);

/// <summary>One object a run has to look at: the listing row, and its earlier copy if any.</summary>
internal sealed record ListedFile(string SourceKey, long? SizeBytes, string? Checksum, DateTimeOffset? CreatedAt, PreviousCopy? Previous);

/// <summary>
/// The list of objects of a files run, with flat memory: the source table's live rows are streamed
/// (binary COPY, source to target, never materialised here) into a temp table on the target session,
/// then joined there with stg.file_copies and read back one row at a time.
/// Bulk: every live row. Incremental: rows created in the window, plus every row not yet copied
/// (failed, or never seen) whatever its age.
/// </summary>
internal static class FileListing
{
    private const string Temp = "pg_temp.ferry_files_listing";

    /// <summary>Fills the temp table on <paramref name="target"/> (a session the caller keeps for <see cref="ReadAsync"/>); returns the rows listed.</summary>
    public static async Task<long> LoadAsync(FilesDefinition files, string sourceConnectionString, NpgsqlConnection target, CancellationToken ct)
    {
        await target.ExecAsync($"DROP TABLE IF EXISTS {Temp}", ct);
        await target.ExecAsync($"CREATE TEMP TABLE ferry_files_listing (source_key text, size_bytes bigint, checksum text, created_at timestamptz)", ct);

        string Col(string name) => "t." + SqlText.Ident(name);
        var checksum = files.ChecksumColumn is { } c ? $"{Col(c)}::text" : "NULL::text";
        var live = files.DeletedColumn is { } d ? $" AND {Col(d)} IS NULL" : "";
        var select = $"SELECT {Col(files.KeyColumn)}::text, {Col(files.SizeColumn)}::bigint, {checksum}, {Col(files.CreatedAtColumn)}::timestamptz " +
                     $"FROM {SqlText.Qualified(files.Schema, files.Table)} t WHERE {Col(files.KeyColumn)} IS NOT NULL{live}";

        await using var source = new NpgsqlConnection(sourceConnectionString);
        await source.OpenAsync(ct);
        // A timestamp without time zone (Rails' created_at) is UTC by convention: read it as such.
        await source.ExecAsync("SET TimeZone = 'UTC'", ct);
        await using (var reading = await source.BeginRawBinaryCopyAsync($"COPY ({select}) TO STDOUT (FORMAT binary)", ct))
        await using (var writing = await target.BeginRawBinaryCopyAsync($"COPY {Temp} FROM STDIN (FORMAT binary)", ct))
            await reading.CopyToAsync(writing, 1 << 16, ct);

        await target.ExecAsync($"ANALYZE {Temp}", ct);
        await using var count = new NpgsqlCommand($"SELECT count(*) FROM {Temp}", target);
        return (long)(await count.ExecuteScalarAsync(ct))!;
    }

    /// <summary>The objects to look at, one per source key, in key order; <paramref name="createdSince"/> null = all (bulk).</summary>
    public static async IAsyncEnumerable<ListedFile> ReadAsync(NpgsqlConnection target, string stgSchema, string processId, DateTimeOffset? createdSince,
        [EnumeratorCancellation] CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand($"""
            SELECT DISTINCT ON (l.source_key) l.source_key, l.size_bytes, l.checksum, l.created_at, c.status, c.target_key, c.size_bytes, c.checksum
            FROM {Temp} l
            LEFT JOIN {FileCopyTable.Qualified(stgSchema)} c ON c.process_id = $1 AND c.source_key = l.source_key
            WHERE $2::timestamptz IS NULL OR l.created_at >= $2 OR c.status IS DISTINCT FROM 'copied'
            ORDER BY l.source_key, l.created_at DESC NULLS LAST
            """, target);
        cmd.Parameters.Add(new NpgsqlParameter { Value = processId });
        cmd.Parameters.Add(new NpgsqlParameter { Value = createdSince is { } t ? t.UtcDateTime : DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            var previous = r.IsDBNull(4) ? null
                : new PreviousCopy(r.GetString(4), r.IsDBNull(5) ? null : r.GetString(5), r.IsDBNull(6) ? null : r.GetInt64(6), r.IsDBNull(7) ? null : r.GetString(7));
            yield return new ListedFile(r.GetString(0), r.IsDBNull(1) ? null : r.GetInt64(1), r.IsDBNull(2) ? null : r.GetString(2),
                r.IsDBNull(3) ? null : new DateTimeOffset(DateTime.SpecifyKind(r.GetDateTime(3), DateTimeKind.Utc)), previous);
        }
    }

    public static Task DropAsync(NpgsqlConnection target, CancellationToken ct) => target.ExecAsync($"DROP TABLE IF EXISTS {Temp}", ct);

    /// <summary>The incremental window's start: <see cref="FilesDefinition.WindowDays"/> before <paramref name="now"/>; null for bulk.</summary>
    public static DateTimeOffset? CreatedSince(FilesDefinition files, RunMode mode, DateTimeOffset now) =>
        mode == RunMode.Bulk ? null : now.AddDays(-files.WindowDays);
}
