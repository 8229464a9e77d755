using System.Runtime.CompilerServices;
using System.Text;
using Ferry.Shared.Metadata;
using Ferry.Shared.Sql;
using Ferry.Shared.Storage;
using Npgsql;

namespace Ferry.Cli.Demo;

/// <summary>
/// One object listed by a demo source: QVP's file_storage (container = bucket, key = object_key,
/// checksum = hex MD5) or SVP's active_storage_blobs (container = service_name, key = key,
/// checksum = base64 MD5, NULL for a few blobs as Rails allows).
/// </summary>
public sealed record DemoObject(DemoSource Source, long Id, string Container, string Key, long SizeBytes, byte[]? Md5);

/// <summary>
/// The bytes behind the demo's file rows. Each object is the first size bytes of the UTF-8 of
/// (key + "\n") repeated: tiny to describe, and its size and MD5 match what the row says.
/// </summary>
public static class DemoFiles
{
    public static Stream OpenContent(string key, long sizeBytes) => new RepeatingStream(Encoding.UTF8.GetBytes(key + "\n"), sizeBytes);

    /// <summary>Every object row of a source, in id order, soft-deleted ones included (their objects still exist).</summary>
    public static async IAsyncEnumerable<DemoObject> ListAsync(DemoSource source, string connectionString, [EnumeratorCancellation] CancellationToken ct = default)
    {
        var sql = source == DemoSource.Qvp
            ? "SELECT id, bucket, object_key, size_bytes, checksum_md5 FROM public.file_storage ORDER BY id"
            : "SELECT id, service_name, key, byte_size, checksum FROM public.active_storage_blobs ORDER BY id";
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync(ct);
        await using var cmd = new NpgsqlCommand(sql, conn) { CommandTimeout = 0 };
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var checksum = reader.IsDBNull(4) ? null : reader.GetString(4);
            var md5 = checksum is null ? null : source == DemoSource.Qvp ? Convert.FromHexString(checksum) : Convert.FromBase64String(checksum);
            yield return new DemoObject(source, reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3), md5);
        }
    }

    /// <summary>
    /// Writes every object of a source into <paramref name="store"/>, under <paramref name="keyOf"/>
    /// (default: container/key), a few at a time. Returns the number of objects written.
    /// </summary>
    public static async Task<long> UploadAsync(IObjectStore store, DemoSource source, string connectionString,
        Func<DemoObject, string>? keyOf = null, int parallelism = 8, CancellationToken ct = default)
    {
        keyOf ??= o => $"{o.Container}/{o.Key}";
        long written = 0;
        await Parallel.ForEachAsync(ListAsync(source, connectionString, ct),
            new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = ct },
            async (o, token) =>
            {
                await using var upload = await store.BeginUploadAsync(keyOf(o), token);
                await using (var content = OpenContent(o.Key, o.SizeBytes))
                    await content.CopyToAsync(upload.Stream, token);
                await upload.CompleteAsync(token);
                Interlocked.Increment(ref written);
            });
        return written;
    }

    /// <summary>
    /// For every files process of the migration, the objects its source rows list (see
    /// <see cref="CreateSourceObjectsAsync"/>): what the source applications would have in their buckets.
    /// </summary>
    public static async Task<long> CreateSourceObjectsAsync(MigrationMetadata metadata, CancellationToken ct)
    {
        long created = 0;
        foreach (var files in metadata.Files)
        {
            var store = ObjectStoreFactory.Create(files.SourceStore, metadata.ProjectFolder);
            created += (await CreateSourceObjectsAsync(metadata.Sources[files.Source].ToConnectionString("ferry demo"), files, store, ct)).Created;
        }
        return created;
    }

    /// <summary>
    /// Creates, in <paramref name="store"/> (a files process's source store), the object of every row of its listing
    /// table whose object is absent, under the row's key and with the bytes the row's size and checksum describe
    /// (<see cref="OpenContent"/>, the same bytes as sql/demo's pg_temp.file_content). Soft-deleted rows get theirs
    /// too: deleting the row does not delete the object. Returns the objects created and those already there.
    /// </summary>
    public static async Task<(long Created, long Existing)> CreateSourceObjectsAsync(string sourceConnectionString, FilesDefinition files,
        IObjectStore store, CancellationToken ct)
    {
        var sql = $"SELECT {SqlText.Ident(files.KeyColumn)}::text, {SqlText.Ident(files.SizeColumn)}::bigint " +
                  $"FROM {SqlText.Qualified(files.Schema, files.Table)} WHERE {SqlText.Ident(files.KeyColumn)} IS NOT NULL";
        long created = 0, existing = 0;
        await Parallel.ForEachAsync(Rows(sourceConnectionString, sql, ct), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct },
            async (row, token) =>
            {
                if (await store.StatAsync(row.Key, token) is not null)
                {
                    Interlocked.Increment(ref existing);
                    return;
                }
                await using var upload = await store.BeginUploadAsync(row.Key, token);
                await using (var content = OpenContent(row.Key, row.Size))
                    await content.CopyToAsync(upload.Stream, token);
                await upload.CompleteAsync(token);
                Interlocked.Increment(ref created);
            });
        return (created, existing);
    }

    private static async IAsyncEnumerable<(string Key, long Size)> Rows(string connectionString, string sql, [EnumeratorCancellation] CancellationToken ct)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync(ct);
        await using var cmd = new NpgsqlCommand(sql, conn) { CommandTimeout = 0 };
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            yield return (reader.GetString(0), reader.IsDBNull(1) ? 0 : reader.GetInt64(1));
    }

    /// <summary>A read-only, seekable stream of a pattern repeated up to a length.</summary>
    private sealed class RepeatingStream(byte[] pattern, long length) : Stream
    {
        private long _position;

        public override bool CanRead => true;
        public override bool CanSeek => true;
        public override bool CanWrite => false;
        public override long Length => length;

        public override long Position
        {
            get => _position;
            set => _position = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value));
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = (int)Math.Min(buffer.Length, Math.Max(0, length - _position));
            for (var i = 0; i < n;)
            {
                var from = (int)(_position % pattern.Length);
                var chunk = Math.Min(n - i, pattern.Length - from);
                pattern.AsSpan(from, chunk).CopyTo(buffer[i..]);
                i += chunk;
                _position += chunk;
            }
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Task.FromResult(Read(buffer.AsSpan(offset, count)));

        public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            SeekOrigin.End => length + offset,
            _ => throw new ArgumentOutOfRangeException(nameof(origin)),
        };

        public override void Flush() { }
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
