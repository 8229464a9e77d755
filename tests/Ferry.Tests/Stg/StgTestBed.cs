using Ferry.Shared.Metadata;
using Ferry.Shared.Stg;
using Ferry.Shared.Storage;
using Ferry.Tests.Infrastructure;
using Ferry.Worker.Stg;
using Npgsql;

namespace Ferry.Tests.Stg;

/// <summary>A source database, a target database and a filesystem object store, fresh for each test.</summary>
public sealed class StgTestBed : IAsyncDisposable
{
    public required string SourceConnectionString { get; init; }
    public required string TargetConnectionString { get; init; }
    public required PgConnection Source { get; init; }
    public required PgConnection Target { get; init; }
    public required string StoreRoot { get; init; }
    public required IObjectStore Store { get; init; }
    public required ObjectStoreConfig StoreConfig { get; init; }

    public static async Task<StgTestBed> CreateAsync(string name)
    {
        var source = await TestPostgres.CreateDatabaseAsync(name + "_src");
        var target = await TestPostgres.CreateDatabaseAsync(name + "_tgt");
        var root = Path.Combine(Path.GetTempPath(), $"ferry-store-{Guid.NewGuid():N}");
        var config = new ObjectStoreConfig(ObjectStoreKind.Filesystem, root, Prefix: "ferry", Env: "test");
        return new StgTestBed
        {
            SourceConnectionString = source,
            TargetConnectionString = target,
            Source = await TestPostgres.ConnectionAsync("src", source),
            Target = await TestPostgres.ConnectionAsync("target", target),
            StoreRoot = root,
            Store = ObjectStoreFactory.Create(config),
            StoreConfig = config,
        };
    }

    public MigrationMetadata Metadata(params SourceTable[] tables) => new(
        StoreRoot, new Dictionary<string, PgConnection> { ["src"] = Source }, Target,
        StoreConfig, tables);

    public StgProcess Process(params SourceTable[] tables) => new(Metadata(tables), Store) { FirstBackoff = TimeSpan.FromMilliseconds(50) };

    public static SourceTable Table(string table, IReadOnlyList<string> key, CdcSpec? cdc = null, string schema = "public",
        string? softDelete = null, bool keySweep = false, ChunkingSpec? chunking = null) =>
        new("src", schema, table, table.ToLowerInvariant().Replace(' ', '_'), "src_" + table.ToLowerInvariant().Replace(' ', '_'), key,
            cdc ?? CdcSpec.Full, chunking ?? ChunkingSpec.Default, softDelete, keySweep);

    public Task ExecSourceAsync(string sql, params object[] values) => ExecAsync(SourceConnectionString, sql, values);
    public Task ExecTargetAsync(string sql, params object[] values) => ExecAsync(TargetConnectionString, sql, values);

    public static async Task ExecAsync(string connectionString, string sql, params object[] values)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        foreach (var v in values) cmd.Parameters.Add(new NpgsqlParameter { Value = v });
        await cmd.ExecuteNonQueryAsync();
    }

    public static async Task<T> ScalarAsync<T>(string connectionString, string sql)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        return (T)(await cmd.ExecuteScalarAsync())!;
    }

    /// <summary>Every row of a query as the text of each column (NULL as null), in the query's order; compared under the pinned session settings.</summary>
    public static async Task<List<string?[]>> RowsAsync(string connectionString, string sql)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        await PgCopy.PinSessionAsync(conn, default);
        await using var cmd = new NpgsqlCommand(sql, conn);
        await using var r = await cmd.ExecuteReaderAsync();
        var rows = new List<string?[]>();
        while (await r.ReadAsync())
        {
            var row = new string?[r.FieldCount];
            for (var i = 0; i < r.FieldCount; i++)
                row[i] = r.IsDBNull(i) ? null : r.GetFieldValue<string>(i);
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>Asserts that the live STG rows equal the source rows, column by column as text.</summary>
    public async Task AssertStgEqualsSourceAsync(string sourceTable, string stgTable, string[] columns, string orderBy)
    {
        var select = string.Join(", ", columns.Select(c => $"{c}::text"));
        var source = await RowsAsync(SourceConnectionString, $"SELECT {select} FROM {sourceTable} ORDER BY {orderBy}");
        var stg = await RowsAsync(TargetConnectionString, $"SELECT {select} FROM stg.{stgTable} WHERE stg_deleted_at IS NULL ORDER BY {orderBy}");
        Assert.Equal(source.Count, stg.Count);
        for (var i = 0; i < source.Count; i++)
            Assert.Equal(source[i], stg[i]);
    }

    public ValueTask DisposeAsync()
    {
        // Each test has its own databases: give their pooled connections back to the server now.
        foreach (var cs in new[] { SourceConnectionString, TargetConnectionString })
            NpgsqlConnection.ClearPool(new NpgsqlConnection(cs));
        try { Directory.Delete(StoreRoot, recursive: true); } catch (DirectoryNotFoundException) { }
        return ValueTask.CompletedTask;
    }
}
