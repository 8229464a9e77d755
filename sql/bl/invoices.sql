-- target: unipacc.invoices
-- key: id
-- mode: incremental
-- depends: organisations
-- deleted: is_deleted
--
-- QVP invoices (SVP has none: it prices requests, which is not an invoice), ids from
-- dwh.map_id('qvp', 'invoice', id). Amounts are taken as QVP stores them (totals of the lines);
-- the lines and the billing address have no place in the target. An invoice lives only while its
-- organisation is in STG: otherwise it is deleted (the target cascades, and a full run must not
-- insert it). Re-read when it or its organisation changed.
SELECT dwh.map_id('qvp', 'invoice', i.id::text) AS id,
       'qvp'                          AS origin,
       i.id::text                     AS origin_key,
       dwh.map_id('qvp', 'organisation', i.organisation_id::text) AS organisation_id,
       i.invoice_no,
       i.status,
       i.currency,
       i.issued_on,
       i.due_on,
       i.net_amount,
       i.vat_amount,
       i.total_amount,
       i.paid_at,
       i.created_at,
       i.updated_at,
       i.stg_deleted_at IS NOT NULL OR o.id IS NULL OR o.stg_deleted_at IS NOT NULL AS is_deleted
FROM stg.qvp_invoices i
LEFT JOIN stg.qvp_organisations o ON o.id = i.organisation_id
WHERE i.stg_updated_at >= @since
   OR o.stg_updated_at >= @since
