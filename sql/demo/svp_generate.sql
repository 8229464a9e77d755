-- SVP demo data. Run after svp_schema.sql on the same (empty) database.
--
-- Parameters, read with current_setting so that they are bound values, never spliced into SQL:
--   ferry.demo_scale  integer >= 1 (default 1). Scale 1 is about 3,400 rows; every table but the
--                     two Rails bookkeeping tables grows linearly (scale 1000 is about 3.4 million rows).
--   ferry.demo_as_of  timestamptz (default: this second, one day ago). The data spans the two
--                     years before it, ids growing with created_at. Stored as UTC, the Rails way.
-- From psql: PGOPTIONS='-c ferry.demo_scale=10' psql -d svp -f svp_generate.sql
--
-- Give QVP and SVP the same scale: 40% of SVP users are QVP users (same email, sometimes in
-- another letter case, sometimes with the name spelled without accents) under other ids.

SET TIME ZONE 'UTC';
-- The generated expressions are large: compiling them with JIT costs more than it saves.
SET jit = off;

DROP TABLE IF EXISTS pg_temp.demo_params;
CREATE TEMP TABLE demo_params AS
SELECT s            AS scale,
       as_of,
       8 * s + 2    AS n_accounts,
       150 * s      AS n_users,
       500 * s      AS n_requests,
       200 * s      AS n_qvp_users,   -- as in qvp_generate.sql: person p is QVP user p
       CASE WHEN (200 * s) % 7919 = 0 THEN 7927 ELSE 7919 END AS stride
FROM (SELECT greatest(1, coalesce(nullif(current_setting('ferry.demo_scale', true), ''), '1')::int) AS s,
             coalesce(nullif(current_setting('ferry.demo_as_of', true), '')::timestamptz,
                      date_trunc('second', now()) - interval '1 day') AS as_of) given;
ANALYZE demo_params;

\ir helpers.sql

-- Rails enum: { draft: 0, open: 1, in_progress: 2, done: 3, declined: 4 }; older requests are settled.
CREATE OR REPLACE FUNCTION pg_temp.svp_status(n bigint, age interval) RETURNS integer LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT CASE WHEN age > interval '30 days'
    THEN (ARRAY[3,3,3,3,3,3,3,3,3,3,3,3,3,3,4,4,4,0,1,2])[1 + pg_temp.pick(n, 21, 20)]
    ELSE (ARRAY[0,0,0,0,1,1,1,1,1,1,2,2,2,2,2,2,2,3,3,4])[1 + pg_temp.pick(n, 21, 20)] END $$;

-- The object's bytes as a Rails checksum: base64 of the binary MD5.
CREATE OR REPLACE FUNCTION pg_temp.base64_md5(content bytea) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT encode(decode(md5(content), 'hex'), 'base64') $$;

-- ---------------------------------------------------------------------------------------------
-- Rows
-- ---------------------------------------------------------------------------------------------

INSERT INTO schema_migrations (version)
SELECT to_char(timestamp '2021-03-15 10:15:00' + g * interval '23 days 7 hours 13 minutes', 'YYYYMMDDHH24MISS')
FROM generate_series(0, 24) g;

INSERT INTO ar_internal_metadata (key, value, created_at, updated_at)
SELECT k, v, (p.as_of - interval '730 days') AT TIME ZONE 'UTC', (p.as_of - interval '730 days') AT TIME ZONE 'UTC'
FROM demo_params p,
     (VALUES ('environment', 'production'), ('schema_sha1', '9c1e5f3e2a7d4b6c8e0f1a2b3c4d5e6f7a8b9c0d')) AS m(k, v);

INSERT INTO accounts (id, name, slug, plan, billing_email, vat_number, settings, trial_ends_on, active, created_at, updated_at)
SELECT a.n,
       a.name,
       trim(BOTH '-' FROM regexp_replace(lower(a.name), '[^a-z0-9]+', '-', 'g')) || '-' || a.n,
       (ARRAY['basic','basic','basic','pro','pro','enterprise'])[1 + pg_temp.pick(a.n, 103, 6)],
       CASE pg_temp.pick(a.n, 104, 10) WHEN 0 THEN NULL WHEN 1 THEN '' ELSE 'billing@' || (ARRAY['example.com','example.org','example.ch'])[1 + pg_temp.pick(a.n, 105, 3)] END,
       CASE WHEN pg_temp.rnd(a.n, 106) < 0.5 THEN NULL
            ELSE (ARRAY['DE','FR','AT','NL','IE'])[1 + pg_temp.pick(a.n, 107, 5)] || lpad(pg_temp.pick(a.n, 108, 1000000000)::text, 9, '0') END,
       CASE pg_temp.pick(a.n, 109, 4)
            WHEN 0 THEN '{}'::jsonb
            ELSE jsonb_build_object('locale', (ARRAY['en','de','fr'])[1 + pg_temp.pick(a.n, 110, 3)],
                                    'features', to_jsonb((ARRAY['{sso}','{api,webhooks}','{}','{"beta: new ui"}'])[1 + pg_temp.pick(a.n, 111, 4)]::text[]),
                                    'signature', pg_temp.note(a.n, 112)) END,
       CASE WHEN pg_temp.rnd(a.n, 113) < 0.7 THEN NULL ELSE (a.created_at + interval '30 days')::date END,
       pg_temp.rnd(a.n, 114) >= 0.05,
       a.created_at AT TIME ZONE 'UTC',
       pg_temp.later(a.created_at, p.as_of, a.n, 115, 0.5) AT TIME ZONE 'UTC'
FROM demo_params p
CROSS JOIN LATERAL (SELECT n, pg_temp.spread(n, p.n_accounts, 100, p.as_of) AS created_at, pg_temp.company(n + 500, 101) AS name
                    FROM generate_series(1, p.n_accounts) n) a;

-- Person: a QVP user for 40% of the rows (a permutation, so no QVP user appears twice), else an
-- SVP-only person (negative p).
INSERT INTO users (id, account_id, email, encrypted_password, first_name, last_name, phone, time_zone, locale, role, admin,
                   sign_in_count, current_sign_in_at, confirmed_at, created_at, updated_at)
SELECT u.n,
       CASE WHEN pg_temp.rnd(u.n, 202) < 0.05 THEN NULL ELSE pg_temp.parent(u.n, p.n_users, p.n_accounts, 203) END,
       CASE WHEN u.p < 0
            THEN pg_temp.first_ascii(u.p) || '.' || pg_temp.last_ascii(u.p) || '.s' || u.n || '@'
                 || (ARRAY['example.com','example.org','mail.example.net','example.de','example.fr'])[1 + pg_temp.pick(u.n, 204, 5)]
            ELSE CASE pg_temp.pick(u.n, 205, 8)
                      WHEN 0 THEN initcap(split_part(pg_temp.email(u.p), '@', 1)) || '@' || split_part(pg_temp.email(u.p), '@', 2)
                      WHEN 1 THEN upper(pg_temp.email(u.p))
                      ELSE pg_temp.email(u.p) END END,
       '$2a$12$' || substr(md5('svp-password-' || u.n) || md5('salt-' || u.n), 1, 53),
       CASE WHEN u.p > 0 AND pg_temp.rnd(u.n, 206) < 0.3 THEN initcap(pg_temp.first_ascii(u.p)) ELSE pg_temp.first_name(u.p) END,
       CASE WHEN u.p > 0 AND pg_temp.rnd(u.n, 206) < 0.3 THEN initcap(pg_temp.last_ascii(u.p))
            WHEN pg_temp.rnd(u.n, 207) < 0.03 THEN NULL
            ELSE pg_temp.last_name(u.p) END,
       pg_temp.phone(u.n, 208),
       (ARRAY['Europe/Zurich','Europe/Zurich','UTC','Europe/Berlin','America/New_York','Asia/Tokyo',NULL])[1 + pg_temp.pick(u.n, 213, 7)],
       (ARRAY['en','de','fr',NULL,NULL])[1 + pg_temp.pick(u.n, 214, 5)],
       (ARRAY[0,0,0,0,0,0,0,1,1,2])[1 + pg_temp.pick(u.n, 215, 10)],
       pg_temp.rnd(u.n, 216) < 0.02,
       u.sign_ins,
       CASE WHEN u.sign_ins > 0 THEN u.updated_at AT TIME ZONE 'UTC' END,
       CASE WHEN pg_temp.rnd(u.n, 217) < 0.1 THEN NULL
            ELSE (u.created_at + (pg_temp.rnd(u.n, 218) * 86400) * interval '1 second') AT TIME ZONE 'UTC' END,
       u.created_at AT TIME ZONE 'UTC',
       u.updated_at AT TIME ZONE 'UTC'
FROM demo_params p
CROSS JOIN LATERAL (SELECT n, c.created_at,
                           least(p.as_of, pg_temp.later(c.created_at, p.as_of, n, 219, 0.6)) AS updated_at,
                           CASE WHEN pg_temp.pick(n, 201, 10) < 4 THEN 1 + ((n - 1) * p.stride) % p.n_qvp_users ELSE -n END AS p,
                           CASE WHEN pg_temp.rnd(n, 220) < 0.15 THEN 0 ELSE pg_temp.pick(n, 221, 500) END AS sign_ins
                    FROM generate_series(1, p.n_users) n,
                         LATERAL (SELECT pg_temp.spread(n, p.n_users, 200, p.as_of) AS created_at) c) u;

INSERT INTO requests (id, account_id, user_id, assignee_id, reference, status, kind, subject_name, notes, metadata, price_cents,
                      price_currency, due_on, submitted_at, completed_at, deleted_at, created_at, updated_at)
SELECT r.n,
       coalesce(requester.account_id, pg_temp.parent(r.n, p.n_requests, p.n_accounts, 301)),
       requester.id,
       CASE WHEN r.status = 0 OR pg_temp.rnd(r.n, 302) < 0.3 THEN NULL ELSE pg_temp.parent(r.n, p.n_requests, p.n_users, 303) END,
       format('SVP-%s-%s', to_char(r.created_at, 'YYYY'), lpad(r.n::text, greatest(7, length(r.n::text)), '0')),
       r.status,
       r.kind,
       CASE WHEN pg_temp.rnd(r.n, 304) < 0.05 THEN NULL
            WHEN r.kind = 'company' THEN pg_temp.company(r.n, 305)
            ELSE pg_temp.first_name(r.n + 30000000000) || ' ' || pg_temp.last_name(r.n + 30000000000) END,
       pg_temp.note(r.n, 306),
       CASE pg_temp.pick(r.n, 307, 10)
            WHEN 0 THEN '{}'::jsonb
            WHEN 1 THEN '{}'::jsonb
            WHEN 2 THEN '[]'::jsonb
            ELSE jsonb_build_object('source', (ARRAY['portal','api','import'])[1 + pg_temp.pick(r.n, 308, 3)],
                                    'tags', to_jsonb((ARRAY['{}','{rush}','{vip,"key account"}'])[1 + pg_temp.pick(r.n, 309, 3)]::text[]),
                                    'weight', pg_temp.pick(r.n, 310, 1000) / 7.0,
                                    'legacy_id', CASE WHEN pg_temp.rnd(r.n, 311) < 0.5 THEN NULL ELSE 'QV-' || r.n END,
                                    'extra', jsonb_build_object('note', pg_temp.note(r.n, 312), 'emoji', '👍')) END,
       CASE WHEN pg_temp.rnd(r.n, 313) < 0.2 THEN NULL ELSE 1000 + 100 * pg_temp.pick(r.n, 314, 490) END,
       (ARRAY['EUR','EUR','EUR','CHF','GBP'])[1 + pg_temp.pick(r.n, 315, 5)],
       CASE WHEN pg_temp.rnd(r.n, 316) < 0.3 THEN NULL ELSE (r.created_at + interval '21 days')::date END,
       CASE WHEN r.status <> 0 THEN (r.created_at + (pg_temp.rnd(r.n, 317) * 3600) * interval '1 second') AT TIME ZONE 'UTC' END,
       CASE WHEN r.status IN (3, 4) THEN r.updated_at AT TIME ZONE 'UTC' END,
       r.deleted_at AT TIME ZONE 'UTC',
       r.created_at AT TIME ZONE 'UTC',
       coalesce(r.deleted_at, r.updated_at) AT TIME ZONE 'UTC'
FROM demo_params p
CROSS JOIN LATERAL (SELECT n, c.created_at, u.updated_at,
                           pg_temp.svp_status(n, p.as_of - c.created_at) AS status,
                           (ARRAY['identity','identity','identity','company','address','background'])[1 + pg_temp.pick(n, 318, 6)] AS kind,
                           CASE WHEN pg_temp.rnd(n, 319) < 0.02
                                THEN u.updated_at + (extract(epoch FROM p.as_of - u.updated_at) * pg_temp.rnd(n, 320)) * interval '1 second' END AS deleted_at
                    FROM generate_series(1, p.n_requests) n,
                         LATERAL (SELECT pg_temp.spread(n, p.n_requests, 300, p.as_of) AS created_at) c,
                         LATERAL (SELECT pg_temp.later(c.created_at, p.as_of, n, 321, 0.6) AS updated_at) u) r
JOIN users requester ON requester.id = pg_temp.parent(r.n, p.n_requests, p.n_users, 322);

-- Zero to three documents per request; the documents of a soft-deleted request are soft-deleted
-- with it (paranoia's dependent: :destroy).
INSERT INTO documents (id, request_id, uploaded_by_id, type, title, description, tags, page_count, verified, verified_at,
                       deleted_at, created_at, updated_at)
SELECT row_number() OVER (ORDER BY d.created_at, d.request_id, d.k),
       d.request_id,
       CASE WHEN pg_temp.rnd(d.key, 402) < 0.1 THEN NULL ELSE d.user_id END,
       (ARRAY['Documents::Passport','Documents::IdCard','Documents::UtilityBill','Documents::CompanyExtract','Document'])[1 + pg_temp.pick(d.key, 403, 5)],
       CASE pg_temp.pick(d.key, 404, 10) WHEN 0 THEN NULL WHEN 1 THEN '' ELSE replace(pg_temp.upload_name(d.key, 405), '.', ' – ') END,
       pg_temp.note(d.key, 406),
       (ARRAY['{}','{}','{front}','{front,back}','{"needs, review"}','{"O''Brien","größe"}','{""}'])[1 + pg_temp.pick(d.key, 407, 7)]::varchar[],
       CASE WHEN pg_temp.rnd(d.key, 408) < 0.3 THEN NULL ELSE 1 + pg_temp.pick(d.key, 409, 40) END,
       d.verified,
       CASE WHEN d.verified IS NOT NULL THEN d.updated_at AT TIME ZONE 'UTC' END,
       d.deleted_at AT TIME ZONE 'UTC',
       d.created_at AT TIME ZONE 'UTC',
       coalesce(d.deleted_at, d.updated_at) AT TIME ZONE 'UTC'
FROM (SELECT x.*, pg_temp.later(x.created_at, x.as_of, x.key, 410, 0.4) AS updated_at
      FROM (SELECT r.id AS request_id, k, r.id * 4 + k AS key, r.user_id, p.as_of,
                   (r.created_at AT TIME ZONE 'UTC')
                       + (least(259200, extract(epoch FROM p.as_of - (r.created_at AT TIME ZONE 'UTC'))) * pg_temp.rnd(r.id * 4 + k, 401)) * interval '1 second' AS created_at,
                   CASE pg_temp.pick(r.id * 4 + k, 411, 5) WHEN 0 THEN false WHEN 1 THEN NULL WHEN 2 THEN NULL ELSE true END AS verified,
                   coalesce(r.deleted_at AT TIME ZONE 'UTC',
                            CASE WHEN pg_temp.rnd(r.id * 4 + k, 412) < 0.02 THEN p.as_of - (pg_temp.rnd(r.id * 4 + k, 413) * 86400 * 30) * interval '1 second' END) AS deleted_at_raw
            FROM demo_params p
            JOIN requests r ON true
            CROSS JOIN LATERAL generate_series(1, pg_temp.pick(r.id, 400, 4)) k) x) y
CROSS JOIN LATERAL (SELECT y.*, CASE WHEN y.deleted_at_raw > y.updated_at THEN y.deleted_at_raw END AS deleted_at) d;

-- Every object: the file of each document, 0-2 attachments on a fifth of the requests, an avatar
-- for a quarter of the users, and a few blobs whose direct upload was never attached.
CREATE TEMP TABLE demo_files AS
SELECT row_number() OVER (ORDER BY f.created_at, f.record_type, f.record_id, f.k) AS blob_id, f.*
FROM (SELECT 'Document' AS record_type, 'file' AS name, d.id AS record_id, 1 AS k,
             pg_temp.upload_name(d.id, 501) AS filename,
             d.created_at + (pg_temp.rnd(d.id, 502) * 0.5) * interval '1 second' AS created_at
      FROM documents d
      UNION ALL
      SELECT CASE WHEN pg_temp.rnd(r.id, 503) < 0.2 THEN 'Request' END, 'attachments', r.id, k,
             pg_temp.upload_name(r.id * 4 + k, 504),
             r.created_at + (pg_temp.rnd(r.id * 4 + k, 505) * 60) * interval '1 second'
      FROM requests r
      CROSS JOIN LATERAL generate_series(1, CASE WHEN pg_temp.rnd(r.id, 503) < 0.2 THEN 1 + pg_temp.pick(r.id, 506, 2)
                                                 WHEN pg_temp.rnd(r.id, 507) < 0.03 THEN 1 ELSE 0 END) k
      UNION ALL
      SELECT 'User', 'avatar', u.id, 1,
             (ARRAY['avatar.png','me 🙂.jpg','IMG_0001.HEIC','profile picture.jpeg','Foto Ärger.png'])[1 + pg_temp.pick(u.id, 508, 5)],
             u.created_at + (pg_temp.rnd(u.id, 509) * 600) * interval '1 second'
      FROM users u
      WHERE pg_temp.rnd(u.id, 510) < 0.25) f;

INSERT INTO active_storage_blobs (id, key, filename, content_type, metadata, service_name, byte_size, checksum, created_at)
SELECT b.blob_id, b.key, b.filename, b.content_type,
       CASE WHEN pg_temp.rnd(b.blob_id, 511) < 0.05 THEN NULL
            WHEN b.content_type LIKE 'image/%' THEN format('{"identified":true,"width":%s,"height":%s,"analyzed":true}', 200 + pg_temp.pick(b.blob_id, 512, 3800), 200 + pg_temp.pick(b.blob_id, 513, 3800))
            WHEN b.content_type = 'application/pdf' THEN '{"identified":true,"analyzed":true}'
            ELSE '{"identified":true}' END,
       CASE WHEN b.created_at < p.as_of AT TIME ZONE 'UTC' - interval '365 days' AND pg_temp.rnd(b.blob_id, 514) < 0.1 THEN 'oci_archive' ELSE 'oci' END,
       b.byte_size,
       CASE WHEN pg_temp.rnd(b.blob_id, 515) < 0.005 THEN NULL ELSE pg_temp.base64_md5(pg_temp.file_content(b.key, b.byte_size)) END,
       b.created_at
FROM demo_params p
CROSS JOIN LATERAL (SELECT f.blob_id, f.filename, f.created_at,
                           substr(md5('svp-blob-' || f.blob_id) || md5('svp-key-' || f.blob_id), 1, 28) AS key,
                           CASE WHEN pg_temp.rnd(f.blob_id, 516) < 0.01 THEN NULL ELSE pg_temp.content_type(f.filename) END AS content_type,
                           pg_temp.file_size(f.blob_id, 517) AS byte_size
                    FROM demo_files f) b;

INSERT INTO active_storage_attachments (id, name, record_type, record_id, blob_id, created_at)
SELECT row_number() OVER (ORDER BY f.blob_id), f.name, f.record_type, f.record_id, f.blob_id, f.created_at
FROM demo_files f
WHERE f.record_type IS NOT NULL;

DROP TABLE demo_files;

-- ---------------------------------------------------------------------------------------------
-- Constraints and indexes, now that the rows are in (the names are those Rails gives them)
-- ---------------------------------------------------------------------------------------------

ALTER TABLE users ADD CONSTRAINT fk_rails_61ac11da2b FOREIGN KEY (account_id) REFERENCES accounts (id);
ALTER TABLE requests
    ADD CONSTRAINT fk_rails_8ff7fbd4a1 FOREIGN KEY (account_id) REFERENCES accounts (id),
    ADD CONSTRAINT fk_rails_8ead8b1e6b FOREIGN KEY (user_id) REFERENCES users (id),
    ADD CONSTRAINT fk_rails_2b1e4f6e7c FOREIGN KEY (assignee_id) REFERENCES users (id);
ALTER TABLE documents
    ADD CONSTRAINT fk_rails_5f3b2c1d9a FOREIGN KEY (request_id) REFERENCES requests (id),
    ADD CONSTRAINT fk_rails_0c6e9a8f4b FOREIGN KEY (uploaded_by_id) REFERENCES users (id);
ALTER TABLE active_storage_attachments
    ADD CONSTRAINT fk_rails_c3b3935057 FOREIGN KEY (blob_id) REFERENCES active_storage_blobs (id);

CREATE UNIQUE INDEX index_accounts_on_slug ON accounts (slug);
CREATE UNIQUE INDEX index_users_on_email ON users (email);
CREATE INDEX index_users_on_account_id ON users (account_id);
CREATE UNIQUE INDEX index_requests_on_reference ON requests (reference);
CREATE INDEX index_requests_on_account_id ON requests (account_id);
CREATE INDEX index_requests_on_user_id ON requests (user_id);
CREATE INDEX index_requests_on_assignee_id ON requests (assignee_id);
CREATE INDEX index_requests_on_deleted_at ON requests (deleted_at);
CREATE INDEX index_documents_on_request_id ON documents (request_id);
CREATE INDEX index_documents_on_uploaded_by_id ON documents (uploaded_by_id);
CREATE INDEX index_documents_on_deleted_at ON documents (deleted_at);
CREATE UNIQUE INDEX index_active_storage_blobs_on_key ON active_storage_blobs (key);
CREATE UNIQUE INDEX index_active_storage_attachments_uniqueness ON active_storage_attachments (record_type, record_id, name, blob_id);
CREATE INDEX index_active_storage_attachments_on_blob_id ON active_storage_attachments (blob_id);

SELECT setval(pg_get_serial_sequence(t, 'id'), coalesce(m, 1), m IS NOT NULL)
FROM (VALUES ('accounts', (SELECT max(id) FROM accounts)),
             ('users', (SELECT max(id) FROM users)),
             ('requests', (SELECT max(id) FROM requests)),
             ('documents', (SELECT max(id) FROM documents)),
             ('active_storage_blobs', (SELECT max(id) FROM active_storage_blobs)),
             ('active_storage_attachments', (SELECT max(id) FROM active_storage_attachments))) AS s(t, m);

ANALYZE;
