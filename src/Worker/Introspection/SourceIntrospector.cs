using Ferry.Shared.Metadata;
using Ferry.Shared.Sql;
using Npgsql;
using NpgsqlTypes;

namespace Ferry.Worker.Introspection;

/// <summary>
/// Reads a source database's catalog: its tables, their columns and types, primary key and unique
/// indexes, the created/updated/deleted timestamp columns, and how many rows each holds.
/// </summary>
public sealed class SourceIntrospector(NpgsqlDataSource source)
{
    private const uint DateOid = 1082, TimestampOid = 1114, TimestampTzOid = 1184;

    /// <summary>
    /// Every base (or partitioned) table of every non-system schema, in schema/name order. Row counts
    /// come from pg_class.reltuples; a table never analyzed (reltuples -1) is counted exactly instead.
    /// </summary>
    public async Task<IReadOnlyList<IntrospectedTable>> ListBaseTablesAsync(bool includeRowEstimates = true, CancellationToken ct = default)
    {
        await using var conn = await source.OpenConnectionAsync(ct);
        var relations = await ReadRelationsAsync(conn, new NpgsqlCommand(CatalogQueries.BaseTables, conn), ct);
        return await DescribeAsync(conn, relations, includeRowEstimates, ct);
    }

    /// <summary>
    /// The named relations (tables, partitioned tables, views, materialized views, foreign tables)
    /// that exist; names that do not exist are absent from the result. No row estimates.
    /// </summary>
    public async Task<IReadOnlyDictionary<QualifiedName, IntrospectedTable>> DescribeAsync(IEnumerable<QualifiedName> names, CancellationToken ct = default)
    {
        var wanted = names.Distinct().ToArray();
        await using var conn = await source.OpenConnectionAsync(ct);
        var cmd = new NpgsqlCommand(CatalogQueries.NamedRelations, conn);
        cmd.Parameters.Add(new NpgsqlParameter { Value = wanted.Select(n => n.Schema).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter { Value = wanted.Select(n => n.Name).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        var relations = await ReadRelationsAsync(conn, cmd, ct);
        var tables = await DescribeAsync(conn, relations, includeRowEstimates: false, ct);
        return tables.ToDictionary(t => t.Name);
    }

    private sealed record Relation(uint Oid, QualifiedName Name, RelationKind Kind, double RelTuples, int RelPages);

    private static async Task<List<Relation>> ReadRelationsAsync(NpgsqlConnection conn, NpgsqlCommand cmd, CancellationToken ct)
    {
        var relations = new List<Relation>();
        await using (cmd)
        await using (var r = await cmd.ExecuteReaderAsync(ct))
            while (await r.ReadAsync(ct))
                relations.Add(new Relation(r.GetFieldValue<uint>(0), new QualifiedName(r.GetString(1), r.GetString(2)),
                    r.GetString(3) switch
                    {
                        "r" => RelationKind.Table,
                        "p" => RelationKind.PartitionedTable,
                        "v" => RelationKind.View,
                        "m" => RelationKind.MaterializedView,
                        _ => RelationKind.ForeignTable,
                    },
                    r.GetDouble(4), r.GetInt32(5)));
        return relations;
    }

    private static async Task<IReadOnlyList<IntrospectedTable>> DescribeAsync(NpgsqlConnection conn, List<Relation> relations, bool includeRowEstimates, CancellationToken ct)
    {
        var oids = relations.Select(r => r.Oid).ToArray();
        var columns = new Dictionary<uint, List<IntrospectedColumn>>();
        await using (var cmd = new NpgsqlCommand(CatalogQueries.Columns, conn))
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = oids, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Oid });
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                var baseType = r.GetFieldValue<uint>(4);
                var column = new IntrospectedColumn(r.GetString(1), r.GetString(2), r.GetBoolean(3), baseType is DateOid or TimestampOid or TimestampTzOid);
                (columns.TryGetValue(r.GetFieldValue<uint>(0), out var list) ? list : columns[r.GetFieldValue<uint>(0)] = []).Add(column);
            }
        }

        var keys = new Dictionary<uint, List<IntrospectedKey>>();
        await using (var cmd = new NpgsqlCommand(CatalogQueries.Keys, conn))
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = oids, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Oid });
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                var key = new IntrospectedKey(r.GetString(1), r.GetFieldValue<string[]>(3), r.GetBoolean(2));
                (keys.TryGetValue(r.GetFieldValue<uint>(0), out var list) ? list : keys[r.GetFieldValue<uint>(0)] = []).Add(key);
            }
        }

        var tables = new List<IntrospectedTable>(relations.Count);
        foreach (var rel in relations)
        {
            var cols = columns.GetValueOrDefault(rel.Oid) ?? [];
            var relKeys = keys.GetValueOrDefault(rel.Oid) ?? [];
            var rows = includeRowEstimates ? await EstimateRowsAsync(conn, rel, ct) : null;
            tables.Add(new IntrospectedTable(rel.Name, rel.Kind, cols,
                relKeys.FirstOrDefault(k => k.IsPrimaryKey), relKeys.Where(k => !k.IsPrimaryKey).ToArray(),
                rows, ChangeColumnNames.Find(cols)));
        }
        return tables;
    }

    /// <summary>
    /// reltuples is -1 until the first ANALYZE or VACUUM (before PostgreSQL 14: 0 with no pages);
    /// then the planner knows nothing and we count. Counting an empty table is free.
    /// </summary>
    private static async Task<RowEstimate> EstimateRowsAsync(NpgsqlConnection conn, Relation rel, CancellationToken ct)
    {
        if (rel.RelTuples > 0 || (rel.RelTuples == 0 && rel.RelPages > 0))
            return new RowEstimate((long)Math.Round(rel.RelTuples), Exact: false);
        await using var cmd = new NpgsqlCommand($"SELECT count(*) FROM {SqlText.Qualified(rel.Name.Schema, rel.Name.Name)}", conn);
        return new RowEstimate((long)(await cmd.ExecuteScalarAsync(ct))!, Exact: true);
    }
}
