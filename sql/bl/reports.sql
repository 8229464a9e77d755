-- target: unipacc.reports
-- key: id
-- mode: incremental
-- depends: verification_requests, users
-- deleted: is_deleted
--
-- QVP reports (SVP has no reports), ids from dwh.map_id('qvp', 'report', id). A report lives only
-- while its request lives the way verification_requests.sql decides it (request and organisation
-- in STG): otherwise it is deleted (the target cascades, and a full run must not insert it).
-- The author is mapped to a person by e-mail like the requester of a request; an author in neither
-- system any more is NULL. A report is re-read when it, its request or the request's organisation
-- changed, or when its author as computed now differs from the target row (a person's liveness
-- depends on users of both systems, see verification_requests.sql). findings, tags and the reviewers
-- have no place in the target and are not migrated.
WITH request AS (                       -- live: as verification_requests.sql; touched_at: last STG change
    SELECT r.id,
           r.stg_deleted_at IS NULL AND o.id IS NOT NULL AND o.stg_deleted_at IS NULL AS live,
           greatest(r.stg_updated_at, o.stg_updated_at) AS touched_at
    FROM stg.qvp_verification_requests r
    LEFT JOIN stg.qvp_organisations o ON o.id = r.organisation_id
),
live_person AS (
    SELECT lower(email) AS email FROM stg.qvp_users WHERE stg_deleted_at IS NULL
    UNION
    SELECT lower(email) FROM stg.svp_users WHERE stg_deleted_at IS NULL AND btrim(email) <> ''
),
person AS (                             -- QVP user -> user id (NULL when the person is gone)
    SELECT u.id,
           CASE WHEN p.email IS NOT NULL THEN dwh.map_id('person', 'user', lower(u.email)) END AS user_id
    FROM stg.qvp_users u
    LEFT JOIN live_person p ON p.email = lower(u.email)
)
SELECT dwh.map_id('qvp', 'report', rep.id::text) AS id,
       'qvp'                          AS origin,
       rep.id::text                   AS origin_key,
       dwh.map_id('qvp', 'verification_request', rep.request_id::text) AS request_id,
       a.user_id                      AS author_id,
       rep.version,
       rep.title,
       rep.summary,
       rep.risk_score,
       rep.is_final,
       rep.created_at,
       rep.updated_at,
       rep.stg_deleted_at IS NOT NULL OR r.live IS NOT TRUE AS is_deleted
FROM stg.qvp_reports rep
LEFT JOIN request r ON r.id = rep.request_id
LEFT JOIN person a ON a.id = rep.author_id
LEFT JOIN unipacc.reports t ON t.origin = 'qvp' AND t.origin_key = rep.id::text
WHERE rep.stg_updated_at >= @since
   OR r.touched_at >= @since
   OR t.id IS NOT NULL AND t.author_id IS DISTINCT FROM a.user_id
