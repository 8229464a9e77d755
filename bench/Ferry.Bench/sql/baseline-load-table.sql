-- The baseline's load table: the source columns, unlogged, made fresh for every run.
\set ON_ERROR_STOP on
DROP TABLE IF EXISTS baseline.orders_load;
CREATE UNLOGGED TABLE baseline.orders_load (
    id               bigint,
    order_no         text,
    customer_email   text,
    customer_name    text,
    customer_phone   text,
    status           text,
    shipping_address text,
    payment_ref      text,
    note             text,
    items            integer,
    amount           numeric(12,2),
    currency         text,
    is_paid          boolean,
    created_at       timestamptz,
    updated_at       timestamptz
);
