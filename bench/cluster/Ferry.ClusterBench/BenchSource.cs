using System.Diagnostics;
using System.Globalization;
using System.Text;
using Npgsql;

namespace Ferry.ClusterBench;

/// <summary>
/// The source database and the metadata folder that describes it: one source `app` with
/// public.tiny_NNN (experiment 1) and public.orders_N (experiment 2), every table `cdc: full`, keyed by id,
/// and pipelines.yaml with a group and a pipeline per experiment.
/// </summary>
public sealed class BenchSource(string connectionString, BenchOptions options)
{
    public const string SourceName = "app";
    public const string TinyPipeline = "tiny_tables";
    public const string BulkPipeline = "bulk_tables";
    public const string WarmupPipeline = "warmup";

    public IReadOnlyList<string> TinyTables { get; } = Enumerable.Range(0, options.TinyTables).Select(i => $"tiny_{i:D3}").ToList();
    /// <summary>The first (up to) 20 tiny tables: run untimed on a fresh bulk cluster so every worker has started its shards and JIT-compiled the data path.</summary>
    public IReadOnlyList<string> WarmupTables => TinyTables.Take(20).ToList();

    public IReadOnlyList<string> BulkTables { get; } = Enumerable.Range(1, options.BulkTables).Select(i => $"orders_{i}").ToList();

    public string ConnectionString => connectionString;

    public static string StgTable(string table) => $"stg.{SourceName}_{table}";

    /// <summary>Creates the tables the experiments need (server-side, INSERT … SELECT), analysed; returns how long it took.</summary>
    public async Task<TimeSpan> CreateAsync(string sqlFolder, bool tiny, bool bulk, Action<string> log)
    {
        var clock = Stopwatch.StartNew();
        await Db.ExecAsync(connectionString, await File.ReadAllTextAsync(Path.Combine(sqlFolder, "source-create.sql")));
        if (tiny)
        {
            log($"creating {TinyTables.Count} tiny tables of {options.TinyRows} rows");
            var sql = new StringBuilder();
            foreach (var t in TinyTables) sql.Append(CultureInfo.InvariantCulture, $"CALL bench.create_tiny('{t}', {options.TinyRows});\n");
            await Db.ExecAsync(connectionString, sql.ToString());
        }
        if (bulk)
        {
            log($"creating {BulkTables.Count} tables of {options.BulkRows:N0} rows, two at a time");
            // Two sessions at once: the generator is CPU-bound in the server and the machine has two cores.
            var queue = new Queue<(string Table, long FirstId)>(BulkTables.Select((t, i) => (t, 1 + i * options.BulkRows)));
            async Task Lane()
            {
                while (true)
                {
                    (string Table, long FirstId) next;
                    lock (queue) { if (!queue.TryDequeue(out next)) return; }
                    await Db.ExecAsync(connectionString, $"CALL bench.create_orders('{next.Table}', {next.FirstId}, {options.BulkRows})");
                }
            }
            await Task.WhenAll(Lane(), Lane());
        }
        await Db.ExecAsync(connectionString, "VACUUM ANALYZE");
        return clock.Elapsed;
    }

    /// <summary>Bytes of CSV per row of the bulk tables, measured on a COPY … (FORMAT csv) of the first table's first 20,000 rows.</summary>
    public async Task<double> BulkCsvBytesPerRowAsync()
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        using var reader = await conn.BeginTextExportAsync($"COPY (SELECT * FROM public.{BulkTables[0]} ORDER BY id LIMIT 20000) TO STDOUT (FORMAT csv)");
        var text = await reader.ReadToEndAsync();
        var rows = Math.Min(20000, options.BulkRows);
        return Encoding.UTF8.GetByteCount(text) / (double)rows;
    }

    public async Task<long> BulkSizeOnDiskAsync() =>
        await Db.ScalarAsync<long>(connectionString,
            $"SELECT sum(pg_total_relation_size(c.oid))::bigint FROM pg_class c WHERE c.relname LIKE 'orders\\_%' AND c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace");

    /// <summary>Source rows per table name, for the tables given.</summary>
    public Task<Dictionary<string, long>> CountsAsync(IEnumerable<string> tables) =>
        Db.CountsAsync(connectionString, tables.ToDictionary(t => t, t => $"public.{t}"), null);

    /// <summary>
    /// Writes connections.yaml (every connection value from ${APP_*}, ${TARGET_*}, ${FERRY_OBJECTS} like the repository's
    /// metadata/connections.yaml), one table file per table, and pipelines.yaml.
    /// </summary>
    public void WriteMetadata(string folder)
    {
        var tables = Path.Combine(folder, "tables", SourceName);
        Directory.CreateDirectory(tables);
        File.WriteAllText(Path.Combine(folder, "connections.yaml"), $$"""
            # Written by bench/cluster (Ferry.ClusterBench). One source, `app`; every node reads its connection from
            # the environment, as with metadata/connections.yaml. max_concurrent_extracts is the per-source limit on
            # processes running at once, counted by the pipeline runner over the whole cluster.
            sources:
              {{SourceName}}:
                host: "${APP_HOST:-127.0.0.1}"
                port: "${APP_PORT:-5432}"
                database: "${APP_DATABASE:-source}"
                user: "${APP_USER:-ferry}"
                password: "${APP_PASSWORD}"
                max_concurrent_extracts: {{options.Concurrency}}

            target:
              host: "${TARGET_HOST:-127.0.0.1}"
              port: "${TARGET_PORT:-5432}"
              database: "${TARGET_DATABASE:-target}"
              user: "${TARGET_USER:-ferry}"
              password: "${TARGET_PASSWORD}"
              stg_schema: stg

            object_store:
              kind: filesystem
              path: "${FERRY_OBJECTS:-objects}"
              prefix: ferry
              env: bench

            """);
        foreach (var t in TinyTables.Concat(BulkTables))
            File.WriteAllText(Path.Combine(tables, $"{t}.yaml"), $"""
                source: {SourceName}
                table: public.{t}
                key: [id]
                cdc:
                  mode: full

                """);
        File.WriteAllText(Path.Combine(folder, "pipelines.yaml"), $"""
            # Experiment 1: every tiny table in one group. Experiment 2: the bulk tables in one group, after an untimed warm-up.
            groups:
              tiny: [stg.{SourceName}.tiny_*]
              bulk: [stg.{SourceName}.orders_*]
              warmup_tables: [{string.Join(", ", WarmupTables.Select(t => $"stg.{SourceName}.{t}"))}]

            pipelines:
              {TinyPipeline}:
                groups: [tiny]
                mode: bulk
              {BulkPipeline}:
                groups: [bulk]
                mode: bulk
              {WarmupPipeline}:
                groups: [warmup_tables]
                mode: bulk

            """);
    }
}

/// <summary>Small SQL helpers over Npgsql.</summary>
public static class Db
{
    public static async Task ExecAsync(string connectionString, string sql)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn) { CommandTimeout = 0 };
        await cmd.ExecuteNonQueryAsync();
    }

    public static async Task<T> ScalarAsync<T>(string connectionString, string sql)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn) { CommandTimeout = 0 };
        return (T)Convert.ChangeType((await cmd.ExecuteScalarAsync())!, typeof(T), CultureInfo.InvariantCulture);
    }

    /// <summary>count(*) of each relation (key = name, value = qualified relation), in one round trip.</summary>
    public static async Task<Dictionary<string, long>> CountsAsync(string connectionString, IReadOnlyDictionary<string, string> relations, string? where)
    {
        var result = new Dictionary<string, long>(StringComparer.Ordinal);
        if (relations.Count == 0) return result;
        var sql = string.Join("\nUNION ALL ", relations.Select(r =>
            $"SELECT '{r.Key}', count(*) FROM {r.Value}{(where is null ? "" : " WHERE " + where)}"));
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn) { CommandTimeout = 0 };
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync()) result[reader.GetString(0)] = reader.GetInt64(1);
        return result;
    }
}
