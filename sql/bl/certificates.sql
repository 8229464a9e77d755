-- target: unipacc.certificates
-- key: id
-- mode: incremental
-- depends: reports, organisations
-- deleted: is_deleted
--
-- QVP certificates (SVP issues none), ids from dwh.map_id('qvp', 'certificate', id). A certificate
-- lives only while its report lives the way reports.sql decides it (report, request and the
-- request's organisation in STG) and while its own organisation is in STG: otherwise it is deleted
-- (the target cascades from both, and a full run must not insert it). A revoked certificate stays,
-- with revoked_at and the reason; 'infinity' in valid_until is kept (never expires). It is re-read
-- when it or any row its life depends on changed. The signature (bytea) is not migrated.
WITH report AS (                        -- live: as reports.sql; touched_at: last STG change
    SELECT rep.id,
           rep.stg_deleted_at IS NULL AND r.stg_deleted_at IS NULL
               AND o.id IS NOT NULL AND o.stg_deleted_at IS NULL AS live,
           greatest(rep.stg_updated_at, r.stg_updated_at, o.stg_updated_at) AS touched_at
    FROM stg.qvp_reports rep
    JOIN stg.qvp_verification_requests r ON r.id = rep.request_id
    LEFT JOIN stg.qvp_organisations o ON o.id = r.organisation_id
)
SELECT dwh.map_id('qvp', 'certificate', c.id::text) AS id,
       'qvp'                          AS origin,
       c.id::text                     AS origin_key,
       dwh.map_id('qvp', 'report', c.report_id::text) AS report_id,
       dwh.map_id('qvp', 'organisation', c.organisation_id::text) AS organisation_id,
       c.certificate_no,
       c.valid_from,
       c.valid_until,
       c.revoked_at,
       c.revocation_reason,
       c.created_at,
       c.updated_at,
       c.stg_deleted_at IS NOT NULL OR rep.live IS NOT TRUE
           OR o.id IS NULL OR o.stg_deleted_at IS NOT NULL AS is_deleted
FROM stg.qvp_certificates c
LEFT JOIN report rep ON rep.id = c.report_id
LEFT JOIN stg.qvp_organisations o ON o.id = c.organisation_id
WHERE c.stg_updated_at >= @since
   OR rep.touched_at >= @since
   OR o.stg_updated_at >= @since
