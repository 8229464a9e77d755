using System.Text.Json;
using Ferry.Shared.Files;
using Ferry.Shared.Processes;
using Ferry.Shared.Stg;
using Npgsql;

namespace Ferry.Shared.History;

/// <summary>What one run-history row says about a run after one of its events (the row is rewritten as the run goes on).</summary>
public sealed record RunRecord(
    string ProcessId,
    string RunId,
    string? PipelineRunId,
    RunMode Mode,
    DateTimeOffset StartedAt,
    RunStatus Status,
    string Step,
    IReadOnlyDictionary<string, double> Steps,
    DateTimeOffset? FinishedAt,
    long? RowsExtracted,
    string Node,
    MergeCounts? Counts = null,
    string? Error = null,
    FileCopyCounts? Files = null,
    string? ReplayOf = null,
    string? CompleteReason = null);

/// <summary>
/// Run history in the target PostgreSQL (ferry.run_history): one row per process run, written as its
/// steps complete, so `ferry runs` and the dashboard can show it and it survives every restart.
/// </summary>
public sealed class RunHistory(string connectionString)
{
    private readonly SemaphoreSlim _migrating = new(1, 1);
    private volatile bool _migrated;

    /// <summary>
    /// Makes Ferry's own tables (sql/ferry/schema.sql) once per process: the node calls it at start, off
    /// every run's path; the first history write calls it too, for a node started before the database.
    /// One caller at a time in this process, one node at a time across the cluster (an advisory lock), so
    /// 200 entities writing their first rows together never run DDL beside each other's inserts.
    /// A failed attempt (database down) is tried again by the next caller.
    /// </summary>
    public async Task EnsureAsync(CancellationToken ct = default)
    {
        if (_migrated) return;
        await _migrating.WaitAsync(ct);
        try
        {
            if (_migrated) return;
            await FerrySchema.MigrateAsync(connectionString, ct);
            _migrated = true;
        }
        finally
        {
            _migrating.Release();
        }
    }

    /// <summary>Records where a run stands after an event; idempotent (replays of the same event write the same row).</summary>
    public async Task RecordAsync(RunRecord run, CancellationToken ct = default)
    {
        await EnsureAsync(ct);
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync(ct);
        await using var cmd = new NpgsqlCommand("""
            INSERT INTO ferry.run_history AS h (process_id, run_id, pipeline_run_id, mode, started_at, finished_at, status, step, steps,
                rows_extracted, inserted, updated, deleted, unchanged, error, node, files_copied, files_skipped, files_failed, replay_of, complete_reason)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)
            ON CONFLICT (process_id, run_id) DO UPDATE SET finished_at = EXCLUDED.finished_at, status = EXCLUDED.status, step = EXCLUDED.step,
                steps = EXCLUDED.steps, rows_extracted = EXCLUDED.rows_extracted, inserted = EXCLUDED.inserted, updated = EXCLUDED.updated,
                deleted = EXCLUDED.deleted, unchanged = EXCLUDED.unchanged, error = EXCLUDED.error, node = EXCLUDED.node,
                files_copied = EXCLUDED.files_copied, files_skipped = EXCLUDED.files_skipped, files_failed = EXCLUDED.files_failed,
                complete_reason = COALESCE(EXCLUDED.complete_reason, h.complete_reason)
            WHERE h.finished_at IS NULL OR EXCLUDED.finished_at IS NOT NULL   -- a late "running" never reopens a finished run
            """, conn);
        cmd.Parameters.Add(new() { Value = run.ProcessId });
        cmd.Parameters.Add(new() { Value = run.RunId });
        cmd.Parameters.Add(new() { Value = (object?)run.PipelineRunId ?? DBNull.Value });
        cmd.Parameters.Add(new() { Value = run.Mode.ToString().ToLowerInvariant() });
        cmd.Parameters.Add(new() { Value = run.StartedAt });
        cmd.Parameters.Add(new() { Value = (object?)run.FinishedAt ?? DBNull.Value });
        cmd.Parameters.Add(new() { Value = run.Status.Text() });
        cmd.Parameters.Add(new() { Value = run.Step });
        cmd.Parameters.Add(new() { Value = JsonSerializer.Serialize(run.Steps) });
        cmd.Parameters.Add(new() { Value = (object?)run.RowsExtracted ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint });
        cmd.Parameters.Add(new() { Value = (object?)run.Counts?.Inserted ?? DBNull.Value });
        cmd.Parameters.Add(new() { Value = (object?)run.Counts?.Updated ?? DBNull.Value });
        cmd.Parameters.Add(new() { Value = (object?)run.Counts?.Deleted ?? DBNull.Value });
        cmd.Parameters.Add(new() { Value = (object?)run.Counts?.Unchanged ?? DBNull.Value });
        cmd.Parameters.Add(new() { Value = (object?)run.Error ?? DBNull.Value });
        cmd.Parameters.Add(new() { Value = run.Node });
        cmd.Parameters.Add(new() { Value = (object?)run.Files?.Copied ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint });
        cmd.Parameters.Add(new() { Value = (object?)run.Files?.Skipped ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint });
        cmd.Parameters.Add(new() { Value = (object?)run.Files?.Failed ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint });
        cmd.Parameters.Add(new() { Value = (object?)run.ReplayOf ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = (object?)run.CompleteReason ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public sealed record Row(string ProcessId, string RunId, string? PipelineRunId, string Mode, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt,
        RunStatus Status, string Step, long? RowsExtracted, long? Inserted, long? Updated, long? Deleted, long? Unchanged, string? Error, string? Node,
        long? FilesCopied = null, long? FilesSkipped = null, long? FilesFailed = null, string? ReplayOf = null, string? CompleteReason = null);

    /// <summary>The newest runs, optionally of one process or one pipeline run.</summary>
    public async Task<IReadOnlyList<Row>> ListAsync(string? processId = null, string? pipelineRunId = null, int limit = 50, CancellationToken ct = default)
    {
        await EnsureAsync(ct);
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync(ct);
        await using var cmd = new NpgsqlCommand("""
            SELECT process_id, run_id, pipeline_run_id, mode, started_at, finished_at, status, step, rows_extracted, inserted, updated, deleted, unchanged, error, node,
                   files_copied, files_skipped, files_failed, replay_of, complete_reason
            FROM ferry.run_history
            WHERE ($1::text IS NULL OR process_id = $1) AND ($2::text IS NULL OR pipeline_run_id = $2)
            ORDER BY started_at DESC LIMIT $3
            """, conn);
        cmd.Parameters.Add(new() { Value = (object?)processId ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = (object?)pipelineRunId ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = limit });
        var rows = new List<Row>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
            rows.Add(new Row(r.GetString(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2), r.GetString(3), r.GetFieldValue<DateTimeOffset>(4),
                r.IsDBNull(5) ? null : r.GetFieldValue<DateTimeOffset>(5), RunStatusText.Parse(r.GetString(6)), r.GetString(7),
                N(r, 8), N(r, 9), N(r, 10), N(r, 11), N(r, 12), r.IsDBNull(13) ? null : r.GetString(13), r.IsDBNull(14) ? null : r.GetString(14),
                N(r, 15), N(r, 16), N(r, 17), r.IsDBNull(18) ? null : r.GetString(18), r.IsDBNull(19) ? null : r.GetString(19)));
        return rows;

        static long? N(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetInt64(i);
    }
}
