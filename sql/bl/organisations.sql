-- target: unipacc.organisations
-- key: id
-- mode: incremental
-- deleted: is_deleted
--
-- QVP organisations and SVP accounts, each with its own id from dwh.map_id. Neither source deletes
-- softly, so a row goes when STG marks it deleted (it left the source).
SELECT dwh.map_id('qvp', 'organisation', o.id::text) AS id,
       'qvp'                        AS origin,
       o.id::text                   AS origin_key,
       o.name,
       o.legal_name,
       o.country_code,
       o.vat_number,
       NULL::text                   AS billing_email,
       true                         AS is_active,
       o.created_at,
       o.updated_at,
       o.stg_deleted_at IS NOT NULL AS is_deleted
FROM stg.qvp_organisations o
WHERE o.stg_updated_at >= @since
UNION ALL
SELECT dwh.map_id('svp', 'organisation', a.id::text),
       'svp',
       a.id::text,
       a.name,
       NULL,
       NULL,
       a.vat_number,
       a.billing_email,
       a.active,
       a.created_at AT TIME ZONE 'UTC',  -- Rails stores UTC without a zone
       a.updated_at AT TIME ZONE 'UTC',
       a.stg_deleted_at IS NOT NULL
FROM stg.svp_accounts a
WHERE a.stg_updated_at >= @since
