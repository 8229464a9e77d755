using Ferry.Cli.Demo;
using Ferry.Shared.Sql;
using Ferry.Tests.Infrastructure;
using Npgsql;

namespace Ferry.Tests.Demo;

/// <summary>A pair of fresh databases holding the two demo sources, and small probes into them.</summary>
public sealed record DemoPair(string Qvp, string Svp)
{
    /// <summary>A fixed moment, so that tests that compare content do not depend on the clock.</summary>
    public static readonly DateTimeOffset FixedAsOf = new(2025, 6, 30, 12, 0, 0, TimeSpan.Zero);

    public static async Task<DemoPair> CreateAsync(string prefix, int scale = 1, DateTimeOffset? asOf = null, bool useDefaultClock = false)
    {
        var pair = new DemoPair(await TestPostgres.CreateDatabaseAsync(prefix + "_qvp"), await TestPostgres.CreateDatabaseAsync(prefix + "_svp"));
        if (useDefaultClock)
            await DemoSources.CreateAsync(pair.Qvp, pair.Svp, scale);
        else
            await DemoSources.CreateAsync(pair.Qvp, pair.Svp, scale, asOf ?? FixedAsOf);
        return pair;
    }

    public string Of(DemoSource source) => source == DemoSource.Qvp ? Qvp : Svp;
}

public static class DemoProbe
{
    public static async Task<T> ScalarAsync<T>(string connectionString, string sql)
    {
        await using var conn = await OpenAsync(connectionString);
        await using var cmd = new NpgsqlCommand(sql, conn);
        return (T)(await cmd.ExecuteScalarAsync())!;
    }

    public static async Task<List<object?[]>> RowsAsync(string connectionString, string sql)
    {
        await using var conn = await OpenAsync(connectionString);
        await using var cmd = new NpgsqlCommand(sql, conn);
        await using var reader = await cmd.ExecuteReaderAsync();
        var rows = new List<object?[]>();
        while (await reader.ReadAsync())
        {
            var row = new object?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++)
                row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>An order-independent fingerprint of a table's whole content.</summary>
    public static Task<string> FingerprintAsync(string connectionString, DemoTable table) =>
        ScalarAsync<string>(connectionString,
            $"SELECT coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t::text)), 'empty') FROM {SqlText.Qualified(table.Schema, table.Name)} t");

    /// <summary>Every row by key: a hash of the row, whether it is soft-deleted, and its newest change timestamp (UTC).</summary>
    public static async Task<Dictionary<string, RowState>> SnapshotAsync(string connectionString, DemoTable table)
    {
        var key = table.Key.Count == 1 ? $"t.{SqlText.Ident(table.Key[0])}::text" : $"concat_ws('|', {SqlText.IdentList(table.Key, "t")})";
        var deleted = table.SoftDeleteColumn is null ? "false" : $"t.{SqlText.Ident(table.SoftDeleteColumn)} IS NOT NULL";
        var changed = table.ChangeColumns.Count == 0 ? "NULL::timestamptz" : $"greatest({SqlText.IdentList(table.ChangeColumns, "t")})::timestamptz";
        var rows = await RowsAsync(connectionString,
            $"SELECT {key}, md5(t::text), {deleted}, {changed} FROM {SqlText.Qualified(table.Schema, table.Name)} t");
        return rows.ToDictionary(r => (string)r[0]!, r => new RowState((string)r[1]!, (bool)r[2]!, r[3] is DateTime d ? new DateTimeOffset(d, TimeSpan.Zero) : null));
    }

    private static async Task<NpgsqlConnection> OpenAsync(string connectionString)
    {
        var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        // Timestamps without time zone are UTC in the demo (the Rails way).
        await using var tz = new NpgsqlCommand("SET TIME ZONE 'UTC'", conn);
        await tz.ExecuteNonQueryAsync();
        return conn;
    }
}

public sealed record RowState(string Hash, bool SoftDeleted, DateTimeOffset? ChangedAt);
