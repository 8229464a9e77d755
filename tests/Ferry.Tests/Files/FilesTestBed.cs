using System.Security.Cryptography;
using System.Text;
using Ferry.Shared.Metadata;
using Ferry.Shared.Stg;
using Ferry.Shared.Storage;
using Ferry.Tests.Infrastructure;
using Ferry.Tests.Stg;
using Ferry.Worker.Files;
using Npgsql;

namespace Ferry.Tests.Files;

/// <summary>
/// A source database with a QVP-like listing table (public.file_storage), a target database, and a
/// project folder whose filesystem stores are the default source and target; fresh for each test.
/// </summary>
public sealed class FilesTestBed : IAsyncDisposable
{
    public required string SourceConnectionString { get; init; }
    public required string TargetConnectionString { get; init; }
    public required MigrationMetadata Metadata { get; init; }
    public required string Project { get; init; }

    public static ObjectStoreConfig Folder(string relativePath) => new(ObjectStoreKind.Filesystem, relativePath, Prefix: "", Env: "");

    public static async Task<FilesTestBed> CreateAsync(string name)
    {
        var source = await TestPostgres.CreateDatabaseAsync(name + "_src");
        var target = await TestPostgres.CreateDatabaseAsync(name + "_tgt");
        var project = Path.Combine(Path.GetTempPath(), $"ferry-files-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path.Combine(project, "metadata"));
        await StgTestBed.ExecAsync(source, """
            CREATE TABLE public.file_storage (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                object_key text NOT NULL, size_bytes bigint NOT NULL, checksum_md5 text,
                created_at timestamptz NOT NULL, deleted_at timestamptz)
            """);
        var metadata = new MigrationMetadata(Path.Combine(project, "metadata"),
            new Dictionary<string, PgConnection> { ["qvp"] = await TestPostgres.ConnectionAsync("qvp", source) },
            await TestPostgres.ConnectionAsync("target", target), Folder("objects"), []);
        return new FilesTestBed { SourceConnectionString = source, TargetConnectionString = target, Metadata = metadata, Project = project };
    }

    /// <summary>files.qvp over public.file_storage; stores default to the folders buckets/qvp and buckets/unipacc of the project.</summary>
    public static FilesDefinition Definition(ObjectStoreConfig? source = null, ObjectStoreConfig? target = null, int parallelism = 4) =>
        new("qvp", "qvp", "public", "file_storage", "object_key", "size_bytes", "checksum_md5", ChecksumFormat.Md5Hex,
            "created_at", "deleted_at", source ?? Folder("buckets/qvp"), target ?? Folder("buckets/unipacc"), "qvp/{key}",
            Parallelism: parallelism);

    public FilesProcess Process() => new(Metadata);

    public IObjectStore Store(ObjectStoreConfig config) => ObjectStoreFactory.Create(config, Project);

    public static byte[] Content(string key, int size) =>
        Enumerable.Range(0, size).Select(i => (byte)(key[i % key.Length] + i / 7)).ToArray();

    public static string Md5Hex(byte[] bytes) => Convert.ToHexStringLower(MD5.HashData(bytes));

    /// <summary>A listing row; its object is put into <paramref name="store"/> unless null. <paramref name="checksum"/> overrides the true MD5.</summary>
    public async Task<byte[]> AddFileAsync(string key, int size, TimeSpan age, IObjectStore? store, string? checksum = null, bool deleted = false)
    {
        var bytes = Content(key, size);
        await StgTestBed.ExecAsync(SourceConnectionString,
            "INSERT INTO public.file_storage (object_key, size_bytes, checksum_md5, created_at, deleted_at) VALUES ($1, $2, $3, $4, $5)",
            key, (long)size, checksum ?? Md5Hex(bytes), DateTimeOffset.UtcNow - age, deleted ? DateTimeOffset.UtcNow : DBNull.Value);
        if (store is not null) await store.PutBytesAsync(key, bytes);
        return bytes;
    }

    public Task<FilesRunResult> RunAsync(FilesDefinition files, RunMode mode, string runId) =>
        Process().RunAsync(files, mode, runId, null, CancellationToken.None);

    /// <summary>stg.file_copies as (source_key, target_key, size, checksum, status, error, run_id, attempts, updated_at), by key.</summary>
    public async Task<List<CopyRow>> CopiesAsync()
    {
        await using var conn = new NpgsqlConnection(TargetConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("""
            SELECT source_key, target_key, size_bytes, checksum, status, error, run_id, attempts, stg_updated_at, stg_inserted_at, source_created_at
            FROM stg.file_copies ORDER BY source_key
            """, conn);
        await using var r = await cmd.ExecuteReaderAsync();
        var rows = new List<CopyRow>();
        while (await r.ReadAsync())
            rows.Add(new CopyRow(r.GetString(0), r.IsDBNull(1) ? null : r.GetString(1), r.IsDBNull(2) ? null : r.GetInt64(2),
                r.IsDBNull(3) ? null : r.GetString(3), r.GetString(4), r.IsDBNull(5) ? null : r.GetString(5), r.GetString(6), r.GetInt32(7),
                r.GetDateTime(8), r.GetDateTime(9), r.IsDBNull(10) ? null : r.GetDateTime(10)));
        return rows;
    }

    public async Task<CopyRow> CopyAsync(string key) => (await CopiesAsync()).Single(c => c.SourceKey == key);

    public static async Task AssertHoldsAsync(IObjectStore store, string key, byte[] bytes) =>
        Assert.Equal(Md5Hex(bytes), Md5Hex(await store.GetBytesAsync(key)));

    public ValueTask DisposeAsync()
    {
        try { Directory.Delete(Project, recursive: true); } catch (IOException) { }
        return ValueTask.CompletedTask;
    }
}

public sealed record CopyRow(string SourceKey, string? TargetKey, long? SizeBytes, string? Checksum, string Status, string? Error, string RunId,
    int Attempts, DateTime UpdatedAt, DateTime InsertedAt, DateTime? SourceCreatedAt);
