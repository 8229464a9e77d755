using Ferry.Shared.History;
using Npgsql;

namespace Ferry.Shared.Logging;

/// <summary>One kept log line of a run; <see cref="Seq"/> orders the lines and lets a reader follow from where it stopped.</summary>
public sealed record RunLogLine(long Seq, string RunId, string? ProcessId, string? PipelineRunId, DateTimeOffset At, string Level,
    string? Step, string Node, string Message, string? Exception);

/// <summary>Reads the run log (ferry.run_log) that <see cref="RunLogSink"/> writes.</summary>
public sealed class RunLog(string connectionString)
{
    public const int MaxPage = 1_000;

    /// <summary>
    /// The lines of a process run, or of every process run of a pipeline run, after <paramref name="afterSeq"/>
    /// in the order they were kept, at most <paramref name="limit"/>.
    /// </summary>
    public async Task<IReadOnlyList<RunLogLine>> ReadAsync(string runId, long afterSeq = 0, int limit = MaxPage, CancellationToken ct = default)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync(ct);
        await using var cmd = new NpgsqlCommand(
            "SELECT seq, run_id, process_id, pipeline_run_id, at, level, step, node, message, exception FROM ferry.run_log " +
            "WHERE (run_id = $1 OR pipeline_run_id = $1) AND seq > $2 ORDER BY seq LIMIT $3", conn);
        cmd.Parameters.Add(new NpgsqlParameter { Value = runId });
        cmd.Parameters.Add(new NpgsqlParameter { Value = afterSeq });
        cmd.Parameters.Add(new NpgsqlParameter { Value = Math.Clamp(limit, 1, MaxPage) });
        var lines = new List<RunLogLine>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            lines.Add(new RunLogLine(reader.GetInt64(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetFieldValue<DateTimeOffset>(4), reader.GetString(5),
                reader.IsDBNull(6) ? null : reader.GetString(6), reader.GetString(7), reader.GetString(8), reader.IsDBNull(9) ? null : reader.GetString(9)));
        return lines;
    }

    /// <summary>Whether the run (a process run, or any process run of a pipeline run) is still recorded as running: a follower stops once it is not.</summary>
    public async Task<bool> IsRunningAsync(string runId, CancellationToken ct = default)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync(ct);
        await using var cmd = new NpgsqlCommand(
            "SELECT EXISTS (SELECT 1 FROM ferry.run_history WHERE (run_id = $1 OR pipeline_run_id = $1) AND status = $2)", conn);
        cmd.Parameters.Add(new NpgsqlParameter { Value = runId });
        cmd.Parameters.Add(new NpgsqlParameter { Value = Ferry.Shared.History.RunStatus.Running.Text() });
        return (bool)(await cmd.ExecuteScalarAsync(ct))!;
    }
}
