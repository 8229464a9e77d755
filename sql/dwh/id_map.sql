-- Stable id mapping for the business layer. Applied by the engine before every transform;
-- idempotent (IF NOT EXISTS / CREATE OR REPLACE).
--
-- (system, entity, source_key) -> target_id, with target ids drawn from one sequence per entity,
-- so rows of two systems never collide and a key keeps its id on every re-run. To make the same
-- thing in two systems one target row, map it under a shared system and key, e.g. a person by
-- e-mail: dwh.map_id('person', 'user', lower(email)).

CREATE SCHEMA IF NOT EXISTS dwh;

CREATE TABLE IF NOT EXISTS dwh.id_map (
    system     text        NOT NULL,
    entity     text        NOT NULL,
    source_key text        NOT NULL,
    target_id  bigint      NOT NULL,
    mapped_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (system, entity, source_key),
    UNIQUE (entity, target_id)
);

-- The sequence of one entity (dwh.id_seq_<entity>), created on first use.
CREATE OR REPLACE FUNCTION dwh.id_sequence(p_entity text) RETURNS regclass
LANGUAGE plpgsql AS $$
DECLARE
    seq text := 'id_seq_' || p_entity;
BEGIN
    IF to_regclass(format('dwh.%I', seq)) IS NULL THEN
        BEGIN
            EXECUTE format('CREATE SEQUENCE IF NOT EXISTS dwh.%I', seq);
        EXCEPTION WHEN unique_violation OR duplicate_table THEN
            NULL; -- another transaction created it at the same moment
        END;
    END IF;
    RETURN format('dwh.%I', seq)::regclass;
END $$;

-- The target id of (system, entity, source_key): the existing one, or a new one from the entity's
-- sequence. NULL key -> NULL id (a missing reference stays missing).
CREATE OR REPLACE FUNCTION dwh.map_id(p_system text, p_entity text, p_source_key text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_id bigint;
BEGIN
    IF p_source_key IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT m.target_id INTO v_id FROM dwh.id_map m
     WHERE m.system = p_system AND m.entity = p_entity AND m.source_key = p_source_key;
    IF FOUND THEN
        RETURN v_id;
    END IF;
    INSERT INTO dwh.id_map (system, entity, source_key, target_id)
    VALUES (p_system, p_entity, p_source_key, nextval(dwh.id_sequence(p_entity)))
    ON CONFLICT (system, entity, source_key) DO NOTHING;
    SELECT m.target_id INTO STRICT v_id FROM dwh.id_map m
     WHERE m.system = p_system AND m.entity = p_entity AND m.source_key = p_source_key;
    RETURN v_id;
END $$;

-- One row per successful BL run: the next incremental run of the process reads rows changed
-- since next_since of the last one: its start, or earlier when other transactions of this database
-- were in progress at that start (see Transformer: an STG merge that began before the run and
-- committed after its snapshot stamps its rows with its own, earlier, start).
CREATE TABLE IF NOT EXISTS dwh.bl_runs (
    process_id  text        NOT NULL,
    run_id      text        NOT NULL,
    mode        text        NOT NULL,
    since       timestamptz NOT NULL,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz NOT NULL,
    inserted    bigint      NOT NULL,
    updated     bigint      NOT NULL,
    deleted     bigint      NOT NULL,
    unchanged   bigint      NOT NULL,
    next_since  timestamptz,
    PRIMARY KEY (process_id, run_id)
);
ALTER TABLE dwh.bl_runs ADD COLUMN IF NOT EXISTS next_since timestamptz;  -- older runs: started_at
CREATE INDEX IF NOT EXISTS bl_runs_last ON dwh.bl_runs (process_id, started_at DESC);
