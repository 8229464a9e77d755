-- title: Reports (final and not) and their summed risk scores, QVP vs UniPACC
-- tolerance: 0.01
--
-- A report lives while it exists, its request is not soft-deleted and the request's organisation
-- exists (sql/bl/reports.sql). Risk scores are numeric(5,2) on both sides: the tolerance only
-- absorbs a rounding of the sum, never a changed score.
-- source: qvp
WITH live AS (
    SELECT rep.*
    FROM reports rep
    JOIN verification_requests r ON r.id = rep.request_id AND r.deleted_at IS NULL
    JOIN organisations o ON o.id = r.organisation_id
)
SELECT CASE WHEN is_final THEN 'final' ELSE 'draft' END || ': count' AS key, count(*) AS value FROM live GROUP BY 1
UNION ALL
SELECT CASE WHEN is_final THEN 'final' ELSE 'draft' END || ': risk score sum', coalesce(sum(risk_score), 0) FROM live GROUP BY 1
-- target
SELECT CASE WHEN is_final THEN 'final' ELSE 'draft' END || ': count' AS key, count(*) AS value FROM unipacc.reports GROUP BY 1
UNION ALL
SELECT CASE WHEN is_final THEN 'final' ELSE 'draft' END || ': risk score sum', coalesce(sum(risk_score), 0) FROM unipacc.reports GROUP BY 1
