-- The baseline's STG table: the source columns plus an md5 of the row and change timestamps.
\set ON_ERROR_STOP on
CREATE SCHEMA IF NOT EXISTS baseline;
DROP TABLE IF EXISTS baseline.orders_load;
DROP TABLE IF EXISTS baseline.orders;
CREATE TABLE baseline.orders (
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
    updated_at       timestamptz NOT NULL,
    row_md5          text NOT NULL,
    stg_inserted_at  timestamptz NOT NULL DEFAULT now(),
    stg_updated_at   timestamptz NOT NULL DEFAULT now(),
    stg_deleted_at   timestamptz
);
