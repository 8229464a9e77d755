-- title: Certificates per year of validity start (and how many revoked), QVP vs UniPACC
-- tolerance: 0
--
-- A certificate lives while its own organisation exists and its report lives: the report exists and
-- its request is not soft-deleted and its request's organisation exists (sql/bl/certificates.sql).
-- source: qvp
WITH live AS (
    SELECT c.*
    FROM certificates c
    JOIN reports rep ON rep.id = c.report_id
    JOIN verification_requests r ON r.id = rep.request_id AND r.deleted_at IS NULL
    JOIN organisations ro ON ro.id = r.organisation_id
    WHERE EXISTS (SELECT 1 FROM organisations o WHERE o.id = c.organisation_id)
)
SELECT extract(year FROM valid_from)::int::text AS key, count(*) AS value FROM live GROUP BY 1
UNION ALL
SELECT extract(year FROM valid_from)::int::text || ' revoked', count(*) FROM live WHERE revoked_at IS NOT NULL GROUP BY 1
-- target
SELECT extract(year FROM valid_from)::int::text AS key, count(*) AS value FROM unipacc.certificates GROUP BY 1
UNION ALL
SELECT extract(year FROM valid_from)::int::text || ' revoked', count(*) FROM unipacc.certificates WHERE revoked_at IS NOT NULL GROUP BY 1
