-- The cluster benchmark's source: the same web-shop order generator as bench/Ferry.Bench/sql/source-create.sql
-- (about 240 bytes of CSV per row, deterministic per id), as a function the program calls per table.
-- Run once on the source database; then BenchSource creates the tiny and the bulk tables from it.

DROP SCHEMA IF EXISTS bench CASCADE;
CREATE SCHEMA bench;

-- The row type of every bulk table (public.orders_<n> are created LIKE it, plus a primary key).
CREATE TABLE bench.orders_shape (
    id               bigint NOT NULL,
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
CREATE FUNCTION bench.order_rows(first_id bigint, last_id bigint, span_start timestamptz, span_end timestamptz)
RETURNS SETOF bench.orders_shape
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

-- A tiny table: a key and three columns, `rows` rows.
CREATE PROCEDURE bench.create_tiny(name text, rows int)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('DROP TABLE IF EXISTS public.%I', name);
    EXECUTE format('CREATE TABLE public.%I (id bigint PRIMARY KEY, label text NOT NULL, amount numeric(12,2), updated_at timestamptz NOT NULL)', name);
    EXECUTE format('INSERT INTO public.%I SELECT g, %L || g, g * 1.25, now() - g * interval ''1 hour'' FROM generate_series(1, %s) g', name, name || '-', rows);
END $$;

-- A bulk table: ids first_id..first_id+rows-1 of the generator, then its primary key.
CREATE PROCEDURE bench.create_orders(name text, first_id bigint, rows bigint)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('DROP TABLE IF EXISTS public.%I', name);
    EXECUTE format('CREATE TABLE public.%I (LIKE bench.orders_shape INCLUDING ALL)', name);
    EXECUTE format('INSERT INTO public.%I SELECT * FROM bench.order_rows(%s, %s, now() - interval ''730 days'', now())', name, first_id, first_id + rows - 1);
    EXECUTE format('ALTER TABLE public.%I ADD PRIMARY KEY (id)', name);
END $$;
