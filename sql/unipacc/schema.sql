-- UniPACC, the unified application: demo target schema. Idempotent (safe to apply on every run).
--
-- Rows from QVP and SVP get new bigint ids from dwh.map_id (sql/dwh/id_map.sql), so ids never
-- collide and stay the same on every re-run; origin / origin_key say where each row came from.
-- References to users are nullable and SET NULL on delete (a person can leave both systems while
-- their requests stay); owned rows cascade (requests, certificates and invoices of an organisation,
-- reports of a request, certificates of a report, attachments of a request or report), so deleting
-- a parent never waits for its children's transforms, which run after it.

CREATE SCHEMA IF NOT EXISTS unipacc;

CREATE TABLE IF NOT EXISTS unipacc.organisations (
    id           bigint      PRIMARY KEY,
    origin       text        NOT NULL CHECK (origin IN ('qvp', 'svp')),
    origin_key   text        NOT NULL,
    name         text        NOT NULL,
    legal_name   text,
    country_code char(2),
    vat_number   text,
    billing_email text,
    is_active    boolean     NOT NULL,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    UNIQUE (origin, origin_key)
);

-- One user per person: QVP and SVP accounts with the same e-mail (case-insensitive) are one user.
CREATE TABLE IF NOT EXISTS unipacc.users (
    id              bigint      PRIMARY KEY,
    email           text        NOT NULL UNIQUE,     -- lower-cased
    first_name      text,
    last_name       text,
    phone           text,
    locale          text,
    organisation_id bigint      REFERENCES unipacc.organisations ON DELETE SET NULL,
    origin          text        NOT NULL CHECK (origin IN ('qvp', 'svp', 'both')),
    qvp_user_id     bigint      UNIQUE,
    svp_user_id     bigint      UNIQUE,
    is_active       boolean     NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);

-- QVP verification_requests and SVP requests in one table.
CREATE TABLE IF NOT EXISTS unipacc.verification_requests (
    id              bigint      PRIMARY KEY,
    origin          text        NOT NULL CHECK (origin IN ('qvp', 'svp')),
    origin_key      text        NOT NULL,
    reference       text        NOT NULL,            -- QVP public_id, SVP reference
    organisation_id bigint      NOT NULL REFERENCES unipacc.organisations ON DELETE CASCADE,
    requested_by    bigint      REFERENCES unipacc.users ON DELETE SET NULL,
    assigned_to     bigint      REFERENCES unipacc.users ON DELETE SET NULL,
    kind            text        NOT NULL,
    status          text        NOT NULL CHECK (status IN ('draft', 'submitted', 'in_review', 'on_hold', 'approved', 'rejected', 'cancelled')),
    subject_name    text,
    notes           text,
    due_on          date,
    submitted_at    timestamptz,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    UNIQUE (origin, origin_key)
);

-- QVP reports (SVP has no reports).
CREATE TABLE IF NOT EXISTS unipacc.reports (
    id          bigint      PRIMARY KEY,
    origin      text        NOT NULL CHECK (origin IN ('qvp', 'svp')),
    origin_key  text        NOT NULL,
    request_id  bigint      NOT NULL REFERENCES unipacc.verification_requests ON DELETE CASCADE,
    author_id   bigint      REFERENCES unipacc.users ON DELETE SET NULL,
    version     integer     NOT NULL,
    title       text        NOT NULL,
    summary     text,
    risk_score  numeric(5,2),
    is_final    boolean     NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    UNIQUE (origin, origin_key)
);

-- QVP certificates (SVP issues none).
CREATE TABLE IF NOT EXISTS unipacc.certificates (
    id                bigint      PRIMARY KEY,
    origin            text        NOT NULL CHECK (origin IN ('qvp', 'svp')),
    origin_key        text        NOT NULL,
    report_id         bigint      NOT NULL REFERENCES unipacc.reports ON DELETE CASCADE,
    organisation_id   bigint      NOT NULL REFERENCES unipacc.organisations ON DELETE CASCADE,
    certificate_no    text        NOT NULL,
    valid_from        date        NOT NULL,
    valid_until       date,                          -- 'infinity': never expires; NULL: not decided
    revoked_at        timestamptz,
    revocation_reason text,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    UNIQUE (origin, origin_key)
);

-- QVP invoices (SVP bills through its requests' prices, not invoices).
CREATE TABLE IF NOT EXISTS unipacc.invoices (
    id              bigint        PRIMARY KEY,
    origin          text          NOT NULL CHECK (origin IN ('qvp', 'svp')),
    origin_key      text          NOT NULL,
    organisation_id bigint        NOT NULL REFERENCES unipacc.organisations ON DELETE CASCADE,
    invoice_no      text          NOT NULL,
    status          text          NOT NULL CHECK (status IN ('draft', 'issued', 'paid', 'void')),
    currency        char(3)       NOT NULL,
    issued_on       date,
    due_on          date,
    net_amount      numeric(12,2) NOT NULL,
    vat_amount      numeric(12,2) NOT NULL,
    total_amount    numeric(12,2) NOT NULL,
    paid_at         timestamptz,
    created_at      timestamptz   NOT NULL,
    updated_at      timestamptz   NOT NULL,
    UNIQUE (origin, origin_key)
);

-- Files of both systems (QVP file_storage, SVP ActiveStorage), attached to a request or a report.
-- target_key is where the files process copied the object (stg.file_copies); NULL until it has.
CREATE TABLE IF NOT EXISTS unipacc.attachments (
    id            bigint      PRIMARY KEY,
    origin        text        NOT NULL CHECK (origin IN ('qvp', 'svp')),
    origin_key    text        NOT NULL,
    request_id    bigint      REFERENCES unipacc.verification_requests ON DELETE CASCADE,
    report_id     bigint      REFERENCES unipacc.reports ON DELETE CASCADE,
    kind          text        NOT NULL CHECK (kind IN ('upload', 'document', 'report_pdf', 'certificate_pdf')),
    file_name     text        NOT NULL,
    content_type  text,
    size_bytes    bigint      NOT NULL,
    source_bucket text        NOT NULL,              -- QVP bucket, SVP ActiveStorage service
    source_key    text        NOT NULL,              -- the object's key in the source bucket
    target_key    text,
    created_at    timestamptz NOT NULL,
    UNIQUE (origin, origin_key),
    CHECK (request_id IS NOT NULL OR report_id IS NOT NULL)
);

-- Every foreign key has an index on its referencing columns, as the application would: a deleted
-- organisation, user, request or report then finds its children by index instead of scanning them.
CREATE INDEX IF NOT EXISTS users_organisation_id_idx                 ON unipacc.users (organisation_id);
CREATE INDEX IF NOT EXISTS verification_requests_organisation_id_idx ON unipacc.verification_requests (organisation_id);
CREATE INDEX IF NOT EXISTS verification_requests_requested_by_idx    ON unipacc.verification_requests (requested_by);
CREATE INDEX IF NOT EXISTS verification_requests_assigned_to_idx     ON unipacc.verification_requests (assigned_to);
CREATE INDEX IF NOT EXISTS reports_request_id_idx                    ON unipacc.reports (request_id);
CREATE INDEX IF NOT EXISTS reports_author_id_idx                     ON unipacc.reports (author_id);
CREATE INDEX IF NOT EXISTS certificates_report_id_idx                ON unipacc.certificates (report_id);
CREATE INDEX IF NOT EXISTS certificates_organisation_id_idx          ON unipacc.certificates (organisation_id);
CREATE INDEX IF NOT EXISTS invoices_organisation_id_idx              ON unipacc.invoices (organisation_id);
CREATE INDEX IF NOT EXISTS attachments_request_id_idx                ON unipacc.attachments (request_id);
CREATE INDEX IF NOT EXISTS attachments_report_id_idx                 ON unipacc.attachments (report_id);
