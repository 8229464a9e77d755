using Npgsql;

namespace Ferry.Cli.Demo;

/// <summary>
/// The demo's UniPACC: in a real migration the new application creates its own tables; in the demo
/// Ferry applies sql/unipacc/schema.sql (idempotent) so the business layer has somewhere to go.
/// </summary>
public static class DemoTarget
{
    public static async Task ApplySchemaAsync(string targetConnectionString, CancellationToken ct = default)
    {
        var script = await File.ReadAllTextAsync(SqlFolder.File(Path.Combine("unipacc", "schema.sql")), ct);
        await using var conn = new NpgsqlConnection(targetConnectionString);
        await conn.OpenAsync(ct);
        await using var cmd = new NpgsqlCommand(script, conn);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Rows per UniPACC table, in schema order (tables the schema does not have are left out).</summary>
    public static async Task<IReadOnlyList<(string Table, long Rows)>> CountAsync(string targetConnectionString, CancellationToken ct = default)
    {
        await using var conn = new NpgsqlConnection(targetConnectionString);
        await conn.OpenAsync(ct);
        // One statement: the counts of every table, read in one snapshot.
        var tables = new List<string>();
        await using (var list = new NpgsqlCommand("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'unipacc' AND c.relkind = 'r' ORDER BY c.oid", conn))
        await using (var r = await list.ExecuteReaderAsync(ct))
            while (await r.ReadAsync(ct)) tables.Add(r.GetString(0));
        var result = new List<(string, long)>();
        foreach (var t in tables)
        {
            await using var count = new NpgsqlCommand($"SELECT count(*) FROM unipacc.{Shared.Sql.SqlText.Ident(t)}", conn);
            result.Add((t, (long)(await count.ExecuteScalarAsync(ct))!));
        }
        return result;
    }
}
