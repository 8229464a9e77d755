-- Full loads only: STG rows the load no longer has are marked deleted.
\set ON_ERROR_STOP on
UPDATE baseline.orders stg SET stg_deleted_at = now(), stg_updated_at = now()
WHERE NOT EXISTS (SELECT 1 FROM baseline.orders_load l WHERE l.id = stg.id) AND stg.stg_deleted_at IS NULL;
