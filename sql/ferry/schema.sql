-- Ferry's own tables in the target database. Run once per node start (and before a process's first
-- history write), under an advisory lock so that nodes starting together migrate one after another;
-- every statement is a no-op once applied, and none locks a table that already has what it adds.
CREATE SCHEMA IF NOT EXISTS ferry;

CREATE TABLE IF NOT EXISTS ferry.run_history (
    process_id      text NOT NULL,
    run_id          text NOT NULL,
    pipeline_run_id text,
    mode            text NOT NULL,
    started_at      timestamptz NOT NULL,
    finished_at     timestamptz,
    status          text NOT NULL,
    step            text NOT NULL,
    steps           jsonb NOT NULL DEFAULT '{}',
    rows_extracted  bigint,
    inserted bigint, updated bigint, deleted bigint, unchanged bigint,
    error           text,
    node            text,
    files_copied    bigint,
    files_skipped   bigint,
    files_failed    bigint,
    PRIMARY KEY (process_id, run_id)
);

CREATE INDEX IF NOT EXISTS run_history_started ON ferry.run_history (started_at DESC);

-- Tables made before files processes existed lack their counts. ALTER TABLE takes an exclusive lock
-- even with IF NOT EXISTS, so it runs only when a column is really missing.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                   WHERE table_schema = 'ferry' AND table_name = 'run_history' AND column_name = 'files_copied') THEN
        ALTER TABLE ferry.run_history ADD COLUMN files_copied bigint, ADD COLUMN files_skipped bigint, ADD COLUMN files_failed bigint;
    END IF;
END
$$;

-- Replays (`ferry replay`, issue 14): a replay is a run of its own (a new run id) that re-loads an
-- earlier run's files; replay_of names that run. Guarded like the files block above: ALTER only when missing.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                   WHERE table_schema = 'ferry' AND table_name = 'run_history' AND column_name = 'replay_of') THEN
        ALTER TABLE ferry.run_history ADD COLUMN IF NOT EXISTS replay_of text;
    END IF;
END
$$;

-- Why an incremental STG run read the whole table (issue 16: "schema drift: column \"x\" added; complete
-- extract", "full_every 7d: …"); NULL for bulk, full-mode and ordinary incremental runs.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                   WHERE table_schema = 'ferry' AND table_name = 'run_history' AND column_name = 'complete_reason') THEN
        ALTER TABLE ferry.run_history ADD COLUMN complete_reason text;
    END IF;
END
$$;

-- The run log: the lines nodes wrote while a run was active (src/Shared/Logging/RunLogSink.cs), bounded
-- per run, so `ferry logs <run-id>` shows them whichever node ran it and after that node is gone.
CREATE TABLE IF NOT EXISTS ferry.run_log (
    seq             bigserial PRIMARY KEY,
    run_id          text NOT NULL,
    process_id      text,
    pipeline_run_id text,
    at              timestamptz NOT NULL,
    level           text NOT NULL,
    step            text,
    node            text NOT NULL,
    message         text NOT NULL,
    exception       text
);
CREATE INDEX IF NOT EXISTS run_log_run ON ferry.run_log (run_id, seq);
CREATE INDEX IF NOT EXISTS run_log_pipeline_run ON ferry.run_log (pipeline_run_id, seq) WHERE pipeline_run_id IS NOT NULL;

-- Verifications (`ferry verify`, issue 10): what each verify process found, one row per process per
-- verification. A verification is the pipeline run that ran its processes (or a `--local` run's own id);
-- result is the whole VerifyResult (src/Shared/Verify/VerifyResult.cs) as JSON, every differing key in it.
CREATE TABLE IF NOT EXISTS ferry.verify_results (
    verification_id text NOT NULL,
    process_id      text NOT NULL,
    run_id          text NOT NULL,
    outcome         text NOT NULL,
    differences     bigint NOT NULL,
    in_flight       bigint NOT NULL,
    source_rows     bigint NOT NULL,
    target_rows     bigint NOT NULL,
    seconds         double precision NOT NULL,
    finished_at     timestamptz NOT NULL,
    result          jsonb NOT NULL,
    PRIMARY KEY (verification_id, process_id)
);
CREATE INDEX IF NOT EXISTS verify_results_finished ON ferry.verify_results (finished_at DESC);
