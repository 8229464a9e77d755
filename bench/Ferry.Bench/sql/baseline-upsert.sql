-- The baseline's merge: upsert every loaded row, writing only rows whose md5 changed (or that come back
-- after a delete). Run in one transaction (psql -1), followed by baseline-mark-deleted.sql for full loads.
\set ON_ERROR_STOP on
INSERT INTO baseline.orders AS stg (id, order_no, customer_email, customer_name, customer_phone, status, shipping_address,
        payment_ref, note, items, amount, currency, is_paid, created_at, updated_at, row_md5, stg_inserted_at, stg_updated_at)
SELECT l.id, l.order_no, l.customer_email, l.customer_name, l.customer_phone, l.status, l.shipping_address,
       l.payment_ref, l.note, l.items, l.amount, l.currency, l.is_paid, l.created_at, l.updated_at, md5(l::text), now(), now()
FROM baseline.orders_load l
ON CONFLICT (id) DO UPDATE SET
    order_no = EXCLUDED.order_no, customer_email = EXCLUDED.customer_email, customer_name = EXCLUDED.customer_name,
    customer_phone = EXCLUDED.customer_phone, status = EXCLUDED.status, shipping_address = EXCLUDED.shipping_address,
    payment_ref = EXCLUDED.payment_ref, note = EXCLUDED.note, items = EXCLUDED.items, amount = EXCLUDED.amount,
    currency = EXCLUDED.currency, is_paid = EXCLUDED.is_paid, created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at,
    row_md5 = EXCLUDED.row_md5, stg_updated_at = now(), stg_deleted_at = NULL
WHERE stg.row_md5 IS DISTINCT FROM EXCLUDED.row_md5 OR stg.stg_deleted_at IS NOT NULL;
