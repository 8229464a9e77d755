-- The change between two full reloads, applied once: 1% of rows updated, 0.5% new, 0.2% deleted.
-- Updated and deleted ids are disjoint (id % 100 = 7 never has id % 500 = 3).
-- Run with: psql -v rows=N -f source-change.sql   (N = the rows source-create.sql made)
\set ON_ERROR_STOP on

BEGIN;
UPDATE public.orders
   SET status = CASE status WHEN 'shipped' THEN 'delivered' ELSE 'shipped' END,
       amount = amount + 1.00,
       updated_at = now()
 WHERE id % 100 = 7;
DELETE FROM public.orders WHERE id % 500 = 3;
INSERT INTO public.orders
SELECT * FROM bench.order_rows(:rows + 1, :rows + :rows / 200, now() - interval '1 hour', now());
COMMIT;
VACUUM ANALYZE public.orders;
