using System.Globalization;
using System.Text.RegularExpressions;
using Ferry.Shared.Sql;
using Npgsql;

namespace Ferry.Worker.Stg;

/// <summary>
/// Drops load tables that crashed runs left in stg_load. A run drops its own after its merge (or when its load
/// or merge fails), but a worker killed between load and merge, or a run abandoned for good, leaves one behind,
/// unlogged and holding a whole table's changes. Every load table's name ends with its run id, which starts with
/// the run's start time, so a table whose run started more than <see cref="MaxAge"/> ago is stale. Dropping one
/// whose run is still waiting to merge costs that run a reload of its files (the merge finds the table missing
/// and loads again), never a wrong merge; a table still in use is skipped (a short lock timeout), not waited for.
/// </summary>
public static partial class LoadTableSweep
{
    /// <summary>No run spends a day between its load and its merge; one that did reloads its files.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromHours(24);

    [GeneratedRegex(@"__(\d{8}t\d{6}z)-[0-9a-f]{6}(__keys)?$")]
    private static partial Regex RunIdTail();

    /// <summary>When the run of a load table started, from its name; null for a name that is not a load table's.</summary>
    public static DateTimeOffset? RunStartOf(string loadTableName) =>
        RunIdTail().Match(loadTableName) is { Success: true } m
        && DateTimeOffset.TryParseExact(m.Groups[1].Value, "yyyyMMdd't'HHmmss'z'", CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at)
            ? at : null;

    /// <summary>Whether <paramref name="loadTableName"/> is a load table whose run started before <paramref name="now"/> − <paramref name="maxAge"/>.</summary>
    public static bool IsStale(string loadTableName, DateTimeOffset now, TimeSpan maxAge) =>
        RunStartOf(loadTableName) is { } started && now - started > maxAge;

    /// <summary>Drops the stale load tables; returns the names dropped. A table another session holds (or that cannot be dropped) is left for the next sweep.</summary>
    public static async Task<IReadOnlyList<string>> SweepAsync(NpgsqlConnection conn, DateTimeOffset now, TimeSpan maxAge, CancellationToken ct)
    {
        var names = new List<string>();
        await using (var cmd = new NpgsqlCommand(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'", conn)
        { Parameters = { new() { Value = Loader.LoadSchema } } })
        await using (var r = await cmd.ExecuteReaderAsync(ct))
            while (await r.ReadAsync(ct))
                if (IsStale(r.GetString(0), now, maxAge)) names.Add(r.GetString(0));

        var dropped = new List<string>();
        foreach (var name in names)
        {
            await using var tx = await conn.BeginTransactionAsync(ct);
            try
            {
                await conn.ExecAsync("SET LOCAL lock_timeout = '200ms'", ct);
                await conn.ExecAsync($"DROP TABLE IF EXISTS {SqlText.Qualified(Loader.LoadSchema, name)}", ct);
                await tx.CommitAsync(ct);
                dropped.Add(name);
            }
            catch (PostgresException)
            {
                // In use (lock timeout), or not ours to drop: the sweep is housekeeping and never fails the load that runs it.
                await tx.RollbackAsync(ct);
            }
        }
        return dropped;
    }
}
