-- verify.orphans: every foreign key whose child table is in one of the schemas $1, enforced or not
-- (NOT VALID constraints and disabled triggers included: the data is checked, not the catalog's promise).
-- Columns in constraint order; the child's primary key (empty when it has none) names orphan rows.
SELECT c.conname::text                 AS constraint_name,
       cn.nspname::text                AS child_schema,
       cc.relname::text                AS child_table,
       pn.nspname::text                AS parent_schema,
       pc.relname::text                AS parent_table,
       ARRAY(SELECT a.attname::text
             FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, i)
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
             ORDER BY k.i)             AS child_columns,
       ARRAY(SELECT a.attname::text
             FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, i)
             JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum
             ORDER BY k.i)             AS parent_columns,
       ARRAY(SELECT a.attname::text
             FROM pg_index x
             CROSS JOIN LATERAL unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, i)
             JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
             WHERE x.indrelid = c.conrelid AND x.indisprimary
             ORDER BY k.i)             AS child_key,
       c.confmatchtype = 'f'           AS match_full,
       c.convalidated                  AS validated,
       EXISTS (SELECT 1 FROM pg_trigger t
               WHERE t.tgconstraint = c.oid AND t.tgrelid = c.conrelid AND t.tgenabled = 'D') AS trigger_disabled
FROM pg_constraint c
JOIN pg_class cc ON cc.oid = c.conrelid
JOIN pg_namespace cn ON cn.oid = cc.relnamespace
JOIN pg_class pc ON pc.oid = c.confrelid
JOIN pg_namespace pn ON pn.oid = pc.relnamespace
WHERE c.contype = 'f'
  AND cn.nspname = ANY ($1)
  AND c.conparentid = 0                -- a partitioned table's constraint once, not once per partition
ORDER BY cn.nspname, cc.relname, c.conname
