namespace Ferry.Worker.Introspection;

/// <summary>The PostgreSQL catalog queries behind <see cref="SourceIntrospector"/>, kept apart from the code that reads them.</summary>
internal static class CatalogQueries
{
    /// <summary>
    /// Base and partitioned tables of every non-system schema (partitions are part of their parent;
    /// tables owned by extensions, such as PostGIS's spatial_ref_sys, are not the application's).
    /// A partitioned table's row estimate is the sum over its leaves, -1 if any leaf was never analyzed.
    /// </summary>
    public const string BaseTables = """
        SELECT c.oid, n.nspname::text, c.relname::text, c.relkind::text,
               (CASE WHEN c.relkind = 'p' THEN
                    (SELECT CASE WHEN bool_or(l.reltuples < 0) THEN -1 ELSE coalesce(sum(l.reltuples), 0) END
                       FROM pg_partition_tree(c.oid) t JOIN pg_class l ON l.oid = t.relid
                      WHERE t.isleaf)
                ELSE c.reltuples END)::float8 AS reltuples,
               c.relpages
          FROM pg_class c
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
           AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'
           AND NOT EXISTS (SELECT 1 FROM pg_depend d
                            WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
         ORDER BY n.nspname, c.relname
        """;

    /// <summary>Named relations of any kind Ferry can read from ($1 schemas, $2 names, pairwise).</summary>
    public const string NamedRelations = """
        SELECT c.oid, n.nspname::text, c.relname::text, c.relkind::text, c.reltuples::float8, c.relpages
          FROM unnest($1::text[], $2::text[]) AS w(schema_name, rel_name)
          JOIN pg_namespace n ON n.nspname = w.schema_name
          JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = w.rel_name
         WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
        """;

    /// <summary>Columns in order; base_type sees through a domain to the type it constrains.</summary>
    public const string Columns = """
        SELECT a.attrelid, a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull,
               (CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE a.atttypid END) AS base_type
          FROM pg_attribute a
          JOIN pg_type t ON t.oid = a.atttypid
         WHERE a.attrelid = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped
         ORDER BY a.attrelid, a.attnum
        """;

    /// <summary>Primary keys and plain unique indexes (no predicate, no expressions), key columns only, in index order.</summary>
    public const string Keys = """
        SELECT i.indrelid, ic.relname::text, i.indisprimary,
               array(SELECT a.attname::text
                       FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                      WHERE k.ord <= i.indnkeyatts
                      ORDER BY k.ord) AS columns
          FROM pg_index i
          JOIN pg_class ic ON ic.oid = i.indexrelid
         WHERE i.indrelid = ANY($1) AND i.indisvalid
           AND (i.indisprimary OR (i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL))
         ORDER BY i.indrelid, i.indisprimary DESC, ic.relname
        """;
}
