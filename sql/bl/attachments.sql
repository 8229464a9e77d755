-- target: unipacc.attachments
-- key: id
-- mode: incremental
-- depends: verification_requests, reports
-- deleted: is_deleted
--
-- The files of both systems, attached to a request or a report, ids from
-- dwh.map_id(<system>, 'attachment', id):
--   * QVP file_storage: kind as QVP has it (upload, report_pdf, certificate_pdf), bucket and
--     object_key as the source location; a file on neither a request nor a report is skipped.
--   * SVP ActiveStorage: one attachment per active_storage_attachments row with its blob; a
--     Document's file is kind 'document' on the document's request, a Request's own attachments
--     are kind 'upload'. User avatars are not verification files and are not migrated.
-- target_key is the copy the files process recorded in stg.file_copies (files.qvp by object_key,
-- files.svp by blob key): NULL until the copy succeeded ('failed' gives NULL too).
-- An attachment lives only while its file (and blob, and document) and every request or report
-- it is on live the way verification_requests.sql and reports.sql decide it: otherwise it is
-- deleted (the target cascades, and a full run must not insert it). Re-read when any of those
-- rows or its file copy changed. A file_copies row that disappears is not noticed until the
-- attachment changes or a full run (the files process never deletes them).
WITH qvp_request AS (                   -- live: as verification_requests.sql; touched_at: last STG change
    SELECT r.id,
           r.stg_deleted_at IS NULL AND o.id IS NOT NULL AND o.stg_deleted_at IS NULL AS live,
           greatest(r.stg_updated_at, o.stg_updated_at) AS touched_at
    FROM stg.qvp_verification_requests r
    LEFT JOIN stg.qvp_organisations o ON o.id = r.organisation_id
),
qvp_report AS (                         -- live: as reports.sql
    SELECT rep.id, rep.stg_deleted_at IS NULL AND r.live AS live,
           greatest(rep.stg_updated_at, r.touched_at) AS touched_at
    FROM stg.qvp_reports rep
    JOIN qvp_request r ON r.id = rep.request_id
),
svp_request AS (
    SELECT r.id,
           r.stg_deleted_at IS NULL AND a.id IS NOT NULL AND a.stg_deleted_at IS NULL AS live,
           greatest(r.stg_updated_at, a.stg_updated_at) AS touched_at
    FROM stg.svp_requests r
    LEFT JOIN stg.svp_accounts a ON a.id = r.account_id
)
SELECT dwh.map_id('qvp', 'attachment', f.id::text) AS id,
       'qvp'                          AS origin,
       f.id::text                     AS origin_key,
       dwh.map_id('qvp', 'verification_request', f.request_id::text) AS request_id,
       dwh.map_id('qvp', 'report', f.report_id::text) AS report_id,
       f.kind,
       f.file_name,
       f.content_type,
       f.size_bytes,
       f.bucket                       AS source_bucket,
       f.object_key                   AS source_key,
       CASE WHEN fc.status = 'copied' THEN fc.target_key END AS target_key,
       f.created_at,
       f.stg_deleted_at IS NOT NULL
           OR (f.request_id IS NULL AND f.report_id IS NULL)
           OR (f.request_id IS NOT NULL AND r.live IS NOT TRUE)
           OR (f.report_id IS NOT NULL AND rep.live IS NOT TRUE) AS is_deleted
FROM stg.qvp_file_storage f
LEFT JOIN qvp_request r ON r.id = f.request_id
LEFT JOIN qvp_report rep ON rep.id = f.report_id
LEFT JOIN stg.file_copies fc ON fc.process_id = 'files.qvp' AND fc.source_key = f.object_key
WHERE f.stg_updated_at >= @since
   OR r.touched_at >= @since
   OR rep.touched_at >= @since
   OR fc.stg_updated_at >= @since
UNION ALL
SELECT dwh.map_id('svp', 'attachment', a.id::text),
       'svp',
       a.id::text,
       dwh.map_id('svp', 'verification_request', r.id::text),
       NULL,
       CASE a.record_type WHEN 'Document' THEN 'document' ELSE 'upload' END,
       b.filename,
       b.content_type,
       b.byte_size,
       b.service_name,
       b.key,
       CASE WHEN fc.status = 'copied' THEN fc.target_key END,
       a.created_at AT TIME ZONE 'UTC',  -- Rails stores UTC without a zone
       a.stg_deleted_at IS NOT NULL
           OR b.id IS NULL OR b.stg_deleted_at IS NOT NULL
           OR (a.record_type = 'Document' AND (d.id IS NULL OR d.stg_deleted_at IS NOT NULL))
           OR r.live IS NOT TRUE
FROM stg.svp_active_storage_attachments a
LEFT JOIN stg.svp_active_storage_blobs b ON b.id = a.blob_id
LEFT JOIN stg.svp_documents d ON a.record_type = 'Document' AND d.id = a.record_id
LEFT JOIN svp_request r ON r.id = CASE a.record_type WHEN 'Document' THEN d.request_id ELSE a.record_id END
LEFT JOIN stg.file_copies fc ON fc.process_id = 'files.svp' AND fc.source_key = b.key
WHERE a.record_type IN ('Document', 'Request')
  AND (a.stg_updated_at >= @since
       OR b.stg_updated_at >= @since
       OR d.stg_updated_at >= @since
       OR r.touched_at >= @since
       OR fc.stg_updated_at >= @since)
