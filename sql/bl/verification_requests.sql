-- target: unipacc.verification_requests
-- key: id
-- mode: incremental
-- depends: organisations, users
-- deleted: is_deleted
--
-- QVP verification_requests and SVP requests in one table, origin recorded. People are mapped by
-- e-mail like in users.sql; a requester or assignee who is in neither system any more is NULL.
-- A request is re-read when it or its organisation changed, or when its requester or assignee as
-- computed now differs from the target row: a person's liveness and id depend on users of both
-- systems by e-mail (a QVP requester whose only live account is in SVP goes when that account goes),
-- so comparing with what the target holds catches every such change, whichever system it came from. A request whose organisation is gone from STG is deleted with it
-- (the target cascades; a full run must not insert it either).
WITH live_person AS (
    SELECT lower(email) AS email FROM stg.qvp_users WHERE stg_deleted_at IS NULL
    UNION
    SELECT lower(email) FROM stg.svp_users WHERE stg_deleted_at IS NULL AND btrim(email) <> ''
),
qvp_person AS (
    SELECT u.id, dwh.map_id('person', 'user', lower(u.email)) AS user_id
    FROM stg.qvp_users u JOIN live_person p ON p.email = lower(u.email)
),
svp_person AS (
    SELECT u.id, dwh.map_id('person', 'user', lower(u.email)) AS user_id
    FROM stg.svp_users u JOIN live_person p ON p.email = lower(u.email)
)
SELECT dwh.map_id('qvp', 'verification_request', r.id::text) AS id,
       'qvp'                          AS origin,
       r.id::text                     AS origin_key,
       r.public_id::text              AS reference,
       dwh.map_id('qvp', 'organisation', r.organisation_id::text) AS organisation_id,
       req.user_id                    AS requested_by,
       asg.user_id                    AS assigned_to,
       r."Type"::text                 AS kind,
       r.status::text                 AS status,
       r.subject_name,
       r.notes,
       r.due_date                     AS due_on,
       r.submitted_at,
       r.created_at,
       r.updated_at,
       r.stg_deleted_at IS NOT NULL OR o.id IS NULL OR o.stg_deleted_at IS NOT NULL AS is_deleted
FROM stg.qvp_verification_requests r
LEFT JOIN stg.qvp_organisations o ON o.id = r.organisation_id
LEFT JOIN qvp_person req ON req.id = r.requested_by
LEFT JOIN qvp_person asg ON asg.id = r.assigned_to
LEFT JOIN unipacc.verification_requests t ON t.origin = 'qvp' AND t.origin_key = r.id::text
WHERE r.stg_updated_at >= @since OR o.stg_updated_at >= @since
   OR t.id IS NOT NULL AND (t.requested_by IS DISTINCT FROM req.user_id OR t.assigned_to IS DISTINCT FROM asg.user_id)
UNION ALL
SELECT dwh.map_id('svp', 'verification_request', r.id::text),
       'svp',
       r.id::text,
       r.reference,
       dwh.map_id('svp', 'organisation', r.account_id::text),
       req.user_id,
       asg.user_id,
       r.kind,
       CASE r.status WHEN 0 THEN 'draft' WHEN 1 THEN 'submitted' WHEN 2 THEN 'in_review'
                     WHEN 3 THEN 'approved' WHEN 4 THEN 'rejected' END,  -- Rails enum status
       r.subject_name,
       r.notes,
       r.due_on,
       r.submitted_at AT TIME ZONE 'UTC',
       r.created_at AT TIME ZONE 'UTC',
       r.updated_at AT TIME ZONE 'UTC',
       r.stg_deleted_at IS NOT NULL OR a.id IS NULL OR a.stg_deleted_at IS NOT NULL
FROM stg.svp_requests r
LEFT JOIN stg.svp_accounts a ON a.id = r.account_id
LEFT JOIN svp_person req ON req.id = r.user_id
LEFT JOIN svp_person asg ON asg.id = r.assignee_id
LEFT JOIN unipacc.verification_requests t ON t.origin = 'svp' AND t.origin_key = r.id::text
WHERE r.stg_updated_at >= @since OR a.stg_updated_at >= @since
   OR t.id IS NOT NULL AND (t.requested_by IS DISTINCT FROM req.user_id OR t.assigned_to IS DISTINCT FROM asg.user_id)
