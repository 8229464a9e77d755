-- title: Invoice totals per month and currency, QVP vs UniPACC
-- tolerance: 0
--
-- Money must match to the cent. Months are taken in UTC on both sides (created_at: issued_on is
-- NULL for drafts). An invoice lives while its organisation exists; SVP has no invoices.
-- source: qvp
SELECT to_char(i.created_at AT TIME ZONE 'UTC', 'YYYY-MM') || ' ' || i.currency AS key,
       sum(i.total_amount) AS value
FROM invoices i
WHERE EXISTS (SELECT 1 FROM organisations o WHERE o.id = i.organisation_id)
GROUP BY 1
-- target
SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM') || ' ' || currency AS key,
       sum(total_amount) AS value
FROM unipacc.invoices
GROUP BY 1
