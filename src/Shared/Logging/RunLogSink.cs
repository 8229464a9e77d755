using Npgsql;
using NpgsqlTypes;
using Serilog.Core;
using Serilog.Events;

namespace Ferry.Shared.Logging;

/// <summary>
/// Keeps the log lines of runs in the target database (ferry.run_log), whichever node wrote them, so
/// `ferry logs &lt;run-id&gt;` and GET /api/runs/{id}/log show a run's lines after the worker that ran it
/// is gone. Only lines that carry a <see cref="RunLogContext.RunId"/> are kept, at most
/// <see cref="MaxLinesPerRun"/> per run and node (one more line says the rest was not kept); written in
/// batches by Serilog's batching (a target that is down delays the lines, it never blocks the run).
/// </summary>
public sealed class RunLogSink(string connectionString, SecretMask mask, string node, int maxLinesPerRun = RunLogSink.DefaultMaxLinesPerRun) : IBatchedLogEventSink
{
    public const int DefaultMaxLinesPerRun = 5_000;
    public int MaxLinesPerRun => maxLinesPerRun;

    private readonly Dictionary<string, int> _written = new();

    public static bool Keeps(LogEvent e) => e.Properties.ContainsKey(RunLogContext.RunId);

    public async Task EmitBatchAsync(IReadOnlyCollection<LogEvent> batch)
    {
        var rows = new List<RunLogLine>(batch.Count);
        foreach (var e in batch)
        {
            var runId = Text(e, RunLogContext.RunId);
            if (runId is null) continue;
            _written.TryGetValue(runId, out var count);
            if (count > maxLinesPerRun) continue;
            _written[runId] = count + 1;
            var message = count == maxLinesPerRun
                ? $"further lines of this run on {node} are not kept (limit {maxLinesPerRun:N0}); the node's own log has them"
                : mask.Apply(Render(e));
            rows.Add(new RunLogLine(0, runId, Text(e, RunLogContext.ProcessId), Text(e, RunLogContext.PipelineRunId), e.Timestamp,
                LevelName(count == maxLinesPerRun ? LogEventLevel.Warning : e.Level), Text(e, RunLogContext.Step), node, message,
                count == maxLinesPerRun || e.Exception is null ? null : mask.Apply(e.Exception.ToString())));
        }
        // Runs end; their counters need not live for ever.
        if (_written.Count > 10_000) _written.Clear();
        if (rows.Count == 0) return;

        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(
            "INSERT INTO ferry.run_log (run_id, process_id, pipeline_run_id, at, level, step, node, message, exception) " +
            "SELECT * FROM unnest($1, $2, $3, $4, $5, $6, $7, $8, $9)", conn);
        Column(cmd, rows.Select(r => r.RunId));
        Column(cmd, rows.Select(r => r.ProcessId));
        Column(cmd, rows.Select(r => r.PipelineRunId));
        cmd.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.At.ToUniversalTime()).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        Column(cmd, rows.Select(r => r.Level));
        Column(cmd, rows.Select(r => r.Step));
        Column(cmd, rows.Select(r => r.Node));
        Column(cmd, rows.Select(r => r.Message));
        Column(cmd, rows.Select(r => r.Exception));
        await cmd.ExecuteNonQueryAsync();
    }

    /// <summary>As the console shows it: values without quotes.</summary>
    private static string Render(LogEvent e) => PlainText.Message(e);

    /// <summary>One text column of the batch, bound as one array parameter (unnest turns the arrays back into rows).</summary>
    private static void Column(NpgsqlCommand cmd, IEnumerable<string?> values) =>
        cmd.Parameters.Add(new NpgsqlParameter { Value = values.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });

    public Task OnEmptyBatchAsync() => Task.CompletedTask;

    public static string LevelName(LogEventLevel level) => level switch
    {
        LogEventLevel.Verbose or LogEventLevel.Debug => "debug",
        LogEventLevel.Information => "info",
        LogEventLevel.Warning => "warning",
        _ => "error",
    };

    private static string? Text(LogEvent e, string property) =>
        e.Properties.TryGetValue(property, out var value) ? value is ScalarValue { Value: var v } ? v?.ToString() : value.ToString() : null;
}
