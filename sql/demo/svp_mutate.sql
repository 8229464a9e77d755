-- SVP "one day later": a deterministic day of activity on a database made by svp_generate.sql.
--
-- Parameter: ferry.demo_as_of  timestamptz (default: this second). Every row this script touches
-- gets created_at / updated_at / deleted_at within the 0.95 day before it (stored as UTC), so a
-- 7-day CDC window sees them. Choose it at least a day after the generation's as_of (the defaults
-- are). The rows chosen depend only on the data and on as_of.
--
-- Per table, in this order so that no row is counted twice:
--   1. hard deletes: abandoned drafts with their documents, attachments and blobs; users who never
--      did anything, with their avatar; unattached blobs (Rails' purge of abandoned direct uploads);
--   2. soft deletes the paranoia way (deleted_at and updated_at), a request taking its documents along;
--   3. updates; some documents get a new file, so their old attachment and blob are purged;
--   4. inserts with fresh ids from the sequences, and one more schema migration (a deploy).
-- The last statement returns one row per table: inserted, updated, soft_deleted, hard_deleted.
-- From psql, run it in one transaction: psql -1 -d svp -f svp_mutate.sql

SET TIME ZONE 'UTC';
SET jit = off;

DROP TABLE IF EXISTS pg_temp.demo_params;
CREATE TEMP TABLE demo_params AS
SELECT as_of,
       ((extract(epoch FROM as_of)::bigint % 1000003) * 1000)::integer AS seed,
       (SELECT count(*) FROM accounts)                   AS n_accounts,
       (SELECT count(*) FROM users)                      AS n_users,
       (SELECT count(*) FROM requests)                   AS n_requests,
       (SELECT count(*) FROM documents)                  AS n_documents,
       (SELECT count(*) FROM active_storage_blobs)       AS n_blobs,
       coalesce(pg_sequence_last_value(pg_get_serial_sequence('accounts', 'id')::regclass), 0)                   AS last_account,
       coalesce(pg_sequence_last_value(pg_get_serial_sequence('users', 'id')::regclass), 0)                      AS last_user,
       coalesce(pg_sequence_last_value(pg_get_serial_sequence('requests', 'id')::regclass), 0)                   AS last_request,
       coalesce(pg_sequence_last_value(pg_get_serial_sequence('documents', 'id')::regclass), 0)                  AS last_document,
       coalesce(pg_sequence_last_value(pg_get_serial_sequence('active_storage_blobs', 'id')::regclass), 0)       AS last_blob,
       coalesce(pg_sequence_last_value(pg_get_serial_sequence('active_storage_attachments', 'id')::regclass), 0) AS last_attachment
FROM (SELECT coalesce(nullif(current_setting('ferry.demo_as_of', true), '')::timestamptz,
                      date_trunc('second', now())) AS as_of) given;
ANALYZE demo_params;

DROP TABLE IF EXISTS pg_temp.demo_mutation;
CREATE TEMP TABLE demo_mutation (table_name text NOT NULL, action text NOT NULL, rows bigint NOT NULL);

\ir helpers.sql

-- The moment of a change, as Rails stores it (UTC, without time zone): within the 0.95 day before as_of.
CREATE OR REPLACE FUNCTION pg_temp.moment(n bigint, salt integer, as_of timestamptz) RETURNS timestamp
LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT (as_of - (pg_temp.rnd(n, salt) * 82080) * interval '1 second') AT TIME ZONE 'UTC' $$;

CREATE OR REPLACE FUNCTION pg_temp.base64_md5(content bytea) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT encode(decode(md5(content), 'hex'), 'base64') $$;

-- ---------------------------------------------------------------------------------------------
-- 1. Hard deletes
-- ---------------------------------------------------------------------------------------------

-- Abandoned drafts are destroyed for good, with their documents and files.
DROP TABLE IF EXISTS pg_temp.demo_doomed;
CREATE TEMP TABLE demo_doomed AS
SELECT r.id FROM requests r, demo_params p
WHERE r.status = 0 AND r.deleted_at IS NULL
ORDER BY pg_temp.rnd(r.id, p.seed + 1), r.id
LIMIT (SELECT greatest(2, n_requests / 200) FROM demo_params);

DROP TABLE IF EXISTS pg_temp.demo_purge;
CREATE TEMP TABLE demo_purge AS
SELECT a.id AS attachment_id, a.blob_id
FROM active_storage_attachments a
WHERE (a.record_type = 'Request' AND a.record_id IN (SELECT id FROM demo_doomed))
   OR (a.record_type = 'Document' AND a.record_id IN (SELECT d.id FROM documents d JOIN demo_doomed x ON x.id = d.request_id));

-- Users who never did anything are deleted, with their avatar.
WITH chosen AS (
    SELECT u.id FROM users u, demo_params p
    WHERE NOT EXISTS (SELECT 1 FROM requests r WHERE r.user_id = u.id)
      AND NOT EXISTS (SELECT 1 FROM requests r WHERE r.assignee_id = u.id)
      AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.uploaded_by_id = u.id)
    ORDER BY pg_temp.rnd(u.id, p.seed + 2), u.id
    LIMIT (SELECT greatest(1, n_users / 300) FROM demo_params)),
avatars AS (
    INSERT INTO demo_purge
    SELECT a.id, a.blob_id FROM active_storage_attachments a JOIN chosen c ON a.record_type = 'User' AND a.record_id = c.id),
gone AS (DELETE FROM users u USING chosen c WHERE u.id = c.id RETURNING 1)
INSERT INTO demo_mutation SELECT 'users', 'hard_deleted', count(*) FROM gone;

WITH gone AS (DELETE FROM active_storage_attachments a USING demo_purge x WHERE a.id = x.attachment_id RETURNING 1)
INSERT INTO demo_mutation SELECT 'active_storage_attachments', 'hard_deleted', count(*) FROM gone;

-- The purged files, plus some direct uploads that were never attached.
WITH orphans AS (
    SELECT b.id FROM active_storage_blobs b, demo_params p
    WHERE NOT EXISTS (SELECT 1 FROM active_storage_attachments a WHERE a.blob_id = b.id)
      AND NOT EXISTS (SELECT 1 FROM demo_purge x WHERE x.blob_id = b.id)
    ORDER BY pg_temp.rnd(b.id, p.seed + 3), b.id
    LIMIT (SELECT greatest(1, n_blobs / 500) FROM demo_params)),
gone AS (DELETE FROM active_storage_blobs b
         WHERE b.id IN (SELECT blob_id FROM demo_purge) OR b.id IN (SELECT id FROM orphans) RETURNING 1)
INSERT INTO demo_mutation SELECT 'active_storage_blobs', 'hard_deleted', count(*) FROM gone;

WITH gone AS (DELETE FROM documents d USING demo_doomed x WHERE d.request_id = x.id RETURNING 1)
INSERT INTO demo_mutation SELECT 'documents', 'hard_deleted', count(*) FROM gone;

WITH gone AS (DELETE FROM requests r USING demo_doomed x WHERE r.id = x.id RETURNING 1)
INSERT INTO demo_mutation SELECT 'requests', 'hard_deleted', count(*) FROM gone;

-- ---------------------------------------------------------------------------------------------
-- 2. Soft deletes (paranoia sets deleted_at and updated_at)
-- ---------------------------------------------------------------------------------------------

DROP TABLE IF EXISTS pg_temp.demo_soft;
CREATE TEMP TABLE demo_soft AS
SELECT r.id, pg_temp.moment(r.id, p.seed + 11, p.as_of) AS at
FROM requests r, demo_params p
WHERE r.deleted_at IS NULL AND r.status IN (1, 4)
ORDER BY pg_temp.rnd(r.id, p.seed + 12), r.id
LIMIT (SELECT greatest(2, n_requests / 200) FROM demo_params);

WITH done AS (UPDATE requests r SET deleted_at = s.at, updated_at = s.at FROM demo_soft s WHERE r.id = s.id RETURNING 1)
INSERT INTO demo_mutation SELECT 'requests', 'soft_deleted', count(*) FROM done;

-- The documents of those requests go with them, and a few more on their own.
WITH chosen AS (
    SELECT d.id, s.at FROM documents d JOIN demo_soft s ON s.id = d.request_id
    WHERE d.deleted_at IS NULL
    UNION ALL
    (SELECT d.id, pg_temp.moment(d.id, p.seed + 13, p.as_of) FROM documents d, demo_params p
     WHERE d.deleted_at IS NULL AND d.request_id NOT IN (SELECT id FROM demo_soft)
     ORDER BY pg_temp.rnd(d.id, p.seed + 14), d.id
     LIMIT (SELECT greatest(2, n_documents / 200) FROM demo_params))),
done AS (UPDATE documents d SET deleted_at = c.at, updated_at = c.at FROM chosen c WHERE d.id = c.id RETURNING 1)
INSERT INTO demo_mutation SELECT 'documents', 'soft_deleted', count(*) FROM done;

-- ---------------------------------------------------------------------------------------------
-- 3. Updates
-- ---------------------------------------------------------------------------------------------

WITH chosen AS (
    SELECT a.id FROM accounts a, demo_params p
    ORDER BY pg_temp.rnd(a.id, p.seed + 20), a.id
    LIMIT (SELECT greatest(1, n_accounts / 50) FROM demo_params)),
done AS (
    UPDATE accounts a
    SET plan       = CASE a.plan WHEN 'basic' THEN 'pro' ELSE 'enterprise' END,
        settings   = a.settings || '{"upgraded": true, "note": "Upgrade requested by \"Finance\""}'::jsonb,
        updated_at = pg_temp.moment(a.id, p.seed + 21, p.as_of)
    FROM chosen c, demo_params p WHERE a.id = c.id RETURNING 1)
INSERT INTO demo_mutation SELECT 'accounts', 'updated', count(*) FROM done;

-- Devise's trackable: a sign-in bumps the counters.
WITH chosen AS (
    SELECT u.id FROM users u, demo_params p
    ORDER BY pg_temp.rnd(u.id, p.seed + 22), u.id
    LIMIT (SELECT greatest(2, n_users / 50) FROM demo_params)),
done AS (
    UPDATE users u
    SET sign_in_count      = u.sign_in_count + 1,
        current_sign_in_at = pg_temp.moment(u.id, p.seed + 23, p.as_of),
        phone              = CASE pg_temp.pick(u.id, p.seed + 24, 3) WHEN 0 THEN '' WHEN 1 THEN NULL ELSE u.phone END,
        updated_at         = pg_temp.moment(u.id, p.seed + 23, p.as_of)
    FROM chosen c, demo_params p WHERE u.id = c.id RETURNING 1)
INSERT INTO demo_mutation SELECT 'users', 'updated', count(*) FROM done;

-- Open requests move on: draft -> open -> in_progress -> done | declined.
WITH chosen AS (
    SELECT r.id FROM requests r, demo_params p
    WHERE r.deleted_at IS NULL
    ORDER BY r.status IN (3, 4), pg_temp.rnd(r.id, p.seed + 25), r.id
    LIMIT (SELECT greatest(3, n_requests / 30) FROM demo_params)),
done AS (
    UPDATE requests r
    SET status       = CASE r.status WHEN 0 THEN 1 WHEN 1 THEN 2
                                     WHEN 2 THEN CASE WHEN pg_temp.rnd(r.id, p.seed + 26) < 0.8 THEN 3 ELSE 4 END
                                     ELSE r.status END,
        submitted_at = CASE WHEN r.status = 0 THEN pg_temp.moment(r.id, p.seed + 27, p.as_of) ELSE r.submitted_at END,
        completed_at = CASE WHEN r.status = 2 THEN pg_temp.moment(r.id, p.seed + 27, p.as_of) ELSE r.completed_at END,
        notes        = CASE WHEN pg_temp.rnd(r.id, p.seed + 28) < 0.5
                            THEN coalesce(r.notes || E'\r\n', '') || 'Client called: "ok, go ahead" – 👍'
                            ELSE r.notes END,
        metadata     = r.metadata || jsonb_build_object('last_event', 'status_changed'),
        updated_at   = pg_temp.moment(r.id, p.seed + 27, p.as_of)
    FROM chosen c, demo_params p WHERE r.id = c.id RETURNING 1)
INSERT INTO demo_mutation SELECT 'requests', 'updated', count(*) FROM done;

-- Documents are verified; half of them get a new file (the old attachment and blob are purged).
DROP TABLE IF EXISTS pg_temp.demo_doc_updates;
CREATE TEMP TABLE demo_doc_updates AS
SELECT d.id, pg_temp.moment(d.id, p.seed + 30, p.as_of) AS at, pg_temp.rnd(d.id, p.seed + 31) < 0.5 AS new_file
FROM documents d, demo_params p
WHERE d.deleted_at IS NULL
ORDER BY pg_temp.rnd(d.id, p.seed + 29), d.id
LIMIT (SELECT greatest(2, n_documents / 50) FROM demo_params);

TRUNCATE demo_purge;
INSERT INTO demo_purge
SELECT a.id, a.blob_id
FROM active_storage_attachments a JOIN demo_doc_updates u ON u.new_file AND a.record_type = 'Document' AND a.record_id = u.id;

WITH gone AS (DELETE FROM active_storage_attachments a USING demo_purge x WHERE a.id = x.attachment_id RETURNING 1)
INSERT INTO demo_mutation SELECT 'active_storage_attachments', 'hard_deleted', count(*) FROM gone;

WITH gone AS (DELETE FROM active_storage_blobs b USING demo_purge x WHERE b.id = x.blob_id RETURNING 1)
INSERT INTO demo_mutation SELECT 'active_storage_blobs', 'hard_deleted', count(*) FROM gone;

WITH done AS (
    UPDATE documents d
    SET verified    = true,
        verified_at = u.at,
        tags        = d.tags || '{checked}'::varchar[],
        updated_at  = u.at
    FROM demo_doc_updates u WHERE d.id = u.id RETURNING 1)
INSERT INTO demo_mutation SELECT 'documents', 'updated', count(*) FROM done;

-- ---------------------------------------------------------------------------------------------
-- 4. Inserts
-- ---------------------------------------------------------------------------------------------

WITH done AS (
    INSERT INTO schema_migrations (version)
    SELECT to_char(p.as_of - interval '3 hours', 'YYYYMMDDHH24MISS') FROM demo_params p
    ON CONFLICT DO NOTHING
    RETURNING 1)
INSERT INTO demo_mutation SELECT 'schema_migrations', 'inserted', count(*) FROM done;

WITH done AS (
    INSERT INTO accounts (id, name, slug, plan, billing_email, vat_number, settings, trial_ends_on, active, created_at, updated_at)
    SELECT a.id, pg_temp.company(a.id + 500, 101), 'new-account-' || a.id, 'basic', NULL, NULL, '{}', (a.at + interval '30 days')::date,
           true, a.at, a.at
    FROM demo_params p
    CROSS JOIN LATERAL (SELECT p.last_account + g AS id, pg_temp.moment(p.last_account + g, p.seed + 50, p.as_of) AS at
                        FROM generate_series(1, greatest(1, p.n_accounts / 100)) g) a
    RETURNING 1)
INSERT INTO demo_mutation SELECT 'accounts', 'inserted', count(*) FROM done;

-- Up to 50 new users a day already exist in QVP (persons 1..200 exist at every scale; 7919 is
-- prime, so 50 even steps give 50 different persons), unless they already have an SVP account;
-- the others are new to both systems.
WITH candidates AS (
    SELECT p.last_user + g AS id,
           pg_temp.moment(p.last_user + g, p.seed + 51, p.as_of) AS at,
           CASE WHEN g % 2 = 0 AND g <= 100 THEN 1 + ((p.last_user + g) * 7919) % 200 END AS qvp_person
    FROM demo_params p, generate_series(1, greatest(3, p.n_users / 100)) g),
people AS (
    SELECT c.id, c.at, CASE WHEN c.qvp_person IS NOT NULL AND x.id IS NULL THEN c.qvp_person ELSE -c.id END AS p
    FROM candidates c
    LEFT JOIN users x ON c.qvp_person IS NOT NULL AND lower(x.email) = lower(pg_temp.email(c.qvp_person))),
done AS (
    INSERT INTO users (id, account_id, email, encrypted_password, first_name, last_name, phone, time_zone, locale, role, admin,
                       sign_in_count, current_sign_in_at, confirmed_at, created_at, updated_at)
    SELECT u.id, 1 + pg_temp.pick(u.id, 203, p.last_account::integer),
           CASE WHEN u.p > 0 THEN pg_temp.email(u.p)
                ELSE pg_temp.first_ascii(u.p) || '.' || pg_temp.last_ascii(u.p) || '.s' || u.id || '@example.com' END,
           '$2a$12$' || substr(md5('svp-password-' || u.id) || md5('salt-' || u.id), 1, 53),
           pg_temp.first_name(u.p), pg_temp.last_name(u.p), pg_temp.phone(u.id, 208), 'Europe/Zurich', NULL, 0, false,
           1, u.at, u.at, u.at, u.at
    FROM people u, demo_params p
    RETURNING 1)
INSERT INTO demo_mutation SELECT 'users', 'inserted', count(*) FROM done;

WITH done AS (
    INSERT INTO requests (id, account_id, user_id, assignee_id, reference, status, kind, subject_name, notes, metadata, price_cents,
                          price_currency, due_on, submitted_at, completed_at, deleted_at, created_at, updated_at)
    SELECT r.id, coalesce(u.account_id, 1), u.id, NULL,
           format('SVP-%s-%s', to_char(r.at, 'YYYY'), lpad(r.id::text, greatest(7, length(r.id::text)), '0')),
           r.status, 'identity',
           pg_temp.first_name(r.id + 30000000000) || ' ' || pg_temp.last_name(r.id + 30000000000),
           pg_temp.note(r.id, 306), jsonb_build_object('source', 'portal', 'extra', jsonb_build_object('note', pg_temp.note(r.id, 312))),
           4900, 'EUR', (r.at + interval '21 days')::date,
           CASE WHEN r.status = 1 THEN r.at END, NULL, NULL, r.at, r.at
    FROM demo_params p
    CROSS JOIN LATERAL (SELECT p.last_request + g AS id, pg_temp.moment(p.last_request + g, p.seed + 53, p.as_of) AS at,
                               CASE WHEN pg_temp.rnd(p.last_request + g, p.seed + 54) < 0.4 THEN 0 ELSE 1 END AS status
                        FROM generate_series(1, greatest(5, p.n_requests / 100)) g) r
    JOIN LATERAL (SELECT x.id, x.account_id FROM users x WHERE x.id <= 1 + (r.id * 7919) % p.last_user ORDER BY x.id DESC LIMIT 1) u ON true
    RETURNING 1)
INSERT INTO demo_mutation SELECT 'requests', 'inserted', count(*) FROM done;

-- Documents for the new requests and for some open ones.
WITH done AS (
    INSERT INTO documents (id, request_id, uploaded_by_id, type, title, description, tags, page_count, verified, verified_at,
                           deleted_at, created_at, updated_at)
    SELECT p.last_document + row_number() OVER (ORDER BY n.at, n.request_id, n.k), n.request_id, n.user_id,
           (ARRAY['Documents::Passport','Documents::IdCard','Documents::UtilityBill'])[1 + pg_temp.pick(n.request_id * 4 + n.k, 403, 3)],
           regexp_replace(pg_temp.upload_name(n.request_id * 4 + n.k, 405), '\.[^.]*$', ''),
           pg_temp.note(n.request_id * 4 + n.k, 406), '{}', NULL, NULL, NULL, NULL, n.at, n.at
    FROM demo_params p,
         (SELECT r.id AS request_id, r.user_id, k, r.created_at + (pg_temp.rnd(r.id * 4 + k, 401) * 30) * interval '1 second' AS at
          FROM demo_params p
          JOIN requests r ON r.id > p.last_request
          CROSS JOIN LATERAL generate_series(1, 1 + pg_temp.pick(r.id, 400, 2)) k
          UNION ALL
          (SELECT r.id, r.user_id, 9, pg_temp.moment(r.id, p.seed + 55, p.as_of)
           FROM requests r, demo_params p
           WHERE r.id <= p.last_request AND r.deleted_at IS NULL AND r.status IN (1, 2)
           ORDER BY pg_temp.rnd(r.id, p.seed + 56), r.id
           LIMIT (SELECT greatest(2, n_requests / 200) FROM demo_params))) n
    RETURNING 1)
INSERT INTO demo_mutation SELECT 'documents', 'inserted', count(*) FROM done;

-- One blob and one attachment per new file: new documents, replaced files, avatars of new users.
DROP TABLE IF EXISTS pg_temp.demo_new_files;
CREATE TEMP TABLE demo_new_files AS
SELECT p.last_blob + row_number() OVER (ORDER BY f.created_at, f.record_type, f.record_id) AS blob_id, f.*
FROM demo_params p,
     (SELECT 'Document' AS record_type, 'file' AS name, d.id AS record_id, pg_temp.upload_name(d.id, 501) AS filename,
             d.created_at + (pg_temp.rnd(d.id, 502) * 0.5) * interval '1 second' AS created_at
      FROM demo_params p JOIN documents d ON d.id > p.last_document
      UNION ALL
      SELECT 'Document', 'file', u.id, pg_temp.upload_name(u.id, p.seed + 57), u.at
      FROM demo_doc_updates u, demo_params p WHERE u.new_file
      UNION ALL
      SELECT 'User', 'avatar', u.id, 'avatar.png', u.created_at + interval '2 seconds'
      FROM demo_params p JOIN users u ON u.id > p.last_user
      WHERE u.id % 2 = 0) f;

WITH done AS (
    INSERT INTO active_storage_blobs (id, key, filename, content_type, metadata, service_name, byte_size, checksum, created_at)
    SELECT b.blob_id, b.key, b.filename, b.content_type,
           CASE WHEN b.content_type LIKE 'image/%' THEN '{"identified":true,"width":640,"height":480,"analyzed":true}' ELSE '{"identified":true}' END,
           'oci', b.byte_size, pg_temp.base64_md5(pg_temp.file_content(b.key, b.byte_size)), b.created_at
    FROM (SELECT f.blob_id, f.filename, f.created_at,
                 substr(md5('svp-blob-' || f.blob_id) || md5('svp-key-' || f.blob_id), 1, 28) AS key,
                 pg_temp.content_type(f.filename) AS content_type,
                 pg_temp.file_size(f.blob_id, 517) AS byte_size
          FROM demo_new_files f) b
    RETURNING 1)
INSERT INTO demo_mutation SELECT 'active_storage_blobs', 'inserted', count(*) FROM done;

WITH done AS (
    INSERT INTO active_storage_attachments (id, name, record_type, record_id, blob_id, created_at)
    SELECT p.last_attachment + row_number() OVER (ORDER BY f.blob_id), f.name, f.record_type, f.record_id, f.blob_id, f.created_at
    FROM demo_new_files f, demo_params p
    RETURNING 1)
INSERT INTO demo_mutation SELECT 'active_storage_attachments', 'inserted', count(*) FROM done;

-- The sequences continue after the new ids.
SELECT setval(pg_get_serial_sequence(t, 'id'), m)
FROM (VALUES ('accounts', (SELECT max(id) FROM accounts)),
             ('users', (SELECT max(id) FROM users)),
             ('requests', (SELECT max(id) FROM requests)),
             ('documents', (SELECT max(id) FROM documents)),
             ('active_storage_blobs', (SELECT max(id) FROM active_storage_blobs)),
             ('active_storage_attachments', (SELECT max(id) FROM active_storage_attachments))) AS s(t, m)
WHERE m > coalesce(pg_sequence_last_value(pg_get_serial_sequence(t, 'id')::regclass), 0);

-- The summary, one row per table.
SELECT t.table_name,
       coalesce(sum(m.rows) FILTER (WHERE m.action = 'inserted'), 0)::bigint     AS inserted,
       coalesce(sum(m.rows) FILTER (WHERE m.action = 'updated'), 0)::bigint      AS updated,
       coalesce(sum(m.rows) FILTER (WHERE m.action = 'soft_deleted'), 0)::bigint AS soft_deleted,
       coalesce(sum(m.rows) FILTER (WHERE m.action = 'hard_deleted'), 0)::bigint AS hard_deleted
FROM (VALUES ('schema_migrations'), ('ar_internal_metadata'), ('accounts'), ('users'), ('requests'), ('documents'),
             ('active_storage_blobs'), ('active_storage_attachments')) AS t(table_name)
LEFT JOIN demo_mutation m ON m.table_name = t.table_name
GROUP BY t.table_name
ORDER BY t.table_name;
