using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Ferry.Shared.Metadata;
using Ferry.Shared.Sql;
using Ferry.Shared.Storage;
using Ferry.Shared.Verify;
using Ferry.Worker.Files;
using Npgsql;
using NpgsqlTypes;

namespace Ferry.Worker.Verify;

/// <summary>
/// verify.files.&lt;name&gt;: every live row of the files process's listing table (the files process's own live
/// predicate: key set, not soft-deleted) has a copy recorded in stg.file_copies, and the object is in the target
/// store with the listing's size and checksum, checked on the store itself: an S3 single-part ETag is the MD5,
/// anything else (multipart, the filesystem store) is read back and hashed, streamed. A missing copy or object is
/// Missing, a wrong size or checksum is Different ("size" / "checksum", both values), by source key. Then every
/// non-NULL value of the BL column <see cref="FilesDefinition.ReferencedBy"/> that fits this process's target key
/// layout must name an object in the store: one that does not is Extra, by the BL row's primary key.
/// The listing (source) and stg.file_copies (target) are both streamed in key order and merged; only the
/// differences are kept.
/// </summary>
public sealed class FilesVerifier(MigrationMetadata metadata)
{
    private const int BufferSize = 128 * 1024;

    private string StgSchema => metadata.Target.StgSchema;

    public async Task<VerifyResult> RunAsync(FilesDefinition files, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(files);
        var processId = VerifyProcesses.Of(files);
        var subject = $"{files.ListingTable} on {files.Source} → {files.TargetKeyTemplate}";
        var clock = Stopwatch.StartNew();
        var stage = $"read {files.ListingTable} on {files.Source}";
        var store = ObjectStoreFactory.Create(files.TargetStore, metadata.ProjectFolder);
        try
        {
            var items = new ConcurrentBag<VerifyDifference>();
            long live = 0, found = 0;
            if (!metadata.Sources.TryGetValue(files.Source, out var sourceDb))
                return VerifyResult.Failure(processId, subject, $"{processId}: unknown source '{files.Source}' (defined: {string.Join(", ", metadata.Sources.Keys)})", clock.Elapsed);
            await using var source = await PgConnect.OpenAsync(sourceDb.ToConnectionString(IndicatorChecks.ApplicationName), ct);
            await using var target = await PgConnect.OpenAsync(metadata.Target.ToConnectionString(IndicatorChecks.ApplicationName), ct);

            stage = $"read {files.ListingTable} on {files.Source} and {FileCopyTable.Qualified(StgSchema)}";
            var pairs = Merge(ListingAsync(source, files, ct), CopiesAsync(target, files, ct), ct);
            await Parallel.ForEachAsync(pairs, new ParallelOptions { MaxDegreeOfParallelism = files.Parallelism, CancellationToken = ct }, async (pair, token) =>
            {
                Interlocked.Increment(ref live);
                var difference = await CheckCopyAsync(files, store, pair.Listed, pair.Copy, token);
                if (difference is null || difference.Kind == DifferenceKind.Different) Interlocked.Increment(ref found);
                if (difference is not null) items.Add(difference);
            });

            string? note = null;
            if (files.ReferencedBy is { } reference)
            {
                stage = $"read {reference}";
                var (rows, dangling) = await CheckReferencesAsync(files, target, store, reference, ct);
                foreach (var d in dangling) items.Add(d);
                note = $"{rows.ToString("N0", CultureInfo.InvariantCulture)} {reference.Schema}.{reference.Table} row{(rows == 1 ? "" : "s")} point into {files.TargetKeyTemplate}"
                       + (dangling.Count > 0 ? $", {dangling.Count.ToString("N0", CultureInfo.InvariantCulture)} at no object" : ", each at an object");
            }
            var sorted = items.OrderBy(i => i.Kind == DifferenceKind.Extra).ThenBy(i => i.Item, StringComparer.Ordinal).ToList();
            return new VerifyResult(processId, subject, VerifyResult.OutcomeOf(sorted), live, found, sorted, clock.Elapsed, Note: note);
        }
        catch (NpgsqlException e) when (!ct.IsCancellationRequested)
        {
            var cause = e is PostgresException pg ? $"{pg.MessageText} (SQLSTATE {pg.SqlState})" : e.Message;
            return VerifyResult.Failure(processId, subject, $"{processId}: {stage} failed: {cause}", clock.Elapsed);
        }
        catch (Exception e) when (e is IOException or HttpRequestException or TimeoutException && !ct.IsCancellationRequested)
        {
            return VerifyResult.Failure(processId, subject, $"{processId}: the target store {store.Describe()} failed: {e.Message}", clock.Elapsed);
        }
        finally
        {
            (store as IDisposable)?.Dispose();
        }
    }

    private sealed record Listed(string Key, long? Size, string? Checksum);

    private sealed record Copy(string SourceKey, string Status, string? TargetKey, long? Size, string? Checksum, string? Error);

    private sealed record Pair(Listed Listed, Copy? Copy);

    /// <summary>The live listing rows, one per key (the newest), in byte order of the key.</summary>
    private static async IAsyncEnumerable<Listed> ListingAsync(NpgsqlConnection source, FilesDefinition files, [EnumeratorCancellation] CancellationToken ct)
    {
        string Col(string name) => "t." + SqlText.Ident(name);
        var checksum = files.ChecksumColumn is { } c ? $"{Col(c)}::text" : "NULL::text";
        var live = files.DeletedColumn is { } d ? $" AND {Col(d)} IS NULL" : "";
        await using var cmd = new NpgsqlCommand(
            $"SELECT DISTINCT ON (k) k, size, checksum FROM (SELECT {Col(files.KeyColumn)}::text COLLATE \"C\" AS k, {Col(files.SizeColumn)}::bigint AS size, " +
            $"{checksum} AS checksum, {Col(files.CreatedAtColumn)} AS created_at FROM {SqlText.Qualified(files.Schema, files.Table)} t " +
            $"WHERE {Col(files.KeyColumn)} IS NOT NULL{live}) s ORDER BY k, created_at DESC NULLS LAST", source) { CommandTimeout = 0 };
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
            yield return new Listed(r.GetString(0), r.IsDBNull(1) ? null : r.GetInt64(1), r.IsDBNull(2) ? null : r.GetString(2));
    }

    /// <summary>The process's rows of stg.file_copies in byte order of the source key; none when the table is not there yet.</summary>
    private async IAsyncEnumerable<Copy> CopiesAsync(NpgsqlConnection target, FilesDefinition files, [EnumeratorCancellation] CancellationToken ct)
    {
        var table = FileCopyTable.Qualified(StgSchema);
        await using (var exists = new NpgsqlCommand("SELECT to_regclass($1) IS NOT NULL", target))
        {
            exists.Parameters.Add(new NpgsqlParameter { Value = table });
            if (!(bool)(await exists.ExecuteScalarAsync(ct))!) yield break;
        }
        await using var cmd = new NpgsqlCommand(
            $"SELECT source_key COLLATE \"C\", status, target_key, size_bytes, checksum, error FROM {table} WHERE process_id = $1 ORDER BY 1", target) { CommandTimeout = 0 };
        cmd.Parameters.Add(new NpgsqlParameter { Value = files.ProcessId });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
            yield return new Copy(r.GetString(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2), r.IsDBNull(3) ? null : r.GetInt64(3),
                r.IsDBNull(4) ? null : r.GetString(4), r.IsDBNull(5) ? null : r.GetString(5));
    }

    /// <summary>Each listed file with its copy (or none), merging the two key-ordered streams; copies of files no longer live are skipped.</summary>
    private static async IAsyncEnumerable<Pair> Merge(IAsyncEnumerable<Listed> listing, IAsyncEnumerable<Copy> copies, [EnumeratorCancellation] CancellationToken ct)
    {
        await using var c = copies.GetAsyncEnumerator(ct);
        var hasCopy = await c.MoveNextAsync();
        await foreach (var listed in listing.WithCancellation(ct))
        {
            while (hasCopy && string.CompareOrdinal(c.Current.SourceKey, listed.Key) < 0) hasCopy = await c.MoveNextAsync();
            yield return new Pair(listed, hasCopy && c.Current.SourceKey == listed.Key ? c.Current : null);
        }
    }

    /// <summary>One live file against its copy and the object in the store; null when all agree.</summary>
    private static async Task<VerifyDifference?> CheckCopyAsync(FilesDefinition files, IObjectStore store, Listed listed, Copy? copy, CancellationToken ct)
    {
        if (copy is not { Status: FileCopyTable.Copied, TargetKey: { } targetKey })
            return new VerifyDifference(DifferenceKind.Missing, listed.Key, [], Detail: copy is null
                ? "no copy recorded in stg.file_copies"
                : $"no verified copy: stg.file_copies says {copy.Status}{(copy.Error is { } e ? $" ({e})" : "")}");

        var info = await store.StatAsync(targetKey, ct);
        if (info is null)
            return new VerifyDifference(DifferenceKind.Missing, listed.Key, [],
                Detail: $"stg.file_copies records the copy {targetKey}, but {store.Describe()} has no such object");

        var expectedSize = listed.Size ?? copy.Size;
        if (expectedSize is { } size && info.Size != size)
            return Different(listed.Key, "size", size.ToString(CultureInfo.InvariantCulture), info.Size.ToString(CultureInfo.InvariantCulture),
                $"{targetKey} in {store.Describe()} has {info.Size:N0} bytes, {files.ListingTable} says {size:N0}");

        string? expected;
        try
        {
            expected = FileChecksum.FromListing(listed.Checksum, files.ChecksumFormat) ?? copy.Checksum;
        }
        catch (FormatException e)
        {
            return Different(listed.Key, "checksum", listed.Checksum, null, $"{files.ListingTable}.{files.ChecksumColumn}: {e.Message}");
        }
        if (expected is null) return null; // nothing to compare with: verified by size only

        // An S3 single-part ETag is the object's MD5; a multipart one, and the filesystem store's change marker, are not.
        var actual = (files.TargetStore.Kind == ObjectStoreKind.S3 ? FileChecksum.FromETag(info.ETag) : null)
                     ?? await HashAsync(store, targetKey, ct);
        return actual == expected ? null
            : Different(listed.Key, "checksum", expected, actual, $"{targetKey} in {store.Describe()} is not the file {files.ListingTable} lists");
    }

    private static VerifyDifference Different(string key, string column, string? source, string? target, string detail) =>
        new(DifferenceKind.Different, key, [column],
            new Dictionary<string, string?> { [column] = source }, new Dictionary<string, string?> { [column] = target }, detail);

    private static async Task<string> HashAsync(IObjectStore store, string key, CancellationToken ct)
    {
        await using var input = await store.OpenReadAsync(key, ct);
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            int n;
            while ((n = await input.ReadAsync(buffer.AsMemory(0, BufferSize), ct)) > 0) md5.AppendData(buffer, 0, n);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return FileChecksum.Md5(md5.GetHashAndReset());
    }

    /// <summary>
    /// The BL rows whose <paramref name="reference"/> value fits this process's target key layout, and those among
    /// them that name no object. A value that also fits a more specific layout of another files process naming the
    /// same column (a longer fixed prefix and suffix; on a tie, the process first by name) is that process's to check,
    /// so no BL row is reported twice.
    /// </summary>
    private async Task<(long Rows, List<VerifyDifference> Dangling)> CheckReferencesAsync(FilesDefinition files, NpgsqlConnection target,
        IObjectStore store, ObjectReference reference, CancellationToken ct)
    {
        var (prefix, suffix) = files.TargetKeyParts;
        int Weight(FilesDefinition f) => f.TargetKeyParts.Prefix.Length + f.TargetKeyParts.Suffix.Length;
        var others = metadata.Files
            .Where(f => f.ProcessId != files.ProcessId && f.ReferencedBy == reference
                        && (Weight(f) > Weight(files) || Weight(f) == Weight(files) && string.CompareOrdinal(f.Name, files.Name) < 0))
            .Select(f => Like(f.TargetKeyParts.Prefix, f.TargetKeyParts.Suffix))
            .ToArray();

        var key = await PrimaryKeyAsync(target, reference, ct);
        var named = key.Count > 0 ? key : [reference.Column];
        var column = "b." + SqlText.Ident(reference.Column);
        await using var cmd = new NpgsqlCommand(
            $"SELECT {column}, {string.Join(", ", named.Select(c => "b." + SqlText.Ident(c) + "::text"))} " +
            $"FROM {SqlText.Qualified(reference.Schema, reference.Table)} b " +
            $"WHERE {column} LIKE $1 AND NOT ({column} LIKE ANY ($2)) ORDER BY {string.Join(", ", named.Select(c => "b." + SqlText.Ident(c)))}", target)
        { CommandTimeout = 0 };
        cmd.Parameters.Add(new NpgsqlParameter { Value = Like(prefix, suffix) });
        cmd.Parameters.Add(new NpgsqlParameter { Value = others, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });

        long rows = 0;
        var dangling = new ConcurrentBag<VerifyDifference>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        await Parallel.ForEachAsync(ReadReferencesAsync(r, named.Count, ct), new ParallelOptions { MaxDegreeOfParallelism = files.Parallelism, CancellationToken = ct },
            async (row, token) =>
            {
                Interlocked.Increment(ref rows);
                if (await store.StatAsync(row.Value, token) is not null) return;
                var item = $"{reference.Schema}.{reference.Table} {string.Join(", ", named.Select((c, i) => $"{c}={row.Key[i] ?? "NULL"}"))}";
                dangling.Add(new VerifyDifference(DifferenceKind.Extra, item, [reference.Column],
                    Target: new Dictionary<string, string?> { [reference.Column] = row.Value },
                    Detail: $"{reference} points at {row.Value}, which is not in {store.Describe()}"));
            });
        return (rows, dangling.OrderBy(d => d.Item, StringComparer.Ordinal).ToList());
    }

    private sealed record Reference(string Value, string?[] Key);

    private static async IAsyncEnumerable<Reference> ReadReferencesAsync(NpgsqlDataReader r, int keyColumns, [EnumeratorCancellation] CancellationToken ct)
    {
        while (await r.ReadAsync(ct))
        {
            var key = new string?[keyColumns];
            for (var i = 0; i < keyColumns; i++) key[i] = r.IsDBNull(i + 1) ? null : r.GetString(i + 1);
            yield return new Reference(r.GetString(0), key);
        }
    }

    /// <summary>The primary key columns of the BL table, in key order (empty without one); an unknown table is an error naming it.</summary>
    private static async Task<IReadOnlyList<string>> PrimaryKeyAsync(NpgsqlConnection conn, ObjectReference reference, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(VerifySql.PrimaryKey, conn);
        cmd.Parameters.Add(new NpgsqlParameter { Value = SqlText.Qualified(reference.Schema, reference.Table) });
        var key = new List<string>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct)) key.Add(r.GetString(0));
        return key;
    }

    /// <summary>A LIKE pattern for keys made by a template: the fixed parts escaped, {key} as %.</summary>
    private static string Like(string prefix, string suffix) => Escape(prefix) + "%" + Escape(suffix);

    private static string Escape(string text) => text.Replace(@"\", @"\\", StringComparison.Ordinal)
        .Replace("%", @"\%", StringComparison.Ordinal).Replace("_", @"\_", StringComparison.Ordinal);
}
