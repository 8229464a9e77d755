-- verify: the primary key columns of table $1 (schema-qualified, quoted), in key order; none without a primary key.
SELECT a.attname::text
FROM pg_index x
CROSS JOIN LATERAL unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, i)
JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
WHERE x.indrelid = to_regclass($1) AND x.indisprimary
ORDER BY k.i
