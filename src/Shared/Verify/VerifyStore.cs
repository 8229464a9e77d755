using System.Text.Json;
using Ferry.Shared.History;
using Ferry.Shared.Serialization;
using Npgsql;

namespace Ferry.Shared.Verify;

/// <summary>One verification as the list shows it: how many processes agreed, differed or could not compare.</summary>
public sealed record VerificationSummary(
    string VerificationId,
    DateTimeOffset StartedAt,
    DateTimeOffset FinishedAt,
    int Processes,
    int Equal,
    int Differs,
    int Failed,
    long Differences,
    long InFlight)
{
    public VerifyOutcome Outcome => Failed > 0 ? VerifyOutcome.Failed : Differs > 0 ? VerifyOutcome.Differs : VerifyOutcome.Equal;
}

/// <summary>One verification in full: every process's result, in process id order.</summary>
public sealed record Verification(string VerificationId, IReadOnlyList<VerifyResult> Results)
{
    public VerifyOutcome Outcome =>
        Results.Any(r => r.Outcome == VerifyOutcome.Failed) ? VerifyOutcome.Failed
        : Results.Any(r => r.Outcome == VerifyOutcome.Differs) ? VerifyOutcome.Differs : VerifyOutcome.Equal;
}

/// <summary>
/// Verifications in the target database (ferry.verify_results), written by the verify processes as they
/// finish, read by `ferry verify`, the API (GET /api/verifications) and the reports.
/// </summary>
public sealed class VerifyStore(string connectionString)
{
    private volatile bool _migrated;

    /// <summary>Ferry's schema, once per store (a node migrates it at start; a `--local` verify may be the first to touch the target).</summary>
    private async Task EnsureAsync(CancellationToken ct)
    {
        if (_migrated) return;
        await FerrySchema.MigrateAsync(connectionString, ct);
        _migrated = true;
    }

    /// <summary>Records (or, for a retried process, replaces) what one process of a verification found.</summary>
    public async Task RecordAsync(string verificationId, string runId, VerifyResult result, CancellationToken ct = default)
    {
        await EnsureAsync(ct);
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync(ct);
        await using var cmd = new NpgsqlCommand("""
            INSERT INTO ferry.verify_results (verification_id, process_id, run_id, outcome, differences, in_flight, source_rows, target_rows,
                seconds, finished_at, result)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now(), $10::jsonb)
            ON CONFLICT (verification_id, process_id) DO UPDATE SET run_id = EXCLUDED.run_id, outcome = EXCLUDED.outcome,
                differences = EXCLUDED.differences, in_flight = EXCLUDED.in_flight, source_rows = EXCLUDED.source_rows,
                target_rows = EXCLUDED.target_rows, seconds = EXCLUDED.seconds, finished_at = EXCLUDED.finished_at, result = EXCLUDED.result
            """, conn);
        foreach (var value in new object[] { verificationId, result.ProcessId, runId, VerifyWords.Of(result.Outcome), result.Differences, result.InFlight,
                     result.SourceRows, result.TargetRows, result.Took.TotalSeconds, JsonSerializer.Serialize(result, FerrySerializer.Json) })
            cmd.Parameters.Add(new NpgsqlParameter { Value = value });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The newest verifications first.</summary>
    public async Task<IReadOnlyList<VerificationSummary>> ListAsync(int limit = 20, CancellationToken ct = default)
    {
        await EnsureAsync(ct);
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync(ct);
        await using var cmd = new NpgsqlCommand("""
            SELECT verification_id, min(finished_at - make_interval(secs => seconds)), max(finished_at), count(*)::int,
                   count(*) FILTER (WHERE outcome = 'equal')::int, count(*) FILTER (WHERE outcome = 'differs')::int,
                   count(*) FILTER (WHERE outcome = 'failed')::int, sum(differences)::bigint, sum(in_flight)::bigint
            FROM ferry.verify_results GROUP BY verification_id ORDER BY max(finished_at) DESC LIMIT $1
            """, conn) { Parameters = { new() { Value = limit } } };
        var list = new List<VerificationSummary>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
            list.Add(new VerificationSummary(r.GetString(0), r.GetFieldValue<DateTimeOffset>(1), r.GetFieldValue<DateTimeOffset>(2), r.GetInt32(3),
                r.GetInt32(4), r.GetInt32(5), r.GetInt32(6), r.GetInt64(7), r.GetInt64(8)));
        return list;
    }

    /// <summary>One verification, or null when nothing was recorded under that id.</summary>
    public async Task<Verification?> GetAsync(string verificationId, CancellationToken ct = default)
    {
        await EnsureAsync(ct);
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync(ct);
        await using var cmd = new NpgsqlCommand(
            "SELECT result::text FROM ferry.verify_results WHERE verification_id = $1 ORDER BY process_id", conn)
        { Parameters = { new() { Value = verificationId } } };
        var results = new List<VerifyResult>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
            results.Add(JsonSerializer.Deserialize<VerifyResult>(r.GetString(0), FerrySerializer.Json)!);
        return results.Count == 0 ? null : new Verification(verificationId, results);
    }
}
