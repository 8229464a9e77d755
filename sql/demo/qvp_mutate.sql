-- QVP "one day later": a deterministic day of activity on a database made by qvp_generate.sql.
--
-- Parameter: ferry.demo_as_of  timestamptz (default: this second). Every row this script touches
-- gets created_at / updated_at / deleted_at within the 0.95 day before it, so a 7-day CDC window
-- sees them. Choose it at least a day after the generation's as_of (the defaults are). The rows
-- chosen depend only on the data and on as_of, so the same database and as_of give the same result.
--
-- Per table, in this order so that no row is counted twice:
--   1. hard deletes: abandoned drafts (with their files), unanswered reviewer invitations, the last
--      line of some draft invoices, purged uploads (some of them already soft-deleted);
--   2. soft deletes (deleted_at only: QVP does not touch updated_at when it soft-deletes);
--   3. updates (updated_at = the moment of the change);
--   4. inserts with fresh ids from the sequences (never the id of a deleted row).
-- The last statement returns one row per table: inserted, updated, soft_deleted, hard_deleted.

SET TIME ZONE 'UTC';
SET jit = off;

DROP TABLE IF EXISTS pg_temp.demo_params;
CREATE TEMP TABLE demo_params AS
SELECT as_of,
       ((extract(epoch FROM as_of)::bigint % 1000003) * 1000)::integer AS seed,
       (SELECT count(*) FROM organisations)         AS n_organisations,
       (SELECT count(*) FROM users)                 AS n_users,
       (SELECT count(*) FROM verification_requests) AS n_requests,
       (SELECT count(*) FROM reports)               AS n_reports,
       (SELECT count(*) FROM report_reviewers)      AS n_reviewers,
       (SELECT count(*) FROM certificates)          AS n_certificates,
       (SELECT count(*) FROM invoices)              AS n_invoices,
       (SELECT count(*) FROM file_storage)          AS n_files,
       coalesce(pg_sequence_last_value(pg_get_serial_sequence('organisations', 'id')::regclass), 0)         AS last_organisation,
       coalesce(pg_sequence_last_value(pg_get_serial_sequence('users', 'id')::regclass), 0)                 AS last_user,
       coalesce(pg_sequence_last_value(pg_get_serial_sequence('verification_requests', 'id')::regclass), 0) AS last_request,
       coalesce(pg_sequence_last_value(pg_get_serial_sequence('reports', 'id')::regclass), 0)               AS last_report,
       coalesce(pg_sequence_last_value(pg_get_serial_sequence('certificates', 'id')::regclass), 0)          AS last_certificate,
       coalesce(pg_sequence_last_value(pg_get_serial_sequence('invoices', 'id')::regclass), 0)              AS last_invoice,
       coalesce(pg_sequence_last_value(pg_get_serial_sequence('file_storage', 'id')::regclass), 0)          AS last_file
FROM (SELECT coalesce(nullif(current_setting('ferry.demo_as_of', true), '')::timestamptz,
                      date_trunc('second', now())) AS as_of) given;
ANALYZE demo_params;

DROP TABLE IF EXISTS pg_temp.demo_mutation;
CREATE TEMP TABLE demo_mutation (table_name text NOT NULL, action text NOT NULL, rows bigint NOT NULL);

\ir helpers.sql

-- The moment of a change: within the 0.95 day before as_of.
CREATE OR REPLACE FUNCTION pg_temp.moment(n bigint, salt integer, as_of timestamptz) RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT as_of - (pg_temp.rnd(n, salt) * 82080) * interval '1 second' $$;

-- ---------------------------------------------------------------------------------------------
-- 1. Hard deletes
-- ---------------------------------------------------------------------------------------------

-- Abandoned drafts are deleted for good, with their uploads.
WITH doomed AS (
    SELECT r.id
    FROM verification_requests r, demo_params p
    WHERE r.status = 'draft' AND r.deleted_at IS NULL
      AND NOT EXISTS (SELECT 1 FROM reports x WHERE x.request_id = r.id)
      AND NOT EXISTS (SELECT 1 FROM invoice_lines x WHERE x.request_id = r.id)
    ORDER BY pg_temp.rnd(r.id, p.seed + 1), r.id
    LIMIT (SELECT greatest(2, n_requests / 200) FROM demo_params)),
files AS (DELETE FROM file_storage f USING doomed d WHERE f.request_id = d.id RETURNING 1),
requests AS (DELETE FROM verification_requests r USING doomed d WHERE r.id = d.id RETURNING 1)
INSERT INTO demo_mutation (table_name, action, rows)
VALUES ('file_storage', 'hard_deleted', (SELECT count(*) FROM files)),
       ('verification_requests', 'hard_deleted', (SELECT count(*) FROM requests));

-- Reviewer invitations nobody answered are withdrawn (a composite key disappears).
WITH doomed AS (
    SELECT rr.report_id, rr.user_id
    FROM report_reviewers rr, demo_params p
    WHERE rr.verdict IS NULL
    ORDER BY pg_temp.rnd(rr.report_id * 100003 + rr.user_id, p.seed + 2), rr.report_id, rr.user_id
    LIMIT (SELECT greatest(2, n_reviewers / 100) FROM demo_params)),
gone AS (DELETE FROM report_reviewers rr USING doomed d
         WHERE rr.report_id = d.report_id AND rr.user_id = d.user_id RETURNING 1)
INSERT INTO demo_mutation SELECT 'report_reviewers', 'hard_deleted', count(*) FROM gone;

-- The last line of some draft invoices is removed; their totals are recomputed in step 3.
DROP TABLE IF EXISTS pg_temp.demo_recalc;
CREATE TEMP TABLE demo_recalc (invoice_id bigint PRIMARY KEY);
WITH doomed AS (
    SELECT l.invoice_id, l.line_no
    FROM invoice_lines l
    JOIN invoices i ON i.id = l.invoice_id AND i.status = 'draft'
    CROSS JOIN demo_params p
    WHERE l.line_no > 1
      AND l.line_no = (SELECT max(x.line_no) FROM invoice_lines x WHERE x.invoice_id = l.invoice_id)
    ORDER BY pg_temp.rnd(l.invoice_id, p.seed + 3), l.invoice_id
    LIMIT (SELECT greatest(1, n_invoices / 100) FROM demo_params)),
gone AS (DELETE FROM invoice_lines l USING doomed d
         WHERE l.invoice_id = d.invoice_id AND l.line_no = d.line_no RETURNING l.invoice_id),
noted AS (INSERT INTO demo_recalc SELECT DISTINCT invoice_id FROM gone)
INSERT INTO demo_mutation SELECT 'invoice_lines', 'hard_deleted', count(*) FROM gone;

-- The purge job removes uploads: some soft-deleted earlier, some live ones.
WITH doomed AS (
    (SELECT f.id FROM file_storage f, demo_params p
     WHERE f.kind = 'upload' AND f.deleted_at IS NOT NULL
     ORDER BY pg_temp.rnd(f.id, p.seed + 4), f.id
     LIMIT (SELECT greatest(1, n_files / 1000) FROM demo_params))
    UNION ALL
    (SELECT f.id FROM file_storage f, demo_params p
     WHERE f.kind = 'upload' AND f.deleted_at IS NULL
     ORDER BY pg_temp.rnd(f.id, p.seed + 5), f.id
     LIMIT (SELECT greatest(1, n_files / 1000) FROM demo_params))),
gone AS (DELETE FROM file_storage f USING doomed d WHERE f.id = d.id RETURNING 1)
INSERT INTO demo_mutation SELECT 'file_storage', 'hard_deleted', count(*) FROM gone;

-- ---------------------------------------------------------------------------------------------
-- 2. Soft deletes
-- ---------------------------------------------------------------------------------------------

WITH chosen AS (
    SELECT u.id FROM users u, demo_params p
    WHERE u.deleted_at IS NULL
    ORDER BY pg_temp.rnd(u.id, p.seed + 11), u.id
    LIMIT (SELECT greatest(2, n_users / 200) FROM demo_params)),
done AS (UPDATE users u SET deleted_at = pg_temp.moment(u.id, p.seed + 12, p.as_of), is_active = false
         FROM chosen c, demo_params p WHERE u.id = c.id RETURNING 1)
INSERT INTO demo_mutation SELECT 'users', 'soft_deleted', count(*) FROM done;

WITH chosen AS (
    SELECT r.id FROM verification_requests r, demo_params p
    WHERE r.deleted_at IS NULL AND r.status IN ('draft', 'cancelled', 'rejected')
    ORDER BY pg_temp.rnd(r.id, p.seed + 13), r.id
    LIMIT (SELECT greatest(2, n_requests / 200) FROM demo_params)),
done AS (UPDATE verification_requests r SET deleted_at = pg_temp.moment(r.id, p.seed + 14, p.as_of)
         FROM chosen c, demo_params p WHERE r.id = c.id RETURNING 1)
INSERT INTO demo_mutation SELECT 'verification_requests', 'soft_deleted', count(*) FROM done;

WITH chosen AS (
    SELECT f.id FROM file_storage f, demo_params p
    WHERE f.deleted_at IS NULL AND f.kind = 'upload'
    ORDER BY pg_temp.rnd(f.id, p.seed + 15), f.id
    LIMIT (SELECT greatest(2, n_files / 500) FROM demo_params)),
done AS (UPDATE file_storage f SET deleted_at = pg_temp.moment(f.id, p.seed + 16, p.as_of)
         FROM chosen c, demo_params p WHERE f.id = c.id RETURNING 1)
INSERT INTO demo_mutation SELECT 'file_storage', 'soft_deleted', count(*) FROM done;

-- ---------------------------------------------------------------------------------------------
-- 3. Updates
-- ---------------------------------------------------------------------------------------------

-- Reference data changes without a timestamp: only a full reload notices.
WITH chosen AS (
    SELECT c.code FROM countries c, demo_params p
    ORDER BY pg_temp.rnd(hashtext(c.code), p.seed + 20), c.code
    LIMIT 1),
done AS (UPDATE countries c SET is_sanctioned = NOT c.is_sanctioned FROM chosen x WHERE c.code = x.code RETURNING 1)
INSERT INTO demo_mutation SELECT 'countries', 'updated', count(*) FROM done;

WITH chosen AS (
    SELECT o.id FROM organisations o, demo_params p
    ORDER BY pg_temp.rnd(o.id, p.seed + 21), o.id
    LIMIT (SELECT greatest(2, n_organisations / 50) FROM demo_params)),
done AS (
    UPDATE organisations o
    SET settings   = o.settings || jsonb_build_object('last_review', to_char(pg_temp.moment(o.id, p.seed + 22, p.as_of), 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                                                      'review_note', E'Re-checked:\n"all good", ✓'),
        address    = CASE WHEN pg_temp.rnd(o.id, p.seed + 23) < 0.5 THEN coalesce(o.address || E'\n', '') || 'Postfach 12, 8021 Zürich' ELSE o.address END,
        updated_at = pg_temp.moment(o.id, p.seed + 22, p.as_of)
    FROM chosen c, demo_params p WHERE o.id = c.id RETURNING 1)
INSERT INTO demo_mutation SELECT 'organisations', 'updated', count(*) FROM done;

WITH chosen AS (
    SELECT u.id FROM users u, demo_params p
    WHERE u.deleted_at IS NULL
    ORDER BY pg_temp.rnd(u.id, p.seed + 24), u.id
    LIMIT (SELECT greatest(2, n_users / 50) FROM demo_params)),
done AS (
    UPDATE users u
    SET phone          = CASE pg_temp.pick(u.id, p.seed + 25, 4) WHEN 0 THEN NULL WHEN 1 THEN '' ELSE pg_temp.phone(u.id, p.seed + 26) END,
        email_verified = true,
        last_login_at  = pg_temp.moment(u.id, p.seed + 27, p.as_of),
        updated_at     = pg_temp.moment(u.id, p.seed + 27, p.as_of)
    FROM chosen c, demo_params p WHERE u.id = c.id RETURNING 1)
INSERT INTO demo_mutation SELECT 'users', 'updated', count(*) FROM done;

-- Open requests move on (closed ones are chosen only when there are not enough open ones).
WITH chosen AS (
    SELECT r.id FROM verification_requests r, demo_params p
    WHERE r.deleted_at IS NULL
    ORDER BY r.status IN ('approved', 'rejected', 'cancelled'), pg_temp.rnd(r.id, p.seed + 28), r.id
    LIMIT (SELECT greatest(3, n_requests / 30) FROM demo_params)),
done AS (
    UPDATE verification_requests r
    SET status       = CASE r.status WHEN 'draft' THEN 'submitted' WHEN 'submitted' THEN 'in_review' WHEN 'on_hold' THEN 'in_review'
                                     WHEN 'in_review' THEN CASE WHEN pg_temp.rnd(r.id, p.seed + 29) < 0.8 THEN 'approved' ELSE 'rejected' END
                                     ELSE r.status::text END::request_status,
        submitted_at = CASE WHEN r.status = 'draft' THEN pg_temp.moment(r.id, p.seed + 30, p.as_of) ELSE r.submitted_at END,
        assigned_to  = coalesce(r.assigned_to, 1 + (r.id * 7919) % p.last_user),
        notes        = CASE WHEN pg_temp.rnd(r.id, p.seed + 31) < 0.5
                            THEN coalesce(r.notes || E'\n', '') || 'Follow-up: "called back", Rückruf erledigt'
                            ELSE r.notes END,
        updated_at   = pg_temp.moment(r.id, p.seed + 30, p.as_of)
    FROM chosen c, demo_params p WHERE r.id = c.id RETURNING 1)
INSERT INTO demo_mutation SELECT 'verification_requests', 'updated', count(*) FROM done;

WITH chosen AS (
    SELECT r.id FROM reports r, demo_params p
    ORDER BY pg_temp.rnd(r.id, p.seed + 32), r.id
    LIMIT (SELECT greatest(2, n_reports / 50) FROM demo_params)),
done AS (
    UPDATE reports r
    SET risk_score = round((pg_temp.rnd(r.id, p.seed + 33) * 100)::numeric, 2),
        tags       = coalesce(r.tags, '{}') || '{"re-scored, v2"}'::text[],
        updated_at = pg_temp.moment(r.id, p.seed + 34, p.as_of)
    FROM chosen c, demo_params p WHERE r.id = c.id RETURNING 1)
INSERT INTO demo_mutation SELECT 'reports', 'updated', count(*) FROM done;

WITH chosen AS (
    SELECT rr.report_id, rr.user_id FROM report_reviewers rr, demo_params p
    WHERE rr.verdict IS NULL
    ORDER BY pg_temp.rnd(rr.report_id * 100003 + rr.user_id, p.seed + 35), rr.report_id, rr.user_id
    LIMIT (SELECT greatest(2, n_reviewers / 50) FROM demo_params)),
done AS (
    UPDATE report_reviewers rr
    SET verdict     = CASE WHEN pg_temp.rnd(rr.report_id, p.seed + 36) < 0.8 THEN 'approve' ELSE 'reject' END,
        comment     = E'Checked page 2 ("Annex B");\nno concerns',
        reviewed_at = pg_temp.moment(rr.report_id * 100003 + rr.user_id, p.seed + 37, p.as_of),
        updated_at  = pg_temp.moment(rr.report_id * 100003 + rr.user_id, p.seed + 37, p.as_of)
    FROM chosen c, demo_params p WHERE rr.report_id = c.report_id AND rr.user_id = c.user_id RETURNING 1)
INSERT INTO demo_mutation SELECT 'report_reviewers', 'updated', count(*) FROM done;

WITH chosen AS (
    SELECT c.id FROM certificates c, demo_params p
    WHERE c.revoked_at IS NULL
    ORDER BY pg_temp.rnd(c.id, p.seed + 38), c.id
    LIMIT (SELECT greatest(1, n_certificates / 100) FROM demo_params)),
done AS (
    UPDATE certificates c
    SET revoked_at        = pg_temp.moment(c.id, p.seed + 39, p.as_of),
        revocation_reason = E'Revoked at the holder''s request:\n"company dissolved"',
        updated_at        = pg_temp.moment(c.id, p.seed + 39, p.as_of)
    FROM chosen x, demo_params p WHERE c.id = x.id RETURNING 1)
INSERT INTO demo_mutation SELECT 'certificates', 'updated', count(*) FROM done;

-- Invoices that lost a line get new totals; others are issued or paid.
WITH chosen AS (
    SELECT r.invoice_id AS id, false AS moves FROM demo_recalc r
    UNION ALL
    (SELECT i.id, true FROM invoices i, demo_params p
     WHERE i.status IN ('draft', 'issued') AND NOT EXISTS (SELECT 1 FROM demo_recalc r WHERE r.invoice_id = i.id)
     ORDER BY pg_temp.rnd(i.id, p.seed + 40), i.id
     LIMIT (SELECT greatest(2, n_invoices / 50) FROM demo_params))),
totals AS (
    SELECT l.invoice_id, sum(l.amount) AS net, sum(round(l.amount * l.vat_rate / 100, 2)) AS vat
    FROM invoice_lines l JOIN chosen c ON c.id = l.invoice_id
    GROUP BY l.invoice_id),
done AS (
    UPDATE invoices i
    SET status       = CASE WHEN c.moves THEN CASE i.status WHEN 'draft' THEN 'issued' ELSE 'paid' END ELSE i.status END,
        issued_on    = CASE WHEN c.moves AND i.status = 'draft' THEN pg_temp.moment(i.id, p.seed + 41, p.as_of)::date ELSE i.issued_on END,
        due_on       = CASE WHEN c.moves AND i.status = 'draft' THEN pg_temp.moment(i.id, p.seed + 41, p.as_of)::date + 30 ELSE i.due_on END,
        paid_at      = CASE WHEN c.moves AND i.status = 'issued' THEN pg_temp.moment(i.id, p.seed + 41, p.as_of) ELSE i.paid_at END,
        net_amount   = t.net,
        vat_amount   = t.vat,
        total_amount = t.net + t.vat,
        updated_at   = pg_temp.moment(i.id, p.seed + 41, p.as_of)
    FROM chosen c JOIN totals t ON t.invoice_id = c.id, demo_params p
    WHERE i.id = c.id RETURNING 1)
INSERT INTO demo_mutation SELECT 'invoices', 'updated', count(*) FROM done;

-- ---------------------------------------------------------------------------------------------
-- 4. Inserts
-- ---------------------------------------------------------------------------------------------

WITH done AS (
    INSERT INTO organisations (id, name, legal_name, country_code, vat_number, address, settings, is_partner, created_at, updated_at)
    SELECT o.id, pg_temp.company(o.id, 101), NULL, pg_temp.country(o.id, 103), NULL, pg_temp.address(o.id, 110),
           jsonb_build_object('onboarding', 'self-service', 'welcome_text', pg_temp.note(o.id, 112)), false, o.at, o.at
    FROM demo_params p
    CROSS JOIN LATERAL (SELECT p.last_organisation + g AS id, pg_temp.moment(p.last_organisation + g, p.seed + 50, p.as_of) AS at
                        FROM generate_series(1, greatest(1, p.n_organisations / 100)) g) o
    RETURNING 1)
INSERT INTO demo_mutation SELECT 'organisations', 'inserted', count(*) FROM done;

-- New people: person p is user p, so their emails are new to QVP and SVP alike.
WITH done AS (
    INSERT INTO users (id, organisation_id, email, first_name, middle_name, last_name, phone, birth_date, locale, roles,
                       is_active, email_verified, last_login_at, created_at, updated_at)
    SELECT u.id,
           CASE WHEN pg_temp.rnd(u.id, 201) < 0.1 THEN NULL ELSE 1 + pg_temp.pick(u.id, 202, p.last_organisation::integer) END,
           pg_temp.email(u.id), pg_temp.first_name(u.id), NULL, pg_temp.last_name(u.id), pg_temp.phone(u.id, 204), NULL,
           (ARRAY['en','de','fr','it','de-CH'])[1 + pg_temp.pick(u.id, 208, 5)], '{}', true, false, NULL, u.at, u.at
    FROM demo_params p
    CROSS JOIN LATERAL (SELECT p.last_user + g AS id, pg_temp.moment(p.last_user + g, p.seed + 51, p.as_of) AS at
                        FROM generate_series(1, greatest(3, p.n_users / 100)) g) u
    RETURNING 1)
INSERT INTO demo_mutation SELECT 'users', 'inserted', count(*) FROM done;

WITH done AS (
    INSERT INTO verification_requests (id, public_id, organisation_id, requested_by, assigned_to, "Type", status, subject_name,
                                       subject_country, priority, notes, payload, submitted_at, due_date, created_at, updated_at)
    SELECT r.id, md5('qvp-request-' || r.id)::uuid,
           coalesce(u.organisation_id, 1 + pg_temp.pick(r.id, 301, p.last_organisation::integer)),
           u.id, NULL,
           (ARRAY['KYC','KYC','KYB','AML','PEP'])[1 + pg_temp.pick(r.id, 304, 5)],
           r.status,
           pg_temp.first_name(r.id + 10000000000) || ' ' || pg_temp.last_name(r.id + 10000000000),
           pg_temp.country(r.id, 307), 3, pg_temp.note(r.id, 309),
           jsonb_build_object('channel', 'web', 'comment', pg_temp.note(r.id, 314)),
           CASE WHEN r.status = 'submitted' THEN r.at END,
           (r.at + interval '14 days')::date,
           r.at, r.at
    FROM demo_params p
    CROSS JOIN LATERAL (SELECT p.last_request + g AS id,
                               pg_temp.moment(p.last_request + g, p.seed + 52, p.as_of) AS at,
                               CASE WHEN pg_temp.rnd(p.last_request + g, p.seed + 53) < 0.4 THEN 'draft' ELSE 'submitted' END::request_status AS status
                        FROM generate_series(1, greatest(5, p.n_requests / 100)) g) r
    JOIN users u ON u.id = 1 + (r.id * 7919) % p.last_user
    RETURNING 1)
INSERT INTO demo_mutation SELECT 'verification_requests', 'inserted', count(*) FROM done;

-- First reports for requests under review that had none.
WITH chosen AS (
    SELECT r.id, r.assigned_to, r.requested_by, r."Type", r.subject_name
    FROM verification_requests r, demo_params p
    WHERE r.status = 'in_review' AND r.deleted_at IS NULL
      AND NOT EXISTS (SELECT 1 FROM reports x WHERE x.request_id = r.id)
    ORDER BY pg_temp.rnd(r.id, p.seed + 54), r.id
    LIMIT (SELECT greatest(2, n_reports / 100) FROM demo_params)),
done AS (
    INSERT INTO reports (id, request_id, author_id, version, title, summary, findings, risk_score, tags, is_final, created_at, updated_at)
    SELECT p.last_report + row_number() OVER (ORDER BY c.id), c.id, coalesce(c.assigned_to, c.requested_by), 1,
           format('%s report on %s', c."Type", c.subject_name), pg_temp.note(c.id, 402),
           jsonb_build_array(jsonb_build_object('check', 'sanctions', 'result', 'clear')),
           NULL, '{draft}', false,
           pg_temp.moment(c.id, p.seed + 55, p.as_of), pg_temp.moment(c.id, p.seed + 55, p.as_of)
    FROM chosen c, demo_params p
    RETURNING 1)
INSERT INTO demo_mutation SELECT 'reports', 'inserted', count(*) FROM done;

WITH done AS (
    INSERT INTO report_reviewers (report_id, user_id, "order", verdict, comment, reviewed_at, created_at, updated_at)
    SELECT rep.id, 1 + (rep.id * 7919 + k * 104729) % p.last_user, k, NULL, NULL, NULL, rep.created_at, rep.created_at
    FROM demo_params p
    JOIN reports rep ON rep.id > p.last_report
    CROSS JOIN LATERAL generate_series(1, 2) k
    RETURNING 1)
INSERT INTO demo_mutation SELECT 'report_reviewers', 'inserted', count(*) FROM done;

-- Renewals: a new certificate for the same report (the old one stays valid until it expires).
WITH chosen AS (
    SELECT c.id, c.report_id, c.organisation_id FROM certificates c, demo_params p
    WHERE c.revoked_at IS NULL AND c.valid_until IS NOT NULL AND c.valid_until <> 'infinity'
    ORDER BY pg_temp.rnd(c.id, p.seed + 56), c.id
    LIMIT (SELECT greatest(1, n_certificates / 100) FROM demo_params)),
done AS (
    INSERT INTO certificates (id, report_id, organisation_id, certificate_no, valid_from, valid_until, signature, revoked_at,
                              revocation_reason, created_at, updated_at)
    SELECT n.id, n.report_id, n.organisation_id,
           format('QVP-%s-%s', to_char(n.at, 'YYYY'), lpad(n.id::text, greatest(7, length(n.id::text)), '0')),
           n.at::date, (n.at + interval '1 year')::date,
           sha256(convert_to('qvp-certificate-' || n.id, 'UTF8')), NULL, NULL, n.at, n.at
    FROM (SELECT p.last_certificate + row_number() OVER (ORDER BY c.id) AS id, c.report_id, c.organisation_id,
                 pg_temp.moment(c.id, p.seed + 57, p.as_of) AS at
          FROM chosen c, demo_params p) n
    RETURNING 1)
INSERT INTO demo_mutation SELECT 'certificates', 'inserted', count(*) FROM done;

-- New invoices: lines are drawn first so that the header carries their totals.
DROP TABLE IF EXISTS pg_temp.demo_new_lines;
CREATE TEMP TABLE demo_new_lines AS
SELECT i.id AS invoice_id, k AS line_no, i.organisation_id, i.at, i.status, i.currency,
       CASE WHEN pg_temp.rnd(i.id * 8 + k, 702) < 0.3 THEN NULL ELSE 1 + (i.id * 7919 + k) % p.last_request END AS request_id,
       (ARRAY['KYC verification – standard','Express surcharge (24h)','Document check, 3 pages','Übersetzung "Handelsregister"'])
           [1 + pg_temp.pick(i.id * 8 + k, 704, 4)] AS description,
       (ARRAY[1, 1, 2, 0.5])[1 + pg_temp.pick(i.id * 8 + k, 705, 4)]::numeric(10,3) AS quantity,
       round((20 + pg_temp.rnd(i.id * 8 + k, 707) * 480)::numeric, 2)::numeric(12,2) AS unit_price,
       CASE i.currency WHEN 'CHF' THEN 8.10 WHEN 'EUR' THEN 19.00 ELSE 0.00 END::numeric(5,2) AS vat_rate
FROM demo_params p
CROSS JOIN LATERAL (SELECT p.last_invoice + g AS id,
                           1 + pg_temp.pick(p.last_invoice + g, 709, p.last_organisation::integer) AS organisation_id,
                           pg_temp.moment(p.last_invoice + g, p.seed + 58, p.as_of) AS at,
                           CASE WHEN pg_temp.rnd(p.last_invoice + g, p.seed + 59) < 0.5 THEN 'draft' ELSE 'issued' END AS status,
                           (ARRAY['CHF','CHF','EUR','USD'])[1 + pg_temp.pick(p.last_invoice + g, 708, 4)] AS currency
                    FROM generate_series(1, greatest(2, p.n_invoices / 100)) g) i
CROSS JOIN LATERAL generate_series(1, 1 + pg_temp.pick(i.id, 701, 3)) k;
-- Requests billed may have been deleted above: bill them as fees instead.
UPDATE demo_new_lines l SET request_id = NULL
WHERE NOT EXISTS (SELECT 1 FROM verification_requests r WHERE r.id = l.request_id);

WITH done AS (
    INSERT INTO invoices (id, organisation_id, invoice_no, status, currency, issued_on, due_on, net_amount, vat_amount, total_amount,
                          paid_at, billing_address, created_at, updated_at)
    SELECT l.invoice_id, l.organisation_id, format('INV-%s-%s', to_char(l.at, 'YYYY'), lpad(l.invoice_id::text, greatest(6, length(l.invoice_id::text)), '0')),
           l.status, l.currency,
           CASE WHEN l.status = 'issued' THEN l.at::date END, CASE WHEN l.status = 'issued' THEN l.at::date + 30 END,
           sum(round(l.quantity * l.unit_price, 2)), sum(round(round(l.quantity * l.unit_price, 2) * l.vat_rate / 100, 2)),
           sum(round(l.quantity * l.unit_price, 2)) + sum(round(round(l.quantity * l.unit_price, 2) * l.vat_rate / 100, 2)),
           NULL, pg_temp.address(l.invoice_id, 710), l.at, l.at
    FROM demo_new_lines l
    GROUP BY l.invoice_id, l.organisation_id, l.status, l.currency, l.at
    RETURNING 1)
INSERT INTO demo_mutation SELECT 'invoices', 'inserted', count(*) FROM done;

WITH done AS (
    INSERT INTO invoice_lines (invoice_id, line_no, request_id, description, quantity, unit_price, vat_rate, amount, created_at, updated_at)
    SELECT invoice_id, line_no, request_id, description, quantity, unit_price, vat_rate, round(quantity * unit_price, 2), at, at
    FROM demo_new_lines
    RETURNING 1)
INSERT INTO demo_mutation SELECT 'invoice_lines', 'inserted', count(*) FROM done;

-- Files of the new rows: uploads of new requests, PDFs of new reports and certificates.
WITH done AS (
    INSERT INTO file_storage (id, request_id, report_id, uploaded_by, kind, bucket, object_key, file_name, content_type,
                              size_bytes, checksum_md5, created_at, deleted_at)
    SELECT f.id, f.request_id, f.report_id, f.uploaded_by, f.kind, f.bucket, f.object_key, f.file_name,
           pg_temp.content_type(f.file_name), f.size_bytes, md5(pg_temp.file_content(f.object_key, f.size_bytes)), f.created_at, NULL
    FROM (SELECT k.*,
                 CASE k.kind
                      WHEN 'upload' THEN format('uploads/%s/%s/%s%s', to_char(k.created_at, 'YYYY/MM'), k.request_id, k.id,
                                                coalesce(lower(substring(k.file_name FROM '(\.[A-Za-z0-9]+)$')), ''))
                      WHEN 'report_pdf' THEN format('reports/%s/%s.pdf', k.request_id, k.id)
                      ELSE format('certificates/%s/%s.pdf', to_char(k.created_at, 'YYYY'), k.id) END AS object_key
          FROM (SELECT p.last_file + row_number() OVER (ORDER BY u.created_at, u.kind, u.src_key) AS id, u.*
                FROM demo_params p,
                     (SELECT 'upload' AS kind, 'qvp-uploads' AS bucket, r.id * 4 + k AS src_key, r.id AS request_id, NULL::bigint AS report_id,
                             r.requested_by AS uploaded_by, pg_temp.upload_name(r.id * 4 + k, 803) AS file_name,
                             pg_temp.file_size(r.id * 4 + k, 804) AS size_bytes,
                             r.created_at + (least(60, extract(epoch FROM p.as_of - r.created_at)) * pg_temp.rnd(r.id * 4 + k, 806)) * interval '1 second' AS created_at
                      FROM demo_params p
                      JOIN verification_requests r ON r.id > p.last_request
                      CROSS JOIN LATERAL generate_series(1, pg_temp.pick(r.id, 805, 4)) k
                      UNION ALL
                      SELECT 'report_pdf', 'qvp-documents', rep.id, rep.request_id, rep.id, rep.author_id,
                             format('Report %s v%s.pdf', rep.request_id, rep.version), pg_temp.file_size(rep.id, 809),
                             rep.created_at + (least(60, extract(epoch FROM p.as_of - rep.created_at)) * pg_temp.rnd(rep.id, 811)) * interval '1 second'
                      FROM demo_params p
                      JOIN reports rep ON rep.id > p.last_report
                      UNION ALL
                      SELECT 'certificate_pdf', 'qvp-documents', c.id, rep.request_id, c.report_id, NULL,
                             'Certificate ' || c.certificate_no || '.pdf', pg_temp.file_size(c.id, 810),
                             c.created_at + (least(30, extract(epoch FROM p.as_of - c.created_at)) * pg_temp.rnd(c.id, 812)) * interval '1 second'
                      FROM demo_params p
                      JOIN certificates c ON c.id > p.last_certificate
                      JOIN reports rep ON rep.id = c.report_id) u) k) f
    RETURNING 1)
INSERT INTO demo_mutation SELECT 'file_storage', 'inserted', count(*) FROM done;

-- The sequences continue after the new ids.
SELECT setval(pg_get_serial_sequence(t, 'id'), m)
FROM (VALUES ('organisations', (SELECT max(id) FROM organisations)),
             ('users', (SELECT max(id) FROM users)),
             ('verification_requests', (SELECT max(id) FROM verification_requests)),
             ('reports', (SELECT max(id) FROM reports)),
             ('certificates', (SELECT max(id) FROM certificates)),
             ('invoices', (SELECT max(id) FROM invoices)),
             ('file_storage', (SELECT max(id) FROM file_storage))) AS s(t, m)
WHERE m > coalesce(pg_sequence_last_value(pg_get_serial_sequence(t, 'id')::regclass), 0);

-- The summary, one row per table.
SELECT t.table_name,
       coalesce(sum(m.rows) FILTER (WHERE m.action = 'inserted'), 0)::bigint     AS inserted,
       coalesce(sum(m.rows) FILTER (WHERE m.action = 'updated'), 0)::bigint      AS updated,
       coalesce(sum(m.rows) FILTER (WHERE m.action = 'soft_deleted'), 0)::bigint AS soft_deleted,
       coalesce(sum(m.rows) FILTER (WHERE m.action = 'hard_deleted'), 0)::bigint AS hard_deleted
FROM (VALUES ('countries'), ('organisations'), ('users'), ('verification_requests'), ('reports'), ('report_reviewers'),
             ('certificates'), ('invoices'), ('invoice_lines'), ('file_storage')) AS t(table_name)
LEFT JOIN demo_mutation m ON m.table_name = t.table_name
GROUP BY t.table_name
ORDER BY t.table_name;
