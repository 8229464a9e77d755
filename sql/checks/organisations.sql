-- title: Organisations per system (QVP organisations, SVP accounts)
-- tolerance: 0
--
-- Neither source deletes organisations softly: every row in the source is one UniPACC organisation.
-- Source queries use the source's own tables (no schema: the connection's search_path, public).
-- source: qvp
SELECT 'qvp' AS key, count(*) AS value FROM organisations
-- source: svp
SELECT 'svp' AS key, count(*) AS value FROM accounts
-- target
SELECT origin AS key, count(*) AS value FROM unipacc.organisations GROUP BY origin
