using Ferry.Shared.Stg;
using Npgsql;

namespace Ferry.Worker.Stg;

/// <summary>
/// Reads a source table's columns and decides each column's STG type. Types the target may lack
/// (enums, composites, extension types) become text; domains become their base type; arrays keep
/// their dimension over the mapped element type. Text output of all of these loads unchanged.
/// </summary>
public static class SourceSchema
{
    private sealed record PgType(uint Oid, string Schema, char TypType, char Category, uint BaseType, int BaseTypmod, uint Elem, uint ArrayOf);

    private const string ColumnsSql = """
        SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.atttypid, a.atttypmod
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum
        """;

    private const string TypeSql = """
        SELECT t.oid, n.nspname, t.typtype, t.typcategory, t.typbasetype, t.typtypmod, t.typelem,
               CASE WHEN t.typcategory = 'A' THEN t.typelem ELSE 0 END
        FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE t.oid = $1
        """;

    public static async Task<IReadOnlyList<ColumnSpec>> ReadColumnsAsync(NpgsqlConnection conn, string schema, string table, CancellationToken ct)
    {
        var raw = new List<(string Name, string SourceType, uint TypeOid, int Typmod)>();
        await using (var cmd = new NpgsqlCommand(ColumnsSql, conn) { Parameters = { new() { Value = schema }, new() { Value = table } } })
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
                raw.Add((reader.GetString(0), reader.GetString(1), reader.GetFieldValue<uint>(2), reader.GetInt32(3)));
        }
        if (raw.Count == 0)
            throw new SourceTableNotFoundException($"table {schema}.{table} was not found (or has no columns) on {conn.Database}");

        var cache = new Dictionary<uint, PgType>();
        var result = new List<ColumnSpec>(raw.Count);
        foreach (var (name, sourceType, oid, typmod) in raw)
            result.Add(new ColumnSpec(name, sourceType, await StgTypeAsync(conn, oid, typmod, sourceType, cache, ct)));
        return result;
    }

    /// <summary>Estimated rows (pg_class.reltuples; -1 when the table was never analysed).</summary>
    public static async Task<long> EstimateRowsAsync(NpgsqlConnection conn, string schema, string table, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(
            "SELECT c.reltuples::bigint FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2", conn)
        { Parameters = { new() { Value = schema }, new() { Value = table } } };
        return await cmd.ExecuteScalarAsync(ct) is long n ? n : -1;
    }

    private static async Task<string> StgTypeAsync(NpgsqlConnection conn, uint oid, int typmod, string formatted,
        Dictionary<uint, PgType> cache, CancellationToken ct)
    {
        var t = await TypeAsync(conn, oid, cache, ct);
        if (t.ArrayOf != 0)
        {
            var elem = await TypeAsync(conn, t.ArrayOf, cache, ct);
            var elemFormatted = await FormatAsync(conn, t.ArrayOf, typmod, ct);
            var mapped = await StgTypeAsync(conn, elem.Oid, typmod, elemFormatted, cache, ct);
            return mapped + "[]";
        }
        if (t.TypType == 'd')
            return await StgTypeAsync(conn, t.BaseType, t.BaseTypmod, await FormatAsync(conn, t.BaseType, t.BaseTypmod, ct), cache, ct);
        if (t.TypType is 'e' or 'c' || t.Schema != "pg_catalog")
            return "text";
        return formatted;
    }

    private static async Task<PgType> TypeAsync(NpgsqlConnection conn, uint oid, Dictionary<uint, PgType> cache, CancellationToken ct)
    {
        if (cache.TryGetValue(oid, out var known)) return known;
        await using var cmd = new NpgsqlCommand(TypeSql, conn) { Parameters = { new() { Value = oid, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Oid } } };
        await using var r = await cmd.ExecuteReaderAsync(ct);
        if (!await r.ReadAsync(ct)) throw new InvalidOperationException($"type oid {oid} not found");
        var t = new PgType(r.GetFieldValue<uint>(0), r.GetString(1), r.GetChar(2), r.GetChar(3), r.GetFieldValue<uint>(4), r.GetInt32(5),
            r.GetFieldValue<uint>(6), r.GetFieldValue<uint>(7));
        cache[oid] = t;
        return t;
    }

    private static async Task<string> FormatAsync(NpgsqlConnection conn, uint oid, int typmod, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT format_type($1, $2)", conn)
        { Parameters = { new() { Value = oid, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Oid }, new() { Value = typmod } } };
        return (string)(await cmd.ExecuteScalarAsync(ct))!;
    }

    /// <summary>True for the key types Ferry can split into numeric ranges.</summary>
    public static bool IsIntegerType(string stgType) => stgType is "smallint" or "integer" or "bigint";
}

public sealed class SourceTableNotFoundException(string message) : Exception(message);
