-- QVP demo data. Run after qvp_schema.sql on the same (empty) database.
--
-- Parameters, read with current_setting so that they are bound values, never spliced into SQL:
--   ferry.demo_scale  integer >= 1 (default 1). Scale 1 is about 5,500 rows; every table but
--                     countries grows linearly (scale 1000 is about 5.5 million rows).
--   ferry.demo_as_of  timestamptz (default: this second, one day ago). The data spans the two
--                     years before it, ids growing with created_at.
-- From psql: PGOPTIONS='-c ferry.demo_scale=10' psql -d qvp -f qvp_generate.sql
--
-- Everything is derived from hashes of row numbers (hashint8extended), so the same scale and
-- as_of give byte-identical tables. Helpers live in pg_temp and vanish with the session.

SET TIME ZONE 'UTC';
-- The generated expressions are large: compiling them with JIT costs more than it saves.
SET jit = off;

DROP TABLE IF EXISTS pg_temp.demo_params;
CREATE TEMP TABLE demo_params AS
SELECT s            AS scale,
       as_of,
       8 * s + 2    AS n_organisations,
       200 * s      AS n_users,
       600 * s      AS n_requests,
       150 * s      AS n_invoices
FROM (SELECT greatest(1, coalesce(nullif(current_setting('ferry.demo_scale', true), ''), '1')::int) AS s,
             coalesce(nullif(current_setting('ferry.demo_as_of', true), '')::timestamptz,
                      date_trunc('second', now()) - interval '1 day') AS as_of) given;
ANALYZE demo_params;

\ir helpers.sql

CREATE OR REPLACE FUNCTION pg_temp.request_status(n bigint, age interval) RETURNS request_status LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT (CASE WHEN age > interval '30 days'
    THEN (ARRAY['approved','approved','approved','approved','approved','approved','approved','approved','approved','approved',
                'approved','approved','rejected','rejected','rejected','cancelled','cancelled','on_hold','in_review','draft'])[1 + pg_temp.pick(n, 21, 20)]
    ELSE (ARRAY['draft','draft','draft','draft','submitted','submitted','submitted','submitted','submitted','submitted',
                'in_review','in_review','in_review','in_review','in_review','in_review','on_hold','approved','approved','rejected'])[1 + pg_temp.pick(n, 21, 20)]
  END)::request_status $$;

-- ---------------------------------------------------------------------------------------------
-- Rows
-- ---------------------------------------------------------------------------------------------

INSERT INTO countries (code, name, name_local, eu_member, is_sanctioned) VALUES
    ('CH', 'Switzerland', 'Schweiz / Suisse / Svizzera', false, false),
    ('DE', 'Germany', 'Deutschland', true, false),
    ('FR', 'France', NULL, true, false),
    ('IT', 'Italy', 'Italia', true, false),
    ('AT', 'Austria', 'Österreich', true, false),
    ('LI', 'Liechtenstein', NULL, false, false),
    ('GB', 'United Kingdom', '', false, false),
    ('US', 'United States', NULL, false, false),
    ('CI', 'Côte d''Ivoire', NULL, false, false),
    ('TR', 'Türkiye', 'Türkiye', false, false),
    ('JP', 'Japan', '日本', false, false),
    ('CN', 'China', '中国', false, false),
    ('KR', 'Korea, Republic of', '대한민국', false, false),
    ('RU', 'Russian Federation', 'Россия', false, true),
    ('BR', 'Brazil', 'Brasil', false, false),
    ('ES', 'Spain', 'España', true, false),
    ('PT', 'Portugal', NULL, true, false),
    ('NL', 'Netherlands', 'Nederland', true, false),
    ('BE', 'Belgium', 'België / Belgique', true, false),
    ('LU', 'Luxembourg', 'Lëtzebuerg', true, false),
    ('SE', 'Sweden', 'Sverige', true, false),
    ('NO', 'Norway', 'Norge', false, false),
    ('DK', 'Denmark', 'Danmark', true, false),
    ('FI', 'Finland', 'Suomi', true, false),
    ('PL', 'Poland', 'Polska', true, false),
    ('GR', 'Greece', 'Ελλάδα', true, false),
    ('IE', 'Ireland', 'Éire', true, false),
    ('VN', 'Viet Nam', 'Việt Nam', false, false),
    ('AE', 'United Arab Emirates', 'الإمارات', false, false),
    ('SG', 'Singapore', NULL, false, false);

INSERT INTO organisations (id, name, legal_name, country_code, vat_number, address, settings, is_partner, created_at, updated_at)
SELECT o.n,
       pg_temp.company(o.n, 101),
       CASE pg_temp.pick(o.n, 102, 10) WHEN 0 THEN NULL WHEN 1 THEN NULL WHEN 2 THEN '' ELSE pg_temp.company(o.n, 101) || ' (registered)' END,
       pg_temp.country(o.n, 103),
       CASE WHEN pg_temp.rnd(o.n, 104) < 0.4 THEN NULL
            ELSE format('CHE-%s.%s.%s MWST', 100 + pg_temp.pick(o.n, 105, 900), 100 + pg_temp.pick(o.n, 106, 900), 100 + pg_temp.pick(o.n, 107, 900)) END,
       pg_temp.address(o.n, 110),
       CASE pg_temp.pick(o.n, 108, 4)
            WHEN 0 THEN '{}'::jsonb
            ELSE jsonb_build_object('billing', jsonb_build_object('cycle', (ARRAY['monthly','quarterly','yearly'])[1 + pg_temp.pick(o.n, 109, 3)]),
                                    'notify', pg_temp.rnd(o.n, 111) < 0.7,
                                    'contacts', jsonb_build_array(pg_temp.email(o.n + 900000000)),
                                    'welcome_text', pg_temp.note(o.n, 112)) END,
       pg_temp.rnd(o.n, 113) < 0.1,
       o.created_at,
       pg_temp.later(o.created_at, p.as_of, o.n, 114, 0.5)
FROM demo_params p
CROSS JOIN LATERAL (SELECT n, pg_temp.spread(n, p.n_organisations, 100, p.as_of) AS created_at
                    FROM generate_series(1, p.n_organisations) n) o;

INSERT INTO users (id, organisation_id, email, first_name, middle_name, last_name, phone, birth_date, locale, roles,
                   is_active, email_verified, last_login_at, created_at, updated_at, deleted_at)
SELECT u.n,
       CASE WHEN pg_temp.rnd(u.n, 201) < 0.1 THEN NULL ELSE pg_temp.parent(u.n, p.n_users, p.n_organisations, 202) END,
       pg_temp.email(u.n),
       pg_temp.first_name(u.n),
       CASE pg_temp.pick(u.n, 203, 20) WHEN 0 THEN '' WHEN 1 THEN pg_temp.first_name(u.n + 77) WHEN 2 THEN 'J.' ELSE NULL END,
       pg_temp.last_name(u.n),
       pg_temp.phone(u.n, 204),
       CASE WHEN pg_temp.rnd(u.n, 206) < 0.6 THEN NULL ELSE date '1950-01-01' + pg_temp.pick(u.n, 207, 19000) END,
       (ARRAY['en','de','fr','it','de-CH'])[1 + pg_temp.pick(u.n, 208, 5)],
       (ARRAY['{}','{}','{}','{}','{}','{}','{reviewer}','{reviewer}','{reviewer,admin}','{billing,read-only}'])[1 + pg_temp.pick(u.n, 209, 10)]::text[],
       d.deleted_at IS NULL AND pg_temp.rnd(u.n, 210) >= 0.05,
       CASE pg_temp.pick(u.n, 211, 10) WHEN 0 THEN NULL WHEN 1 THEN NULL WHEN 2 THEN NULL WHEN 3 THEN false ELSE true END,
       CASE WHEN pg_temp.rnd(u.n, 212) < 0.2 THEN NULL ELSE u.updated_at END,
       u.created_at,
       u.updated_at,
       d.deleted_at
FROM demo_params p
CROSS JOIN LATERAL (SELECT n, c.created_at, pg_temp.later(c.created_at, p.as_of, n, 213, 0.5) AS updated_at
                    FROM generate_series(1, p.n_users) n,
                         LATERAL (SELECT pg_temp.spread(n, p.n_users, 200, p.as_of) AS created_at) c) u
CROSS JOIN LATERAL (SELECT CASE WHEN pg_temp.rnd(u.n, 215) < 0.03
                                THEN u.updated_at + (extract(epoch FROM p.as_of - u.updated_at) * pg_temp.rnd(u.n, 216)) * interval '1 second'
                           END AS deleted_at) d;

INSERT INTO verification_requests (id, public_id, organisation_id, requested_by, assigned_to, "Type", status, subject_name,
                                   subject_country, priority, notes, payload, submitted_at, due_date, created_at, updated_at, deleted_at)
SELECT r.n,
       md5('qvp-request-' || r.n)::uuid,
       coalesce(requester.organisation_id, pg_temp.parent(r.n, p.n_requests, p.n_organisations, 301)),
       requester.id,
       CASE WHEN r.status IN ('draft', 'submitted') AND pg_temp.rnd(r.n, 302) < 0.7 THEN NULL
            ELSE pg_temp.parent(r.n, p.n_requests, p.n_users, 303) END,
       r.kind,
       r.status,
       CASE WHEN r.kind = 'KYB' THEN pg_temp.company(r.n, 305) ELSE pg_temp.first_name(r.n + 10000000000) || ' ' || pg_temp.last_name(r.n + 10000000000) END,
       CASE WHEN pg_temp.rnd(r.n, 306) < 0.1 THEN NULL ELSE pg_temp.country(r.n, 307) END,
       1 + pg_temp.pick(r.n, 308, 5),
       pg_temp.note(r.n, 309),
       CASE pg_temp.pick(r.n, 310, 10)
            WHEN 0 THEN NULL
            WHEN 1 THEN '{}'::jsonb
            WHEN 2 THEN 'null'::jsonb
            ELSE jsonb_build_object('channel', (ARRAY['web','api','email'])[1 + pg_temp.pick(r.n, 311, 3)],
                                    'score', round((pg_temp.rnd(r.n, 312) * 100)::numeric, 3),
                                    'checks', to_jsonb((ARRAY['{id,address}','{id}','{sanctions,pep,"adverse media"}','{}'])[1 + pg_temp.pick(r.n, 313, 4)]::text[]),
                                    'subject', jsonb_build_object('aliases', jsonb_build_array(pg_temp.last_name(r.n + 20000000000), NULL)),
                                    'comment', pg_temp.note(r.n, 314)) END,
       CASE WHEN r.status = 'draft' THEN NULL
            ELSE r.created_at + (pg_temp.rnd(r.n, 315) * 7200) * interval '1 second' END,
       CASE WHEN pg_temp.rnd(r.n, 316) < 0.2 THEN NULL ELSE (r.created_at + interval '14 days')::date END,
       r.created_at,
       r.updated_at,
       CASE WHEN pg_temp.rnd(r.n, 317) < 0.02
            THEN r.updated_at + (extract(epoch FROM p.as_of - r.updated_at) * pg_temp.rnd(r.n, 318)) * interval '1 second' END
FROM demo_params p
CROSS JOIN LATERAL (SELECT n, c.created_at,
                           pg_temp.later(c.created_at, p.as_of, n, 319, 0.6) AS updated_at,
                           pg_temp.request_status(n, p.as_of - c.created_at) AS status,
                           (ARRAY['KYC','KYC','KYC','KYB','KYB','AML','PEP','Sanctions','Adverse media','KYC'])[1 + pg_temp.pick(n, 304, 10)] AS kind
                    FROM generate_series(1, p.n_requests) n,
                         LATERAL (SELECT pg_temp.spread(n, p.n_requests, 300, p.as_of) AS created_at) c) r
JOIN users requester ON requester.id = pg_temp.parent(r.n, p.n_requests, p.n_users, 320);

-- One report per request under review or decided; a fifth of the decided ones have a second version.
INSERT INTO reports (id, request_id, author_id, version, title, summary, findings, risk_score, tags, is_final, created_at, updated_at)
SELECT row_number() OVER (ORDER BY x.created_at, x.request_id, x.version),
       x.request_id, x.author_id, x.version, x.title,
       pg_temp.note(x.k, 402),
       CASE pg_temp.pick(x.k, 403, 4)
            WHEN 0 THEN '[]'::jsonb
            ELSE jsonb_build_array(
                     jsonb_build_object('check', 'sanctions', 'result', 'clear'),
                     jsonb_build_object('check', 'pep', 'result', (ARRAY['clear','hit','possible match'])[1 + pg_temp.pick(x.k, 404, 3)],
                                        'details', 'Name matched "' || pg_temp.last_name(x.k) || '" at 0.' || pg_temp.pick(x.k, 405, 100))) END,
       CASE WHEN pg_temp.rnd(x.k, 406) < 0.1 THEN NULL ELSE round((pg_temp.rnd(x.k, 407) * 100)::numeric, 2) END,
       CASE WHEN pg_temp.rnd(x.k, 409) < 0.3 THEN NULL
            ELSE (ARRAY['{kyc}', '{}', '{urgent,"needs \"review\""}', '{"a,b",ü,🚀}', '{x,NULL}', '{""}', '{kyc,pep}', '{}'])[1 + pg_temp.pick(x.k, 408, 8)]::text[] END,
       x.is_final,
       x.created_at,
       pg_temp.later(x.created_at, x.as_of, x.k, 410, 0.3)
FROM (SELECT r.id AS request_id,
             v.version,
             r.id * 4 + v.version AS k,
             coalesce(r.assigned_to, r.requested_by) AS author_id,
             format('%s report on %s', r."Type", r.subject_name) || CASE WHEN v.version > 1 THEN ' (revised)' ELSE '' END AS title,
             r.status IN ('approved', 'rejected') AND v.version = v.versions AS is_final,
             CASE WHEN v.version = 1 THEN first.at
                  ELSE first.at + (extract(epoch FROM p.as_of - first.at) * 0.5 * pg_temp.rnd(r.id, 411)) * interval '1 second' END AS created_at,
             p.as_of
      FROM demo_params p
      JOIN verification_requests r ON r.status IN ('in_review', 'on_hold', 'approved', 'rejected')
      CROSS JOIN LATERAL (SELECT r.created_at + (least(1728000, extract(epoch FROM p.as_of - r.created_at)) * pg_temp.rnd(r.id, 401)) * interval '1 second' AS at) first
      CROSS JOIN LATERAL (SELECT CASE WHEN r.status IN ('approved', 'rejected') AND pg_temp.rnd(r.id, 412) < 0.2 THEN 2 ELSE 1 END AS versions) vs
      CROSS JOIN LATERAL (SELECT g AS version, vs.versions FROM generate_series(1, vs.versions) g) v) x;

-- One to three reviewers per report (distinct users: 104729 is prime, so the three offsets differ).
INSERT INTO report_reviewers (report_id, user_id, "order", verdict, comment, reviewed_at, created_at, updated_at)
SELECT x.report_id, x.user_id, x.k, x.verdict, pg_temp.note(x.key, 503), x.reviewed_at, x.created_at, coalesce(x.reviewed_at, x.created_at)
FROM (SELECT rep.id AS report_id,
             1 + (rep.id * 7919 + k * 104729) % p.n_users AS user_id,
             k,
             rep.id * 4 + k AS key,
             rep.created_at,
             CASE WHEN rep.is_final OR pg_temp.rnd(rep.id * 4 + k, 502) < 0.5
                  THEN (ARRAY['approve','approve','approve','reject','abstain'])[1 + pg_temp.pick(rep.id * 4 + k, 504, 5)] END AS verdict,
             rep.created_at + (extract(epoch FROM p.as_of - rep.created_at) * 0.3 * pg_temp.rnd(rep.id * 4 + k, 505)) * interval '1 second' AS at
      FROM demo_params p
      JOIN reports rep ON true
      CROSS JOIN LATERAL generate_series(1, 1 + pg_temp.pick(rep.id, 501, 3)) k) y
CROSS JOIN LATERAL (SELECT y.report_id, y.user_id, y.k, y.key, y.created_at, y.verdict,
                           CASE WHEN y.verdict IS NOT NULL THEN y.at END AS reviewed_at) x;

-- A certificate for every final report of an approved request.
INSERT INTO certificates (id, report_id, organisation_id, certificate_no, valid_from, valid_until, signature, revoked_at,
                          revocation_reason, created_at, updated_at)
SELECT c.id, c.report_id, c.organisation_id,
       format('QVP-%s-%s', to_char(c.created_at, 'YYYY'), lpad(c.id::text, greatest(7, length(c.id::text)), '0')),
       c.created_at::date,
       CASE pg_temp.pick(c.id, 602, 10)
            WHEN 0 THEN 'infinity'::date
            WHEN 1 THEN NULL
            WHEN 2 THEN (c.created_at + interval '3 years')::date
            ELSE (c.created_at + interval '1 year')::date END,
       CASE pg_temp.pick(c.id, 603, 40)
            WHEN 0 THEN NULL WHEN 1 THEN NULL
            WHEN 2 THEN '\x'::bytea
            ELSE sha256(convert_to('qvp-certificate-' || c.id, 'UTF8')) END,
       c.revoked_at,
       CASE WHEN c.revoked_at IS NOT NULL THEN pg_temp.note(c.id, 604) END,
       c.created_at,
       coalesce(c.revoked_at, pg_temp.later(c.created_at, c.as_of, c.id, 605, 0.2))
FROM (SELECT row_number() OVER (ORDER BY x.created_at, x.report_id) AS id, x.*,
             CASE WHEN pg_temp.rnd(x.report_id, 606) < 0.03
                  THEN x.created_at + (extract(epoch FROM x.as_of - x.created_at) * pg_temp.rnd(x.report_id, 607)) * interval '1 second' END AS revoked_at
      FROM (SELECT rep.id AS report_id, r.organisation_id, p.as_of,
                   rep.created_at + (least(86400, extract(epoch FROM p.as_of - rep.created_at)) * pg_temp.rnd(rep.id, 601)) * interval '1 second' AS created_at
            FROM demo_params p
            JOIN reports rep ON rep.is_final
            JOIN verification_requests r ON r.id = rep.request_id AND r.status = 'approved') x) c;

-- Invoice lines first, so that the invoice totals are their sums (foreign keys come later).
INSERT INTO invoice_lines (invoice_id, line_no, request_id, description, quantity, unit_price, vat_rate, amount, created_at, updated_at)
SELECT l.invoice_id, l.line_no, l.request_id, l.description, l.quantity, l.unit_price, l.vat_rate,
       round(l.quantity * l.unit_price, 2), l.created_at, l.created_at
FROM (SELECT i.n AS invoice_id,
             k AS line_no,
             CASE WHEN pg_temp.rnd(i.n * 8 + k, 702) < 0.3 THEN NULL ELSE pg_temp.parent(i.n, p.n_invoices, p.n_requests, 703) END AS request_id,
             (ARRAY['KYC verification – standard','Express surcharge (24h)','Document check, 3 pages','Übersetzung "Handelsregister"',
                    'Rabatt / discount',E'Multi-line\ndescription','認証手数料','AML screening','Courier, "signed for"','Archive fee \ 2 years'])
                 [1 + pg_temp.pick(i.n * 8 + k, 704, 10)] AS description,
             (ARRAY[1, 1, 1, 1, 2, 0.5, 1.25, 3, 0.333, 10])[1 + pg_temp.pick(i.n * 8 + k, 705, 10)]::numeric(10,3) AS quantity,
             (CASE WHEN pg_temp.rnd(i.n * 8 + k, 706) < 0.03 THEN -1 ELSE 1 END
                  * round((20 + pg_temp.rnd(i.n * 8 + k, 707) * 480)::numeric, 2))::numeric(12,2) AS unit_price,
             CASE i.currency WHEN 'CHF' THEN CASE WHEN i.created_at < '2024-01-01' THEN 7.70 ELSE 8.10 END
                             WHEN 'EUR' THEN 19.00
                             ELSE 0.00 END::numeric(5,2) AS vat_rate,
             i.created_at
      FROM demo_params p
      CROSS JOIN LATERAL (SELECT n, pg_temp.spread(n, p.n_invoices, 700, p.as_of) AS created_at,
                                 (ARRAY['CHF','CHF','CHF','CHF','CHF','EUR','EUR','EUR','EUR','USD'])[1 + pg_temp.pick(n, 708, 10)] AS currency
                          FROM generate_series(1, p.n_invoices) n) i
      CROSS JOIN LATERAL generate_series(1, 1 + pg_temp.pick(i.n, 701, 5)) k) l;

INSERT INTO invoices (id, organisation_id, invoice_no, status, currency, issued_on, due_on, net_amount, vat_amount, total_amount,
                      paid_at, billing_address, created_at, updated_at)
SELECT i.n,
       pg_temp.parent(i.n, p.n_invoices, p.n_organisations, 709),
       format('INV-%s-%s', to_char(i.created_at, 'YYYY'), lpad(i.n::text, greatest(6, length(i.n::text)), '0')),
       i.status,
       i.currency,
       CASE WHEN i.status <> 'draft' THEN i.created_at::date END,
       CASE WHEN i.status <> 'draft' THEN i.created_at::date + 30 END,
       t.net, t.vat, t.net + t.vat,
       i.paid_at,
       pg_temp.address(i.n, 710),
       i.created_at,
       coalesce(i.paid_at, pg_temp.later(i.created_at, p.as_of, i.n, 711, 0.3))
FROM demo_params p
CROSS JOIN LATERAL (SELECT n, c.created_at, c.currency, s.status,
                           CASE WHEN s.status = 'paid'
                                THEN c.created_at + (least(3888000, extract(epoch FROM p.as_of - c.created_at)) * pg_temp.rnd(n, 712)) * interval '1 second' END AS paid_at
                    FROM generate_series(1, p.n_invoices) n,
                         LATERAL (SELECT pg_temp.spread(n, p.n_invoices, 700, p.as_of) AS created_at,
                                         (ARRAY['CHF','CHF','CHF','CHF','CHF','EUR','EUR','EUR','EUR','USD'])[1 + pg_temp.pick(n, 708, 10)] AS currency) c,
                         LATERAL (SELECT CASE WHEN p.as_of - c.created_at > interval '60 days'
                                              THEN (ARRAY['paid','paid','paid','paid','paid','paid','paid','paid','paid','paid',
                                                          'paid','paid','paid','paid','paid','paid','void','issued','issued','issued'])[1 + pg_temp.pick(n, 713, 20)]
                                              ELSE (ARRAY['draft','draft','draft','issued','issued','issued','issued','issued','issued','paid'])[1 + pg_temp.pick(n, 713, 10)]
                                         END AS status) s) i
JOIN (SELECT invoice_id, sum(amount) AS net, sum(round(amount * vat_rate / 100, 2)) AS vat
      FROM invoice_lines GROUP BY invoice_id) t ON t.invoice_id = i.n;

-- Uploads (0-3 per request), one PDF per report, one PDF per certificate; ids in creation order.
-- One upload in twenty has a legacy key that still contains the original file name.
INSERT INTO file_storage (id, request_id, report_id, uploaded_by, kind, bucket, object_key, file_name, content_type,
                          size_bytes, checksum_md5, created_at, deleted_at)
SELECT f.id, f.request_id, f.report_id, f.uploaded_by, f.kind, f.bucket, f.object_key, f.file_name,
       CASE WHEN pg_temp.rnd(f.id, 801) < 0.02 THEN NULL ELSE pg_temp.content_type(f.file_name) END,
       f.size_bytes,
       md5(pg_temp.file_content(f.object_key, f.size_bytes)),
       f.created_at,
       f.deleted_at
FROM (SELECT k.*,
             CASE WHEN k.kind = 'upload' AND pg_temp.rnd(k.id, 802) < 0.05
                  THEN format('legacy/%s/%s-%s', k.request_id, k.id, k.file_name)
                  WHEN k.kind = 'upload'
                  THEN format('uploads/%s/%s/%s%s', to_char(k.created_at, 'YYYY/MM'), k.request_id, k.id,
                              coalesce(lower(substring(k.file_name FROM '(\.[A-Za-z0-9]+)$')), ''))
                  WHEN k.kind = 'report_pdf'
                  THEN format('reports/%s/%s.pdf', k.request_id, k.id)
                  ELSE format('certificates/%s/%s.pdf', to_char(k.created_at, 'YYYY'), k.id) END AS object_key
      FROM (SELECT row_number() OVER (ORDER BY u.created_at, u.kind, u.src_key) AS id, u.*
            FROM (SELECT 'upload' AS kind, 'qvp-uploads' AS bucket, r.id * 4 + k AS src_key, r.id AS request_id, NULL::bigint AS report_id,
                         r.requested_by AS uploaded_by,
                         pg_temp.upload_name(r.id * 4 + k, 803) AS file_name,
                         pg_temp.file_size(r.id * 4 + k, 804) AS size_bytes,
                         r.created_at + (least(3600, extract(epoch FROM p.as_of - r.created_at)) * pg_temp.rnd(r.id * 4 + k, 806)) * interval '1 second' AS created_at,
                         CASE WHEN pg_temp.rnd(r.id * 4 + k, 807) < 0.02
                              THEN p.as_of - (extract(epoch FROM p.as_of - r.created_at) * pg_temp.rnd(r.id * 4 + k, 808)) * interval '1 second' END AS deleted_at
                  FROM demo_params p
                  JOIN verification_requests r ON true
                  CROSS JOIN LATERAL generate_series(1, pg_temp.pick(r.id, 805, 4)) k
                  UNION ALL
                  SELECT 'report_pdf', 'qvp-documents', rep.id, rep.request_id, rep.id, rep.author_id,
                         format('Report %s v%s.pdf', rep.request_id, rep.version),
                         pg_temp.file_size(rep.id, 809),
                         rep.created_at + (least(60, extract(epoch FROM p.as_of - rep.created_at)) * pg_temp.rnd(rep.id, 811)) * interval '1 second',
                         NULL
                  FROM demo_params p
                  JOIN reports rep ON true
                  UNION ALL
                  SELECT 'certificate_pdf', 'qvp-documents', c.id, rep.request_id, c.report_id, NULL,
                         'Certificate ' || c.certificate_no || '.pdf',
                         pg_temp.file_size(c.id, 810),
                         c.created_at + (least(30, extract(epoch FROM p.as_of - c.created_at)) * pg_temp.rnd(c.id, 812)) * interval '1 second',
                         NULL
                  FROM demo_params p
                  JOIN certificates c ON true
                  JOIN reports rep ON rep.id = c.report_id) u) k) f;

-- ---------------------------------------------------------------------------------------------
-- Constraints and indexes, now that the rows are in
-- ---------------------------------------------------------------------------------------------

ALTER TABLE organisations ADD FOREIGN KEY (country_code) REFERENCES countries (code);
ALTER TABLE users ADD FOREIGN KEY (organisation_id) REFERENCES organisations (id);
ALTER TABLE verification_requests
    ADD FOREIGN KEY (organisation_id) REFERENCES organisations (id),
    ADD FOREIGN KEY (requested_by) REFERENCES users (id),
    ADD FOREIGN KEY (assigned_to) REFERENCES users (id),
    ADD FOREIGN KEY (subject_country) REFERENCES countries (code);
ALTER TABLE reports
    ADD FOREIGN KEY (request_id) REFERENCES verification_requests (id),
    ADD FOREIGN KEY (author_id) REFERENCES users (id);
ALTER TABLE report_reviewers
    ADD FOREIGN KEY (report_id) REFERENCES reports (id),
    ADD FOREIGN KEY (user_id) REFERENCES users (id);
ALTER TABLE certificates
    ADD FOREIGN KEY (report_id) REFERENCES reports (id),
    ADD FOREIGN KEY (organisation_id) REFERENCES organisations (id);
ALTER TABLE invoices ADD FOREIGN KEY (organisation_id) REFERENCES organisations (id);
ALTER TABLE invoice_lines
    ADD FOREIGN KEY (invoice_id) REFERENCES invoices (id),
    ADD FOREIGN KEY (request_id) REFERENCES verification_requests (id);
ALTER TABLE file_storage
    ADD FOREIGN KEY (request_id) REFERENCES verification_requests (id),
    ADD FOREIGN KEY (report_id) REFERENCES reports (id),
    ADD FOREIGN KEY (uploaded_by) REFERENCES users (id);

CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE INDEX users_organisation_id_idx ON users (organisation_id);
CREATE UNIQUE INDEX verification_requests_public_id_key ON verification_requests (public_id);
CREATE INDEX verification_requests_organisation_id_idx ON verification_requests (organisation_id);
CREATE INDEX verification_requests_updated_at_idx ON verification_requests (updated_at);
CREATE UNIQUE INDEX reports_request_id_version_key ON reports (request_id, version);
CREATE INDEX report_reviewers_user_id_idx ON report_reviewers (user_id);
CREATE UNIQUE INDEX certificates_certificate_no_key ON certificates (certificate_no);
CREATE INDEX certificates_report_id_idx ON certificates (report_id);
CREATE UNIQUE INDEX invoices_invoice_no_key ON invoices (invoice_no);
CREATE INDEX invoices_organisation_id_idx ON invoices (organisation_id);
CREATE INDEX invoice_lines_request_id_idx ON invoice_lines (request_id);
CREATE INDEX file_storage_request_id_idx ON file_storage (request_id);
CREATE INDEX file_storage_report_id_idx ON file_storage (report_id);
CREATE UNIQUE INDEX file_storage_bucket_object_key_key ON file_storage (bucket, object_key);

-- The identity sequences continue after the loaded ids (is_called stays false on empty tables).
SELECT setval(pg_get_serial_sequence(t, 'id'), coalesce(m, 1), m IS NOT NULL)
FROM (VALUES ('organisations', (SELECT max(id) FROM organisations)),
             ('users', (SELECT max(id) FROM users)),
             ('verification_requests', (SELECT max(id) FROM verification_requests)),
             ('reports', (SELECT max(id) FROM reports)),
             ('certificates', (SELECT max(id) FROM certificates)),
             ('invoices', (SELECT max(id) FROM invoices)),
             ('file_storage', (SELECT max(id) FROM file_storage))) AS s(t, m);

ANALYZE;
