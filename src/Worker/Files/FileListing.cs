using System.Runtime.CompilerServices;
using Ferry.Shared.Metadata;
using Ferry.Shared.Sql;
using Ferry.Shared.Stg;
using Ferry.Worker.Stg;
using Npgsql;
using NpgsqlTypes;

namespace Ferry.Worker.Files;

/// <summary>What stg.file_copies says about an object from an earlier run.</summary>
internal sealed record PreviousCopy(string Status, string? TargetKey, long? SizeBytes, string? Checksum);

/// <summary>One object a run has to look at: the listing row, and its earlier copy if any.</summary>
internal sealed record ListedFile(string SourceKey, long? SizeBytes, string? Checksum, DateTimeOffset? CreatedAt, PreviousCopy? Previous);

/// <summary>
/// The list of objects of a files run, with flat memory: the source table's live rows are streamed
/// (binary COPY, source to target, never materialised here) into an unlogged table of the run in the
/// target's stg_load schema, kept from the Listing step to the Copying step (so a run resumed on another
/// worker copies from the same list), then joined there with stg.file_copies and read back one row at a time.
/// Bulk: every live row. Incremental: rows created in the window, plus every row not yet copied
/// (failed, or never seen) whatever its age.
/// </summary>
internal static class FileListing
{
    /// <summary>The run's listing table: one per files process (a process runs one run at a time).</summary>
    public static string Table(FilesDefinition files) => SqlText.Qualified(Loader.LoadSchema, "files_" + files.Name);

    /// <summary>Fills the listing table on <paramref name="target"/>; returns the rows listed.</summary>
    public static async Task<long> LoadAsync(FilesDefinition files, string sourceConnectionString, NpgsqlConnection target, CancellationToken ct)
    {
        var table = Table(files);
        await target.EnsureSchemaAsync(Loader.LoadSchema, ct);
        await target.ExecAsync($"DROP TABLE IF EXISTS {table}", ct);
        await target.ExecAsync($"CREATE UNLOGGED TABLE {table} (source_key text, size_bytes bigint, checksum text, created_at timestamptz)", ct);

        string Col(string name) => "t." + SqlText.Ident(name);
        var checksum = files.ChecksumColumn is { } c ? $"{Col(c)}::text" : "NULL::text";
        var live = files.DeletedColumn is { } d ? $" AND {Col(d)} IS NULL" : "";
        var select = $"SELECT {Col(files.KeyColumn)}::text, {Col(files.SizeColumn)}::bigint, {checksum}, {Col(files.CreatedAtColumn)}::timestamptz " +
                     $"FROM {SqlText.Qualified(files.Schema, files.Table)} t WHERE {Col(files.KeyColumn)} IS NOT NULL{live}";

        await using var source = await PgConnect.OpenAsync(sourceConnectionString, ct);
        // A timestamp without time zone (Rails' created_at) is UTC by convention: read it as such.
        await source.ExecAsync("SET TimeZone = 'UTC'", ct);
        await using (var reading = await source.BeginRawBinaryCopyAsync($"COPY ({select}) TO STDOUT (FORMAT binary)", ct))
        await using (var writing = await target.BeginRawBinaryCopyAsync($"COPY {table} FROM STDIN (FORMAT binary)", ct))
            await reading.CopyToAsync(writing, 1 << 16, ct);

        await target.ExecAsync($"ANALYZE {table}", ct);
        return await CountAsync(files, target, ct) ?? 0;
    }

    /// <summary>The rows of the listing table, or null when it is not there.</summary>
    public static async Task<long?> CountAsync(FilesDefinition files, NpgsqlConnection target, CancellationToken ct)
    {
        await using var exists = new NpgsqlCommand("SELECT to_regclass($1) IS NOT NULL", target);
        exists.Parameters.Add(new NpgsqlParameter { Value = Table(files) });
        if (!(bool)(await exists.ExecuteScalarAsync(ct))!) return null;
        await using var count = new NpgsqlCommand($"SELECT count(*) FROM {Table(files)}", target);
        return (long)(await count.ExecuteScalarAsync(ct))!;
    }

    /// <summary>The objects to look at, one per source key, in key order; <paramref name="createdSince"/> null = all (bulk).</summary>
    public static async IAsyncEnumerable<ListedFile> ReadAsync(NpgsqlConnection target, FilesDefinition files, string stgSchema, DateTimeOffset? createdSince,
        [EnumeratorCancellation] CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand($"""
            SELECT DISTINCT ON (l.source_key) l.source_key, l.size_bytes, l.checksum, l.created_at, c.status, c.target_key, c.size_bytes, c.checksum
            FROM {Table(files)} l
            LEFT JOIN {FileCopyTable.Qualified(stgSchema)} c ON c.process_id = $1 AND c.source_key = l.source_key
            WHERE $2::timestamptz IS NULL OR l.created_at >= $2 OR c.status IS DISTINCT FROM 'copied'
            ORDER BY l.source_key, l.created_at DESC NULLS LAST
            """, target);
        cmd.Parameters.Add(new NpgsqlParameter { Value = files.ProcessId });
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

    public static Task DropAsync(FilesDefinition files, NpgsqlConnection target, CancellationToken ct) => target.ExecAsync($"DROP TABLE IF EXISTS {Table(files)}", ct);

    /// <summary>The incremental window's start: <see cref="FilesDefinition.WindowDays"/> before <paramref name="listedAt"/>; null for bulk.</summary>
    public static DateTimeOffset? CreatedSince(FilesDefinition files, RunMode mode, DateTimeOffset listedAt) =>
        mode == RunMode.Bulk ? null : listedAt.AddDays(-files.WindowDays);
}
