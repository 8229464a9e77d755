-- title: Attachments per system and kind, with their bytes, QVP + SVP vs UniPACC
-- tolerance: 0
--
-- In QVP, a live file_storage row (deleted_at) on a live request and/or a live report; in SVP, an
-- ActiveStorage attachment of a Request, or of a live Document (deleted_at) of one, whose blob
-- exists; the request must live (not soft-deleted, its account exists). User avatars are not
-- migrated. As sql/bl/attachments.sql decides it.
-- source: qvp
WITH live_request AS (
    SELECT r.id FROM verification_requests r
    WHERE r.deleted_at IS NULL AND EXISTS (SELECT 1 FROM organisations o WHERE o.id = r.organisation_id)
),
live_report AS (
    SELECT rep.id FROM reports rep JOIN live_request r ON r.id = rep.request_id
),
live AS (
    SELECT f.* FROM file_storage f
    WHERE f.deleted_at IS NULL
      AND (f.request_id IS NOT NULL OR f.report_id IS NOT NULL)
      AND (f.request_id IS NULL OR f.request_id IN (SELECT id FROM live_request))
      AND (f.report_id IS NULL OR f.report_id IN (SELECT id FROM live_report))
)
SELECT 'qvp ' || kind || ': count' AS key, count(*) AS value FROM live GROUP BY kind
UNION ALL
SELECT 'qvp ' || kind || ': bytes', sum(size_bytes) FROM live GROUP BY kind
-- source: svp
WITH live AS (
    SELECT CASE a.record_type WHEN 'Document' THEN 'document' ELSE 'upload' END AS kind, b.byte_size
    FROM active_storage_attachments a
    JOIN active_storage_blobs b ON b.id = a.blob_id
    LEFT JOIN documents d ON a.record_type = 'Document' AND d.id = a.record_id
    JOIN requests r ON r.id = CASE a.record_type WHEN 'Document' THEN d.request_id ELSE a.record_id END
    WHERE a.record_type IN ('Document', 'Request')
      AND (a.record_type <> 'Document' OR d.deleted_at IS NULL)
      AND r.deleted_at IS NULL
      AND EXISTS (SELECT 1 FROM accounts ac WHERE ac.id = r.account_id)
)
SELECT 'svp ' || kind || ': count' AS key, count(*) AS value FROM live GROUP BY kind
UNION ALL
SELECT 'svp ' || kind || ': bytes', sum(byte_size) FROM live GROUP BY kind
-- target
SELECT origin || ' ' || kind || ': count' AS key, count(*) AS value FROM unipacc.attachments GROUP BY origin, kind
UNION ALL
SELECT origin || ' ' || kind || ': bytes', sum(size_bytes) FROM unipacc.attachments GROUP BY origin, kind
