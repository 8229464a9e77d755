using System.Globalization;
using Ferry.Shared.Sql;
using Npgsql;

namespace Ferry.Cli.Demo;

/// <summary>
/// The demo source databases that `ferry demo`, the tests and the benchmarks migrate: QVP and SVP,
/// created from sql/demo/*_schema.sql and *_generate.sql, and moved "one day later" by *_mutate.sql.
/// The data is a pure function of (scale, asOf): the same arguments give the same rows.
/// </summary>
public static class DemoSources
{
    /// <summary>
    /// Creates both demo sources in existing empty databases, in parallel, as of one day ago
    /// (so that a mutation now happens "one day later").
    /// </summary>
    public static Task CreateAsync(string qvpConnectionString, string svpConnectionString, int scale, CancellationToken ct = default) =>
        CreateAsync(qvpConnectionString, svpConnectionString, scale, asOf: null, ct);

    /// <summary>
    /// Creates both demo sources. The rows span the two years before <paramref name="asOf"/>
    /// (default: one day ago, to the second). Scale 1 is about 9,000 rows in all (QVP 5,500, SVP 3,400);
    /// the tables grow linearly, scale 100 is about 870,000 rows.
    /// </summary>
    public static async Task CreateAsync(string qvpConnectionString, string svpConnectionString, int scale, DateTimeOffset? asOf, CancellationToken ct = default)
    {
        var at = asOf ?? ThisSecond().AddDays(-1);
        await Task.WhenAll(
            CreateSourceAsync(DemoSource.Qvp, qvpConnectionString, scale, at, ct),
            CreateSourceAsync(DemoSource.Svp, svpConnectionString, scale, at, ct));
    }

    /// <summary>Creates one demo source (schema, rows, then constraints and indexes) in one transaction.</summary>
    public static async Task CreateSourceAsync(DemoSource source, string connectionString, int scale, DateTimeOffset asOf, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(scale, 1);
        var schema = await ScriptAsync(source, "schema", ct);
        var generate = await ScriptAsync(source, "generate", ct);

        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync(ct);
        await EnsureEmptyAsync(source, conn, ct);
        await SetParametersAsync(conn, scale, asOf, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await RunAsync(source, "schema", conn, tx, schema, ct);
        await RunAsync(source, "generate", conn, tx, generate, ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>
    /// One day of activity in both sources, as of <paramref name="asOf"/> (default: now, to the
    /// second): inserts, updates, soft and hard deletes, all stamped within the day before it.
    /// </summary>
    public static async Task<MutationSummary> MutateAsync(string qvpConnectionString, string svpConnectionString, DateTimeOffset? asOf = null, CancellationToken ct = default)
    {
        var at = asOf ?? ThisSecond();
        var results = await Task.WhenAll(
            MutateSourceAsync(DemoSource.Qvp, qvpConnectionString, at, ct),
            MutateSourceAsync(DemoSource.Svp, svpConnectionString, at, ct));
        return new MutationSummary(at, [.. results.SelectMany(r => r)]);
    }

    /// <summary>One day of activity in one source, in one transaction; one entry per table of <see cref="DemoTables"/>.</summary>
    public static async Task<IReadOnlyList<TableMutation>> MutateSourceAsync(DemoSource source, string connectionString, DateTimeOffset asOf, CancellationToken ct = default)
    {
        var mutate = await ScriptAsync(source, "mutate", ct);
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync(ct);
        await SetParametersAsync(conn, scale: null, asOf, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var tables = new List<TableMutation>();
        try
        {
            await using var cmd = new NpgsqlCommand(mutate, conn, tx) { CommandTimeout = 0 };
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            // The script's last statement is the summary; earlier ones may return rows too (setval).
            do
            {
                if (reader.FieldCount == 5 && reader.GetName(0) == "table_name")
                    while (await reader.ReadAsync(ct))
                        tables.Add(new TableMutation(source, reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4)));
            } while (await reader.NextResultAsync(ct));
        }
        catch (PostgresException e)
        {
            throw Failure(source, "mutate", conn, e);
        }

        // A script that no longer matches the catalog is a bug: roll back rather than report half a day.
        var expected = DemoTables.Of(source).Select(t => t.Name).Order(StringComparer.Ordinal);
        if (!expected.SequenceEqual(tables.Select(t => t.Table).Order(StringComparer.Ordinal)))
            throw new InvalidOperationException(
                $"demo {source.Name()}: {source.Name()}_mutate.sql reported tables [{string.Join(", ", tables.Select(t => t.Table))}], expected [{string.Join(", ", expected)}]; the database is unchanged");
        await tx.CommitAsync(ct);
        return [.. DemoTables.Of(source).Select(t => tables.Single(m => m.Table == t.Name))];
    }

    /// <summary>Exact row counts of every demo table of one source, in <see cref="DemoTables"/> order.</summary>
    public static async Task<IReadOnlyList<(DemoTable Table, long Rows)>> CountRowsAsync(DemoSource source, string connectionString, CancellationToken ct = default)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync(ct);
        var counts = new List<(DemoTable, long)>();
        foreach (var table in DemoTables.Of(source))
        {
            await using var cmd = new NpgsqlCommand($"SELECT count(*) FROM {SqlText.Qualified(table.Schema, table.Name)}", conn) { CommandTimeout = 0 };
            counts.Add((table, (long)(await cmd.ExecuteScalarAsync(ct))!));
        }
        return counts;
    }

    private static DateTimeOffset ThisSecond()
    {
        var now = DateTimeOffset.UtcNow;
        return new DateTimeOffset(now.Ticks - now.Ticks % TimeSpan.TicksPerSecond, TimeSpan.Zero);
    }

    /// <summary>
    /// A demo script with its `\ir file` lines replaced by the files' text, as psql would include them:
    /// the four generate and mutate scripts share their helpers through demo/helpers.sql.
    /// </summary>
    public static async Task<string> ScriptAsync(DemoSource source, string kind, CancellationToken ct)
    {
        var text = await File.ReadAllTextAsync(SqlFolder.File(Path.Combine("demo", $"{source.Name()}_{kind}.sql")), ct);
        var lines = text.ReplaceLineEndings("\n").Split('\n');
        for (var i = 0; i < lines.Length; i++)
            if (lines[i].StartsWith("\\ir ", StringComparison.Ordinal))
                lines[i] = await File.ReadAllTextAsync(SqlFolder.File(Path.Combine("demo", lines[i][4..].Trim())), ct);
        return string.Join('\n', lines);
    }

    private static async Task EnsureEmptyAsync(DemoSource source, NpgsqlConnection conn, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = 'public'", conn);
        var tables = (long)(await cmd.ExecuteScalarAsync(ct))!;
        if (tables > 0)
            throw new InvalidOperationException(
                $"demo {source.Name()}: database {conn.Database} is not empty ({tables} tables in schema public); the demo creates its tables in an empty database");
    }

    /// <summary>The scripts read their parameters with current_setting, so they arrive as bound values.</summary>
    private static async Task SetParametersAsync(NpgsqlConnection conn, int? scale, DateTimeOffset asOf, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT set_config('ferry.demo_scale', @scale, false), set_config('ferry.demo_as_of', @as_of, false)", conn);
        cmd.Parameters.AddWithValue("scale", scale?.ToString(CultureInfo.InvariantCulture) ?? "");
        cmd.Parameters.AddWithValue("as_of", asOf.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss.ffffff'+00'", CultureInfo.InvariantCulture));
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private static async Task RunAsync(DemoSource source, string kind, NpgsqlConnection conn, NpgsqlTransaction tx, string script, CancellationToken ct)
    {
        try
        {
            await using var cmd = new NpgsqlCommand(script, conn, tx) { CommandTimeout = 0 };
            await cmd.ExecuteNonQueryAsync(ct);
        }
        catch (PostgresException e)
        {
            throw Failure(source, kind, conn, e);
        }
    }

    private static InvalidOperationException Failure(DemoSource source, string kind, NpgsqlConnection conn, PostgresException e) =>
        new($"demo {source.Name()}: {source.Name()}_{kind}.sql failed in database {conn.Database}: {e.MessageText}"
            + (e.Where is { Length: > 0 } where ? $" ({where.Split('\n')[0]})" : "") + "; the database is unchanged", e);
}
