using System.Diagnostics;
using System.Globalization;
using Ferry.Shared.Metadata;
using Ferry.Shared.Verify;
using Npgsql;

namespace Ferry.Worker.Verify;

/// <summary>
/// verify.checks: runs every key indicator (sql/checks/*.sql, <see cref="CheckFile"/>) on its sources and on the
/// target, sums the sources per key and compares with the target per key. A check whose query fails (bad SQL, a
/// source down) fails with the database's message and its file:line, and the other checks still run; the result
/// is then Failed and still carries the differences the other checks found.
/// </summary>
public static class IndicatorChecks
{
    public const string ApplicationName = "ferry-verify";

    /// <summary>Every check of <paramref name="metadata"/> against its sources and target.</summary>
    public static Task<VerifyResult> RunAsync(MigrationMetadata metadata, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        return RunAsync(metadata.Checks, source => metadata.Sources[source].ToConnectionString(ApplicationName),
            metadata.Target.ToConnectionString(ApplicationName), ct);
    }

    /// <param name="sourceConnectionString">The connection string of a source, by name.</param>
    public static async Task<VerifyResult> RunAsync(IReadOnlyList<CheckFile> checks, Func<string, string> sourceConnectionString,
        string targetConnectionString, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(checks);
        ArgumentNullException.ThrowIfNull(sourceConnectionString);
        var clock = Stopwatch.StartNew();
        var items = new List<VerifyDifference>();
        var errors = new List<string>();
        long sourceRows = 0, targetRows = 0;
        foreach (var check in checks)
        {
            var outcome = await CompareAsync(check, sourceConnectionString, targetConnectionString, ct);
            if (outcome.Error is { } error) { errors.Add(error); continue; }
            sourceRows += outcome.SourceKeys;
            targetRows += outcome.TargetKeys;
            items.AddRange(outcome.Differences);
        }
        var subject = $"key indicators ({checks.Count} check{(checks.Count == 1 ? "" : "s")})";
        var outcomeKind = errors.Count > 0 ? VerifyOutcome.Failed : VerifyResult.OutcomeOf(items);
        return new VerifyResult(VerifyProcesses.Checks, subject, outcomeKind, sourceRows, targetRows, items, clock.Elapsed,
            Note: checks.Count == 0 ? "no key indicators (target.checks in connections.yaml)" : null,
            Error: errors.Count > 0 ? string.Join(Environment.NewLine, errors) : null);
    }

    private sealed record CheckOutcome(long SourceKeys, long TargetKeys, IReadOnlyList<VerifyDifference> Differences, string? Error = null);

    private static async Task<CheckOutcome> CompareAsync(CheckFile check, Func<string, string> sourceConnectionString, string targetConnectionString, CancellationToken ct)
    {
        var source = new Dictionary<string, decimal>(StringComparer.Ordinal);
        Dictionary<string, decimal> target;
        try
        {
            foreach (var query in check.Sources)
                foreach (var (key, value) in await QueryAsync(check, query, sourceConnectionString(query.Source!), ct))
                    source[key] = source.GetValueOrDefault(key) + value;
            target = await QueryAsync(check, check.Target, targetConnectionString, ct);
        }
        catch (CheckFailedException e)
        {
            return new CheckOutcome(0, 0, [], e.Message);
        }

        var differences = new List<VerifyDifference>();
        foreach (var key in source.Keys.Union(target.Keys).Order(StringComparer.Ordinal))
        {
            var s = source.GetValueOrDefault(key);
            var t = target.GetValueOrDefault(key);
            if (Math.Abs(t - s) <= check.Tolerance) continue;
            differences.Add(new VerifyDifference(DifferenceKind.Indicator, $"{check.Name}: {key}", ["value"],
                new Dictionary<string, string?> { ["value"] = Show(s) },
                new Dictionary<string, string?> { ["value"] = Show(t) },
                $"difference {Show(t - s)}"));
        }
        return new CheckOutcome(source.Count, target.Count, differences);
    }

    /// <summary>The query's rows as key → value (a key given twice is summed, a NULL value is 0).</summary>
    private static async Task<Dictionary<string, decimal>> QueryAsync(CheckFile check, CheckQuery query, string connectionString, CancellationToken ct)
    {
        var rows = new Dictionary<string, decimal>(StringComparer.Ordinal);
        try
        {
            await using var conn = await PgConnect.OpenAsync(connectionString, ct);
            await using var cmd = new NpgsqlCommand(query.Sql, conn) { CommandTimeout = 0 };
            await using var r = await cmd.ExecuteReaderAsync(ct);
            if (r.FieldCount < 2)
                throw new CheckFailedException($"{Where(check, query.Line)}: the query of {query.Side} returns {r.FieldCount} column(s), expected key and value");
            while (await r.ReadAsync(ct))
            {
                var key = r.IsDBNull(0) ? "NULL" : Convert.ToString(r.GetValue(0), CultureInfo.InvariantCulture) ?? "";
                decimal value;
                try
                {
                    value = r.IsDBNull(1) ? 0 : Convert.ToDecimal(r.GetValue(1), CultureInfo.InvariantCulture);
                }
                catch (Exception e) when (e is InvalidCastException or FormatException or OverflowException)
                {
                    throw new CheckFailedException($"{Where(check, query.Line)}: the query of {query.Side} returns a value that is not a number for key '{key}' ({r.GetDataTypeName(1)})");
                }
                rows[key] = rows.GetValueOrDefault(key) + value;
            }
        }
        catch (PostgresException e) when (!ct.IsCancellationRequested)
        {
            var line = e.Position > 0 ? query.LineOf(e.Position) : query.Line;
            throw new CheckFailedException($"{Where(check, line)}: {query.Side}: {e.MessageText} (SQLSTATE {e.SqlState})");
        }
        catch (NpgsqlException e) when (!ct.IsCancellationRequested)
        {
            throw new CheckFailedException($"{Where(check, query.Line)}: {query.Side}: {e.Message}");
        }
        return rows;
    }

    private static string Where(CheckFile check, int line) => $"verify.checks: {check.Path}:{line}";

    private static string Show(decimal d) => d.ToString(CultureInfo.InvariantCulture);

    private sealed class CheckFailedException(string message) : Exception(message);
}
