-- target: unipacc.users
-- key: id
-- mode: incremental
-- depends: organisations
-- deleted: is_deleted
--
-- One user per person: QVP and SVP users with the same e-mail (case-insensitive) become one user,
-- whose id is mapped from the e-mail (dwh.map_id('person', 'user', …)), so it is the same in both
-- systems and on every re-run. QVP's values win where both have one. A user is deleted when
-- neither system has a live row for the e-mail any more. An organisation gone from STG is NULL
-- (the target sets it NULL on delete; a full run must not point to it either).
WITH changed AS (                       -- e-mails whose rows changed, old e-mails of changed rows too, and
                                        -- e-mails of users whose organisation changed
    SELECT lower(email) AS email FROM stg.qvp_users WHERE stg_updated_at >= @since
    UNION
    SELECT lower(email) FROM stg.svp_users WHERE stg_updated_at >= @since
    UNION
    SELECT t.email FROM unipacc.users t JOIN stg.qvp_users q ON q.id = t.qvp_user_id WHERE q.stg_updated_at >= @since
    UNION
    SELECT t.email FROM unipacc.users t JOIN stg.svp_users s ON s.id = t.svp_user_id WHERE s.stg_updated_at >= @since
    UNION                               -- users whose organisation left STG or came back
    SELECT lower(u.email) FROM stg.qvp_users u JOIN stg.qvp_organisations o ON o.id = u.organisation_id WHERE o.stg_updated_at >= @since
    UNION
    SELECT lower(u.email) FROM stg.svp_users u JOIN stg.svp_accounts a ON a.id = u.account_id WHERE a.stg_updated_at >= @since
),
q AS (
    SELECT DISTINCT ON (lower(email)) lower(email) AS person, *
    FROM stg.qvp_users WHERE stg_deleted_at IS NULL
    ORDER BY lower(email), id
),
s AS (
    SELECT DISTINCT ON (lower(email)) lower(email) AS person, *
    FROM stg.svp_users WHERE stg_deleted_at IS NULL AND btrim(email) <> ''
    ORDER BY lower(email), id
)
SELECT dwh.map_id('person', 'user', c.email) AS id,
       c.email,
       coalesce(q.first_name, s.first_name) AS first_name,
       coalesce(q.last_name, s.last_name)   AS last_name,
       coalesce(q.phone, s.phone)           AS phone,
       coalesce(q.locale, s.locale)         AS locale,
       coalesce(dwh.map_id('qvp', 'organisation', qo.id::text),
                dwh.map_id('svp', 'organisation', sa.id::text)) AS organisation_id,
       CASE WHEN q.id IS NOT NULL AND s.id IS NOT NULL THEN 'both'
            WHEN q.id IS NOT NULL THEN 'qvp' ELSE 'svp' END AS origin,
       q.id                                 AS qvp_user_id,
       s.id                                 AS svp_user_id,
       coalesce(q.is_active, false) OR s.id IS NOT NULL AS is_active,
       least(q.created_at, s.created_at AT TIME ZONE 'UTC')    AS created_at,
       greatest(q.updated_at, s.updated_at AT TIME ZONE 'UTC') AS updated_at,
       q.id IS NULL AND s.id IS NULL        AS is_deleted
FROM changed c
LEFT JOIN q ON q.person = c.email
LEFT JOIN s ON s.person = c.email
LEFT JOIN stg.qvp_organisations qo ON qo.id = q.organisation_id AND qo.stg_deleted_at IS NULL
LEFT JOIN stg.svp_accounts sa ON sa.id = s.account_id AND sa.stg_deleted_at IS NULL
WHERE c.email IS NOT NULL AND btrim(c.email) <> ''
