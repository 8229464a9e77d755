-- title: Invoices per status, with their VAT, QVP vs UniPACC
-- tolerance: 0
--
-- Counts and VAT sums per status (draft, issued, paid, void) of the invoices whose organisation exists.
-- source: qvp
SELECT i.status || ': count' AS key, count(*) AS value
FROM invoices i
WHERE EXISTS (SELECT 1 FROM organisations o WHERE o.id = i.organisation_id)
GROUP BY i.status
UNION ALL
SELECT i.status || ': vat', sum(i.vat_amount)
FROM invoices i
WHERE EXISTS (SELECT 1 FROM organisations o WHERE o.id = i.organisation_id)
GROUP BY i.status
-- target
SELECT status || ': count' AS key, count(*) AS value FROM unipacc.invoices GROUP BY status
UNION ALL
SELECT status || ': vat', sum(vat_amount) FROM unipacc.invoices GROUP BY status
