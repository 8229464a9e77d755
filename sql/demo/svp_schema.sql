-- SVP, a Rails application: demo source schema as `rails db:schema:load` would create it.
--
-- Run on an empty database, then svp_generate.sql, which loads the rows and only then adds the
-- foreign keys and secondary indexes.
--
-- Rails conventions, kept on purpose: bigserial ids, created_at / updated_at timestamp(6) NOT NULL
-- without time zone (values are UTC), enums stored as integers, STI in documents.type, soft deletes
-- with the paranoia gem (deleted_at, which also bumps updated_at) in requests and documents, and
-- ActiveStorage: a blob is one object in the bucket, an attachment links it to any record
-- (polymorphic record_type / record_id, so no foreign key on the record side).

CREATE TABLE schema_migrations (
    version character varying NOT NULL PRIMARY KEY
);

CREATE TABLE ar_internal_metadata (
    key        character varying NOT NULL PRIMARY KEY,
    value      character varying,
    created_at timestamp(6) without time zone NOT NULL,
    updated_at timestamp(6) without time zone NOT NULL
);

CREATE TABLE accounts (
    id             bigserial PRIMARY KEY,
    name           character varying NOT NULL,
    slug           character varying NOT NULL,
    plan           character varying DEFAULT 'basic' NOT NULL,
    billing_email  character varying,
    vat_number     character varying,
    settings       jsonb DEFAULT '{}' NOT NULL,
    trial_ends_on  date,
    active         boolean DEFAULT true NOT NULL,
    created_at     timestamp(6) without time zone NOT NULL,
    updated_at     timestamp(6) without time zone NOT NULL
);

CREATE TABLE users (
    id                 bigserial PRIMARY KEY,
    account_id         bigint,
    email              character varying DEFAULT '' NOT NULL,
    encrypted_password character varying DEFAULT '' NOT NULL,
    first_name         character varying,
    last_name          character varying,
    phone              character varying,
    time_zone          character varying DEFAULT 'UTC',
    locale             character varying,
    role               integer DEFAULT 0 NOT NULL,         -- enum role: { member: 0, manager: 1, admin: 2 }
    admin              boolean DEFAULT false NOT NULL,
    sign_in_count      integer DEFAULT 0 NOT NULL,
    current_sign_in_at timestamp(6) without time zone,
    confirmed_at       timestamp(6) without time zone,
    created_at         timestamp(6) without time zone NOT NULL,
    updated_at         timestamp(6) without time zone NOT NULL
);

CREATE TABLE requests (
    id             bigserial PRIMARY KEY,
    account_id     bigint NOT NULL,
    user_id        bigint NOT NULL,
    assignee_id    bigint,
    reference      character varying NOT NULL,
    status         integer DEFAULT 0 NOT NULL,   -- enum status: { draft: 0, open: 1, in_progress: 2, done: 3, declined: 4 }
    kind           character varying NOT NULL,
    subject_name   character varying,
    notes          text,
    metadata       jsonb DEFAULT '{}' NOT NULL,
    price_cents    integer,
    price_currency character varying DEFAULT 'EUR' NOT NULL,
    due_on         date,
    submitted_at   timestamp(6) without time zone,
    completed_at   timestamp(6) without time zone,
    deleted_at     timestamp(6) without time zone,
    created_at     timestamp(6) without time zone NOT NULL,
    updated_at     timestamp(6) without time zone NOT NULL
);

CREATE TABLE documents (
    id             bigserial PRIMARY KEY,
    request_id     bigint NOT NULL,
    uploaded_by_id bigint,
    type           character varying NOT NULL,   -- STI: Documents::Passport, Documents::IdCard, ...
    title          character varying,
    description    text,
    tags           character varying[] DEFAULT '{}' NOT NULL,
    page_count     integer,
    verified       boolean,
    verified_at    timestamp(6) without time zone,
    deleted_at     timestamp(6) without time zone,
    created_at     timestamp(6) without time zone NOT NULL,
    updated_at     timestamp(6) without time zone NOT NULL
);

-- The object's bytes are the first byte_size bytes of (key || E'\n') repeated; checksum is their
-- base64 MD5, as Rails computes it.
CREATE TABLE active_storage_blobs (
    id           bigserial PRIMARY KEY,
    key          character varying NOT NULL,
    filename     character varying NOT NULL,
    content_type character varying,
    metadata     text,
    service_name character varying NOT NULL,
    byte_size    bigint NOT NULL,
    checksum     character varying,
    created_at   timestamp(6) without time zone NOT NULL
);

CREATE TABLE active_storage_attachments (
    id          bigserial PRIMARY KEY,
    name        character varying NOT NULL,
    record_type character varying NOT NULL,
    record_id   bigint NOT NULL,
    blob_id     bigint NOT NULL,
    created_at  timestamp(6) without time zone NOT NULL
);
