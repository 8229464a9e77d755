-- Helpers shared by the four demo generate and mutate scripts: deterministic randomness, people,
-- timestamps. They live in pg_temp and vanish with the session. A script includes this file where
-- it says `\ir helpers.sql` (psql does that itself; DemoSources puts the text in its place).

-- ---------------------------------------------------------------------------------------------
-- Deterministic randomness
-- ---------------------------------------------------------------------------------------------

-- A uniform number in [0, 1) from (n, salt): 53 bits of PostgreSQL's stable 64-bit hash.
CREATE OR REPLACE FUNCTION pg_temp.rnd(n bigint, salt integer) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT ((hashint8extended(n, salt) >> 11) & 9007199254740991)::double precision / 9007199254740992.0 $$;

-- An integer in [0, k).
CREATE OR REPLACE FUNCTION pg_temp.pick(n bigint, salt integer, k integer) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT floor(pg_temp.rnd(n, salt) * k)::integer $$;

-- Row n of total is created at the matching point of the two years before as_of (plus jitter),
-- so created_at grows with the id and the last 7 days hold about 1% of the rows.
CREATE OR REPLACE FUNCTION pg_temp.spread(n bigint, total bigint, salt integer, as_of timestamptz) RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT as_of - ((total - n + pg_temp.rnd(n, salt)) / total * 63072000.0) * interval '1 second' $$;

-- With probability p, a moment between t and as_of (the row was edited later); else t itself.
CREATE OR REPLACE FUNCTION pg_temp.later(t timestamptz, as_of timestamptz, n bigint, salt integer, p double precision) RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT CASE WHEN pg_temp.rnd(n, salt) < p
               THEN t + (extract(epoch FROM as_of - t) * pg_temp.rnd(n, salt + 1)) * interval '1 second'
               ELSE t END $$;

-- Every helper but rnd and pick is declared STABLE: PostgreSQL inlines a SQL function only when
-- its body is no less stable than declared, and text || bigint or timestamptz arithmetic is STABLE.

-- A parent id (1..parents) that already existed when row n of total was created.
CREATE OR REPLACE FUNCTION pg_temp.parent(n bigint, total bigint, parents bigint, salt integer) RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT 1 + floor(pg_temp.rnd(n, salt) * greatest(1, (n - 1) * parents / total))::bigint $$;

-- ---------------------------------------------------------------------------------------------
-- People. Person p is QVP user p; svp_generate.sql uses the same functions, so some SVP users
-- are the same people (same email) under other ids.
-- ---------------------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION pg_temp.first_name(p bigint) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT (ARRAY['Anna','José','Zoë','François','Łukasz','Søren','Ngozi','Aiko','伟','Mohammed',
                 'Siobhán','Ólafur','María José','Jean-Luc','Ana','Chloé','Björn','Priya','Дмитрий','Ayşe'])
          [1 + pg_temp.pick(p, 11, 20)] $$;
CREATE OR REPLACE FUNCTION pg_temp.first_ascii(p bigint) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT (ARRAY['anna','jose','zoe','francois','lukasz','soren','ngozi','aiko','wei','mohammed',
                 'siobhan','olafur','mariajose','jean-luc','ana','chloe','bjorn','priya','dmitri','ayse'])
          [1 + pg_temp.pick(p, 11, 20)] $$;
CREATE OR REPLACE FUNCTION pg_temp.last_name(p bigint) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT (ARRAY['Müller','O''Brien','García','Nguyễn','Smith','van der Berg','D''Angelo','Kowalski','Schröder','田中',
                 'Иванов','Øvergaard','Dupont-Lefèvre','Al-Hassan','Papadopoulos','Ó Súilleabháin','Svensson','Rossi','Kim','de la Cruz'])
          [1 + pg_temp.pick(p, 12, 20)] $$;
CREATE OR REPLACE FUNCTION pg_temp.last_ascii(p bigint) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT (ARRAY['mueller','obrien','garcia','nguyen','smith','vanderberg','dangelo','kowalski','schroeder','tanaka',
                 'ivanov','overgaard','dupont-lefevre','al-hassan','papadopoulos','osullivan','svensson','rossi','kim','delacruz'])
          [1 + pg_temp.pick(p, 12, 20)] $$;
CREATE OR REPLACE FUNCTION pg_temp.email(p bigint) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT pg_temp.first_ascii(p) || '.' || pg_temp.last_ascii(p) || p || '@'
          || (ARRAY['example.com','example.org','mail.example.net','verif.example.ch','example.co.uk'])[1 + pg_temp.pick(p, 13, 5)] $$;

-- ---------------------------------------------------------------------------------------------
-- Values that break naive CSV, COPY text format and JSON handling.
-- ---------------------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION pg_temp.note(n bigint, salt integer) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT CASE pg_temp.pick(n, salt, 24)
    WHEN 0 THEN NULL WHEN 1 THEN NULL WHEN 2 THEN NULL WHEN 3 THEN NULL WHEN 4 THEN NULL WHEN 5 THEN NULL
    WHEN 6 THEN ''
    WHEN 7 THEN 'Customer wrote: "please hurry", thanks'
    WHEN 8 THEN E'First line\nSecond line\n\nFourth line, after a blank one'
    WHEN 9 THEN E'Windows line ending\r\nsecond line'
    WHEN 10 THEN 'Scanned from C:\Users\scan\Documents\ (see \\fileserver\share\in)'
    WHEN 11 THEN '\N'
    WHEN 12 THEN 'NULL'
    WHEN 13 THEN E'tab\tseparated\tvalues'
    WHEN 14 THEN 'Müller & Søn – “Zürich” office, 東京支店, 🚀✅'
    WHEN 15 THEN 'O''Brien''s passport, issued in Côte d''Ivoire'
    WHEN 16 THEN '   padded with spaces   '
    WHEN 17 THEN repeat('A long note that goes on. ', 80)
    WHEN 18 THEN ',;|"'''
    WHEN 19 THEN 'Ends with a backslash \'
    ELSE 'Checked by phone on case ' || n
  END $$;

CREATE OR REPLACE FUNCTION pg_temp.phone(n bigint, salt integer) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT CASE pg_temp.pick(n, salt, 20)
    WHEN 0 THEN NULL WHEN 1 THEN NULL WHEN 2 THEN NULL WHEN 3 THEN NULL WHEN 4 THEN NULL
    WHEN 5 THEN ''
    ELSE format((ARRAY['+41 79 %s %s %s', '079/%s.%s.%s', '+49 (0)30 %s%s%s', '0044 20 %s %s%s', '+1-202-555-%s%s ext. %s',
                       '+33 6 %s %s %s', '(+81) 3-%s-%s%s'])[1 + pg_temp.pick(n, salt + 1, 7)],
                lpad(pg_temp.pick(n, salt + 2, 1000)::text, 3, '0'), lpad(pg_temp.pick(n, salt + 3, 100)::text, 2, '0'),
                lpad(pg_temp.pick(n, salt + 4, 100)::text, 2, '0'))
  END $$;

CREATE OR REPLACE FUNCTION pg_temp.company(n bigint, salt integer) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT (ARRAY['Alpen','Nordic','Müller & Söhne','Tōkyō Trading','Smith, Jones & Partners','O''Reilly','Helvetia','Crédit',
                 'Lumen','北京','Atlas','Zürcher','Baltic','Iberia','Quantum','Rhein','"Quotes"','Ørsted','Kraków','Vega'])[1 + pg_temp.pick(n, salt, 20)]
          || ' ' || (ARRAY['Holding','Trust','Logistics','Bank','Consulting','Partners','Services','Industries','Capital','Group'])[1 + pg_temp.pick(n, salt + 1, 10)]
          || ' ' || (ARRAY['AG','GmbH','SA','Ltd.','S.à r.l.','Inc.','K.K.','BV','AB','Sp. z o.o.'])[1 + pg_temp.pick(n, salt + 2, 10)] $$;

CREATE OR REPLACE FUNCTION pg_temp.address(n bigint, salt integer) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT CASE pg_temp.pick(n, salt, 10)
    WHEN 0 THEN NULL
    WHEN 1 THEN ''
    ELSE (ARRAY['Bahnhofstrasse','Rue du Rhône','Via Nassa','Königsallee','Baker Street','Rue de l''Église','Calle Mayor','Nørregade','銀座','Main St.'])[1 + pg_temp.pick(n, salt + 1, 10)]
         || ' ' || (1 + pg_temp.pick(n, salt + 2, 200))
         || CASE WHEN pg_temp.pick(n, salt + 3, 4) = 0 THEN E'\nc/o "Reception", 2nd floor' ELSE '' END
         || E'\n' || (ARRAY['8001 Zürich','1204 Genève','6900 Lugano','40212 Düsseldorf','London NW1 6XE','75001 Paris','28013 Madrid','1170 København','104-0061 東京都中央区','Springfield, IL 62701'])[1 + pg_temp.pick(n, salt + 1, 10)]
  END $$;

CREATE OR REPLACE FUNCTION pg_temp.country(n bigint, salt integer) RETURNS char(2) LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT (ARRAY['CH','CH','CH','DE','DE','FR','IT','AT','LI','GB','US','CI','TR','JP','CN','ES','NL','LU','SE','VN'])[1 + pg_temp.pick(n, salt, 20)]::char(2) $$;

-- ---------------------------------------------------------------------------------------------
-- Files: the object's bytes are the first size_bytes bytes of (object_key || E'\n') repeated.
-- ---------------------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION pg_temp.file_content(object_key text, size_bytes bigint) RETURNS bytea LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT substring(convert_to(repeat(object_key || E'\n', (size_bytes / (octet_length(object_key) + 1) + 1)::integer), 'UTF8')
                    FROM 1 FOR size_bytes::integer) $$;

-- 64 B .. 8 KiB, log-uniform (small on purpose: a demo bucket holds every object); one in 100 is empty.
CREATE OR REPLACE FUNCTION pg_temp.file_size(n bigint, salt integer) RETURNS bigint LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT CASE WHEN pg_temp.rnd(n, salt) < 0.01 THEN 0
               ELSE floor(exp(ln(64) + pg_temp.rnd(n, salt + 1) * (ln(8192) - ln(64))))::bigint END $$;

CREATE OR REPLACE FUNCTION pg_temp.upload_name(n bigint, salt integer) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT (ARRAY['passport.pdf','Passport scan (1).pdf','ID card front.jpg','ID card back.jpg','Übersicht Q3.xlsx',
                 'commercial register, extract.pdf','John''s ID.jpg','契約書.pdf','photo 📷.heic','SCAN0001.PDF',
                 'IMG_20240301_101530.jpg','bank statement "March".pdf','utility_bill.png','README','.hidden',
                 'résumé – final (v2).docx','proof of address.pdf','selfie.jpg','notes.txt','data;export.csv'])
          [1 + pg_temp.pick(n, salt, 20)] $$;

CREATE OR REPLACE FUNCTION pg_temp.content_type(file_name text) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT CASE lower(substring(file_name FROM '\.([A-Za-z0-9]+)$'))
    WHEN 'pdf' THEN 'application/pdf' WHEN 'jpg' THEN 'image/jpeg' WHEN 'png' THEN 'image/png' WHEN 'heic' THEN 'image/heic'
    WHEN 'xlsx' THEN 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'
    WHEN 'docx' THEN 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'
    WHEN 'txt' THEN 'text/plain' WHEN 'csv' THEN 'text/csv'
    ELSE 'application/octet-stream' END $$;
