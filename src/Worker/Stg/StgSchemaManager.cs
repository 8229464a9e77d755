using Ferry.Shared.Sql;
using Ferry.Shared.Stg;
using Npgsql;

namespace Ferry.Worker.Stg;

/// <summary>
/// Creates and evolves the permanent STG table of a source table: the source's columns (in their STG
/// types) plus stg_row_hash, stg_inserted_at, stg_updated_at, stg_deleted_at and stg_run_id, keyed like
/// the source. A new source column is added; a type change is applied only when it widens safely;
/// anything else stops that table with a message saying what changed.
/// </summary>
public static class StgSchemaManager
{
    public static readonly string[] OwnColumns = ["stg_row_hash", "stg_inserted_at", "stg_updated_at", "stg_deleted_at", "stg_run_id"];

    public static bool IsReservedName(string column) => OwnColumns.Contains(column);

    public static async Task<bool> TableExistsAsync(NpgsqlConnection conn, string schema, string table, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(
            "SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r','p'))", conn)
        { Parameters = { new() { Value = schema }, new() { Value = table } } };
        return (bool)(await cmd.ExecuteScalarAsync(ct))!;
    }

    /// <summary>Column name → formatted type of an existing table, in column order.</summary>
    public static async Task<IReadOnlyList<(string Name, string Type)>> ReadColumnsAsync(NpgsqlConnection conn, string schema, string table, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("""
            SELECT a.attname, format_type(a.atttypid, a.atttypmod)
            FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum
            """, conn) { Parameters = { new() { Value = schema }, new() { Value = table } } };
        var result = new List<(string, string)>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct)) result.Add((r.GetString(0), r.GetString(1)));
        return result;
    }

    /// <summary>
    /// Makes STG match the manifest's columns, inside the caller's transaction. Returns the changes made
    /// (for the run report). Throws <see cref="SchemaDriftException"/> for a change it will not apply.
    /// </summary>
    public static async Task<IReadOnlyList<string>> EnsureAsync(NpgsqlConnection conn, string schema, Manifest manifest, CancellationToken ct)
    {
        var table = SqlText.Qualified(schema, manifest.StgTable);
        if (!await TableExistsAsync(conn, schema, manifest.StgTable, ct))
        {
            var cols = manifest.Columns.Select(c => $"{SqlText.Ident(c.Name)} {c.StgType}").Concat([
                "stg_row_hash bigint NOT NULL",
                "stg_inserted_at timestamptz NOT NULL DEFAULT now()",
                "stg_updated_at timestamptz NOT NULL DEFAULT now()",
                "stg_deleted_at timestamptz",
                "stg_run_id text NOT NULL",
                $"PRIMARY KEY ({SqlText.IdentList(manifest.Key)})",
            ]);
            await conn.ExecAsync($"CREATE TABLE {table} (\n  {string.Join(",\n  ", cols)}\n)", ct);
            return [$"created {schema}.{manifest.StgTable}"];
        }

        var existing = (await ReadColumnsAsync(conn, schema, manifest.StgTable, ct)).ToDictionary(c => c.Name, c => c.Type);
        var changes = new List<string>();
        var problems = new List<string>();
        foreach (var column in manifest.Columns)
        {
            if (!existing.TryGetValue(column.Name, out var stgType))
            {
                await conn.ExecAsync($"ALTER TABLE {table} ADD COLUMN {SqlText.Ident(column.Name)} {column.StgType}", ct);
                changes.Add($"added column {column.Name} {column.StgType}");
            }
            else if (!string.Equals(stgType, column.StgType, StringComparison.Ordinal))
            {
                if (IsSafeWidening(stgType, column.StgType))
                {
                    await conn.ExecAsync($"ALTER TABLE {table} ALTER COLUMN {SqlText.Ident(column.Name)} TYPE {column.StgType}", ct);
                    changes.Add($"widened column {column.Name} from {stgType} to {column.StgType}");
                }
                else
                    problems.Add($"column {column.Name} changed type from {stgType} to {column.StgType}");
            }
        }
        if (problems.Count > 0)
            throw new SchemaDriftException(
                $"{manifest.ProcessId}: incompatible schema change in {manifest.SourceTable}: {string.Join("; ", problems)}; " +
                $"{schema}.{manifest.StgTable} unchanged (alter it by hand or drop it for a fresh bulk load)");
        return changes;
    }

    /// <summary>Type changes that keep every existing value: integer widening, longer or unbounded text, wider numerics.</summary>
    public static bool IsSafeWidening(string from, string to)
    {
        int Rank(string t) => t switch { "smallint" => 1, "integer" => 2, "bigint" => 3, _ => 0 };
        if (Rank(from) > 0 && Rank(to) > Rank(from)) return true;
        if (Rank(from) > 0 && (to == "numeric")) return true;
        if (from.StartsWith("character varying") && (to == "text" || to == "character varying")) return true;
        if (from.StartsWith("character varying(") && to.StartsWith("character varying(")) return Length(to) >= Length(from);
        if (from == "numeric" || to == "numeric") return to == "numeric";
        if (from.StartsWith("numeric(") && to.StartsWith("numeric("))
        {
            var (p1, s1) = Precision(from);
            var (p2, s2) = Precision(to);
            return s2 >= s1 && p2 - s2 >= p1 - s1;
        }
        return false;

        static int Length(string t) => int.Parse(t[(t.IndexOf('(') + 1)..t.IndexOf(')')]);
        static (int, int) Precision(string t)
        {
            var inner = t[(t.IndexOf('(') + 1)..t.IndexOf(')')].Split(',');
            return (int.Parse(inner[0]), inner.Length > 1 ? int.Parse(inner[1]) : 0);
        }
    }

}

public sealed class SchemaDriftException(string message) : Exception(message);
