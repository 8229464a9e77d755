-- The benchmark's source table: the orders of a web shop, :rows rows generated server-side.
-- About 240 bytes of CSV per row: a bigint key, short and medium text, a hex reference that
-- compresses badly, a numeric, a boolean, nullable columns, and created_at/updated_at spread over
-- two years (ids grow with created_at; most orders are updated within a day or two of creation).
-- Run with: psql -v rows=N -f source-create.sql
\set ON_ERROR_STOP on

DROP TABLE IF EXISTS public.orders;
DROP SCHEMA IF EXISTS bench CASCADE;
CREATE SCHEMA bench;

CREATE TABLE public.orders (
    id               bigint PRIMARY KEY,
    order_no         text NOT NULL,
    customer_email   text NOT NULL,
    customer_name    text NOT NULL,
    customer_phone   text,
    status           text NOT NULL,
    shipping_address text NOT NULL,
    payment_ref      text,
    note             text,
    items            integer NOT NULL,
    amount           numeric(12,2) NOT NULL,
    currency         text NOT NULL,
    is_paid          boolean NOT NULL,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL
);

-- Rows first_id..last_id, created evenly (with jitter) between span_start and span_end.
-- Deterministic: the same id always gives the same row, apart from the span.
CREATE FUNCTION bench.order_rows(first_id bigint, last_id bigint, span_start timestamptz, span_end timestamptz)
RETURNS SETOF public.orders
LANGUAGE sql AS $$
    SELECT g,
           'ORD-' || lpad(g::text, 10, '0'),
           (ARRAY['anna','ben','carla','dmitri','emma','felix','gina','hugo','iris','jonas','kim','lena',
                  'marco','nina','oskar','paula','quentin','rosa','sven','tara','ugo','vera','willem','zoe'])[1 + h1 % 24]
             || '.' || (h2 % 100000) || '@'
             || (ARRAY['gmail.com','yahoo.com','outlook.com','example.org','mail.ru','web.de','proton.me','icloud.com'])[1 + h3 % 8],
           initcap((ARRAY['anna','ben','carla','dmitri','emma','felix','gina','hugo','iris','jonas','kim','lena',
                  'marco','nina','oskar','paula','quentin','rosa','sven','tara','ugo','vera','willem','zoe'])[1 + h1 % 24])
             || ' ' || chr(65 + (h3 / 13 % 26)::int) || '. '
             || (ARRAY['Müller','Schmidt','Novak','Rossi','García','Dubois','Jansen','Kowalski','Nielsen','Popescu',
                  'Horvat','Silva','Smith','Ivanova','Papadopoulos','Virtanen'])[1 + h2 % 16],
           CASE WHEN h3 % 5 = 0 THEN NULL ELSE '+' || (30 + h1 % 20) || ' ' || (150 + h2 % 30) || ' ' || lpad((h3 % 100000000)::text, 8, '0') END,
           (ARRAY['new','paid','shipped','delivered','cancelled','returned'])[1 + (h1 / 7) % 6],
           (1 + h2 % 250) || ' ' || (ARRAY['Hauptstraße','Main Street','Rue de la Paix','Via Roma','Kerkstraat','Ulica Długa',
                  'Calle Mayor','Storgatan','Baker Street','Lindenallee','Avenue Foch','Dorfstraße'])[1 + h3 % 12]
             || ', ' || lpad((h1 % 99999)::text, 5, '0') || ' '
             || (ARRAY['Berlin, Germany','Paris, France','Roma, Italy','Madrid, Spain','Warszawa, Poland','Amsterdam, Netherlands',
                       'Stockholm, Sweden','London, United Kingdom','Wien, Austria','Praha, Czechia','Lisboa, Portugal','Dublin, Ireland'])[1 + h2 % 12],
           CASE WHEN h1 % 3 = 0 THEN NULL ELSE 'pi_' || md5(g::text) END,
           CASE WHEN h2 % 2 = 0 THEN NULL
                ELSE (ARRAY['leave at the door','call before delivery','gift wrap, no invoice in the parcel',
                            'deliver after 17:00','fragile: glass','second floor, ring twice'])[1 + h3 % 6] END,
           1 + (h3 / 11) % 9,
           round((h2 % 5000000) / 100.0 + 0.99, 2),
           (ARRAY['EUR','EUR','EUR','USD','GBP','CHF'])[1 + (h3 / 3) % 6],
           h1 % 3 <> 0,
           c.created_at,
           least(span_end, c.created_at + interval '2 days' * power((h3 % 1000) / 1000.0, 3))
    FROM generate_series(first_id, last_id) g,
         LATERAL (SELECT abs(hashint8(g)::bigint) AS h1, abs(hashint8(g + 1000000007)::bigint) AS h2,
                         abs(hashint8(-g - 17)::bigint) AS h3) h,
         LATERAL (SELECT span_start + (span_end - span_start)
                         * (((g - first_id)::float8 + (h1 % 1000) / 1000.0) / (last_id - first_id + 1)) AS created_at) c
$$;

INSERT INTO public.orders SELECT * FROM bench.order_rows(1, :rows, now() - interval '730 days', now());

-- An app that is synced by time window has these (and Ferry's window predicate can use them).
CREATE INDEX orders_created_at ON public.orders (created_at);
CREATE INDEX orders_updated_at ON public.orders (updated_at);
VACUUM ANALYZE public.orders;
