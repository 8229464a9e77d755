-- title: People per system (distinct live e-mails) vs UniPACC users holding an account of that system
-- tolerance: 0
--
-- UniPACC has one user per e-mail (case-insensitive): a person with accounts in both systems is one
-- user with both qvp_user_id and svp_user_id. So each system's distinct live e-mails must equal the
-- UniPACC users that carry an account of that system. QVP deletes users softly (deleted_at); SVP
-- users with a blank e-mail are not people UniPACC can know.
-- source: qvp
SELECT 'qvp' AS key, count(DISTINCT lower(email)) AS value
FROM users
WHERE deleted_at IS NULL AND btrim(email) <> ''
-- source: svp
SELECT 'svp' AS key, count(DISTINCT lower(email)) AS value
FROM users
WHERE btrim(email) <> ''
-- target
SELECT 'qvp' AS key, count(*) AS value FROM unipacc.users WHERE qvp_user_id IS NOT NULL
UNION ALL
SELECT 'svp', count(*) FROM unipacc.users WHERE svp_user_id IS NOT NULL
