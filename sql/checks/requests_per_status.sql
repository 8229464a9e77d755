-- title: Verification requests per status, QVP + SVP vs UniPACC
-- tolerance: 0
--
-- A request lives while it is not soft-deleted (deleted_at) and its organisation (QVP) or account
-- (SVP) exists. SVP's Rails enum maps as sql/bl/verification_requests.sql maps it.
-- source: qvp
SELECT r.status::text AS key, count(*) AS value
FROM verification_requests r
WHERE r.deleted_at IS NULL
  AND EXISTS (SELECT 1 FROM organisations o WHERE o.id = r.organisation_id)
GROUP BY 1
-- source: svp
SELECT CASE r.status WHEN 0 THEN 'draft' WHEN 1 THEN 'submitted' WHEN 2 THEN 'in_review'
                     WHEN 3 THEN 'approved' WHEN 4 THEN 'rejected' END AS key,
       count(*) AS value
FROM requests r
WHERE r.deleted_at IS NULL
  AND EXISTS (SELECT 1 FROM accounts a WHERE a.id = r.account_id)
GROUP BY 1
-- target
SELECT status AS key, count(*) AS value FROM unipacc.verification_requests GROUP BY status
