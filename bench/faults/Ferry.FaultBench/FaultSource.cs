using System.Globalization;
using Npgsql;

namespace Ferry.FaultBench;

/// <summary>
/// The source database (public.orders_1…N from bench/cluster's order generator, keyed by id, `cdc: full`),
/// the metadata that describes it (one pipeline, <see cref="Pipeline"/>, over every table), the mutation that
/// precedes an incremental run, and the comparison of STG with the source.
/// </summary>
public sealed class FaultSource(string sourceConnection, string targetConnection, FaultOptions options)
{
    public const string SourceName = "app";
    public const string Pipeline = "faults";

    /// <summary>The source columns, in order: the row hash is md5 of this row's text on both sides.</summary>
    private const string Columns = "id, order_no, customer_email, customer_name, customer_phone, status, shipping_address, payment_ref, note, items, amount, currency, is_paid, created_at, updated_at";

    public IReadOnlyList<string> Tables { get; } = Enumerable.Range(1, options.Tables).Select(i => $"orders_{i}").ToList();

    public static string ProcessId(string table) => $"stg.{SourceName}.{table}";

    public async Task CreateAsync(string sqlFolder)
    {
        await ExecAsync(sourceConnection, await File.ReadAllTextAsync(Path.Combine(sqlFolder, "source-create.sql")));
        var queue = new Queue<(string Table, long FirstId)>(Tables.Select((t, i) => (t, 1 + i * 10_000_000L)));
        async Task Lane()
        {
            while (true)
            {
                (string Table, long FirstId) next;
                lock (queue) { if (!queue.TryDequeue(out next)) return; }
                await ExecAsync(sourceConnection, $"CALL bench.create_orders('{next.Table}', {next.FirstId}, {options.Rows})");
            }
        }
        await Task.WhenAll(Lane(), Lane());
        await ExecAsync(sourceConnection, "VACUUM ANALYZE");
    }

    /// <summary>
    /// Before an incremental run: in every table about 1 % of rows updated, 0.2 % deleted and 0.5 % inserted
    /// (new ids above the table's highest), chosen by <paramref name="random"/>; returns the rows touched.
    /// </summary>
    public async Task<long> MutateAsync(Random random, int iteration)
    {
        long touched = 0;
        foreach (var t in Tables)
        {
            var u = random.Next(100);
            var d = random.Next(500);
            var sql = string.Create(CultureInfo.InvariantCulture, $"""
                UPDATE public.{t} SET status = 'mutated', note = 'iteration {iteration}', amount = amount + 1, updated_at = now() WHERE id % 100 = {u};
                DELETE FROM public.{t} WHERE id % 500 = {d};
                INSERT INTO public.{t} SELECT * FROM bench.order_rows((SELECT max(id) + 1 FROM public.{t}), (SELECT max(id) + {options.Rows / 200} FROM public.{t}), now() - interval '1 day', now());
                """);
            touched += await ExecAsync(sourceConnection, sql);
        }
        return touched;
    }

    /// <summary>How STG differs from the source, summed over the tables: rows lost, duplicated, differing and extra (live in STG, gone from the source).</summary>
    public sealed record Difference(long SourceRows, long StgRows, long Lost, long Duplicated, long Differing, long Extra, IReadOnlyList<string> Tables)
    {
        public bool None => Lost == 0 && Duplicated == 0 && Differing == 0 && Extra == 0;
        public override string ToString() => None
            ? $"STG equals the source ({SourceRows:N0} rows)"
            : $"STG differs in {string.Join(", ", Tables)}: lost {Lost:N0}, duplicated {Duplicated:N0}, differing {Differing:N0}, extra {Extra:N0} (source {SourceRows:N0}, STG {StgRows:N0})";
    }

    /// <summary>Counts and a content hash per table on both sides; only a table whose hash differs is compared row by row.</summary>
    public async Task<Difference> CompareAsync()
    {
        long source = 0, stg = 0, lost = 0, dup = 0, differing = 0, extra = 0;
        var tables = new List<string>();
        foreach (var t in Tables)
        {
            var a = await SummaryAsync(sourceConnection, $"public.{t}", "true");
            var b = await SummaryAsync(targetConnection, $"stg.{SourceName}_{t}", "stg_deleted_at IS NULL");
            source += a.Rows;
            stg += b.Rows;
            if (a == b) continue;
            tables.Add(t);
            var src = await HashesAsync(sourceConnection, $"public.{t}", "true");
            var dst = await HashesAsync(targetConnection, $"stg.{SourceName}_{t}", "stg_deleted_at IS NULL");
            dup += b.Rows - b.Distinct;
            foreach (var (id, hash) in src)
            {
                if (!dst.TryGetValue(id, out var other)) lost++;
                else if (other != hash) differing++;
            }
            extra += dst.Keys.Count(id => !src.ContainsKey(id));
        }
        return new Difference(source, stg, lost, dup, differing, extra, tables);
    }

    private sealed record Summary(long Rows, long Distinct, string Hash);

    private static async Task<Summary> SummaryAsync(string connection, string relation, string where)
    {
        await using var conn = await OpenAsync(connection);
        await using var cmd = new NpgsqlCommand(
            $"SELECT count(*), count(DISTINCT id), coalesce(md5(string_agg(md5(ROW({Columns})::text), '' ORDER BY id)), '') FROM {relation} WHERE {where}", conn) { CommandTimeout = 0 };
        await using var r = await cmd.ExecuteReaderAsync();
        await r.ReadAsync();
        return new Summary(r.GetInt64(0), r.GetInt64(1), r.GetString(2));
    }

    private static async Task<Dictionary<long, string>> HashesAsync(string connection, string relation, string where)
    {
        var result = new Dictionary<long, string>();
        await using var conn = await OpenAsync(connection);
        await using var cmd = new NpgsqlCommand($"SELECT id, md5(ROW({Columns})::text) FROM {relation} WHERE {where}", conn) { CommandTimeout = 0 };
        await using var r = await cmd.ExecuteReaderAsync();
        // A duplicated id keeps its last hash; duplicates are counted from count(*) - count(DISTINCT id).
        while (await r.ReadAsync()) result[r.GetInt64(0)] = r.GetString(1);
        return result;
    }

    /// <summary>The same text of a timestamptz on both servers, whatever their default time zones.</summary>
    private static async Task<NpgsqlConnection> OpenAsync(string connection)
    {
        var conn = new NpgsqlConnection(connection);
        await conn.OpenAsync();
        await using var set = new NpgsqlCommand("SET TimeZone = 'UTC'; SET extra_float_digits = 1", conn);
        await set.ExecuteNonQueryAsync();
        return conn;
    }

    public static async Task<int> ExecAsync(string connection, string sql)
    {
        await using var conn = new NpgsqlConnection(connection);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn) { CommandTimeout = 0 };
        return await cmd.ExecuteNonQueryAsync();
    }

    /// <summary>connections.yaml (every value from the environment, as metadata/connections.yaml), a table file per table, pipelines.yaml.</summary>
    public void WriteMetadata(string folder)
    {
        var tables = Path.Combine(folder, "tables", SourceName);
        Directory.CreateDirectory(tables);
        File.WriteAllText(Path.Combine(folder, "connections.yaml"), $$"""
            # Written by bench/faults (Ferry.FaultBench): one source `app`; every node reads its connection from its environment.
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
              env: faults

            """);
        foreach (var t in Tables)
            File.WriteAllText(Path.Combine(tables, $"{t}.yaml"), $"""
                source: {SourceName}
                table: public.{t}
                key: [id]
                cdc:
                  mode: full

                """);
        File.WriteAllText(Path.Combine(folder, "pipelines.yaml"), $"""
            groups:
              orders: [stg.{SourceName}.orders_*]

            pipelines:
              {Pipeline}:
                groups: [orders]
                mode: incremental

            """);
    }
}
