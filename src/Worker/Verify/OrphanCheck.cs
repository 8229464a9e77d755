using System.Diagnostics;
using System.Globalization;
using Ferry.Shared.Metadata;
using Ferry.Shared.Sql;
using Ferry.Shared.Verify;
using Npgsql;

namespace Ferry.Worker.Verify;

/// <summary>One foreign key of the target, as the catalog has it (sql/verify/foreign_keys.sql).</summary>
public sealed record ForeignKey(
    string Name, string ChildSchema, string ChildTable, string ParentSchema, string ParentTable,
    IReadOnlyList<string> ChildColumns, IReadOnlyList<string> ParentColumns, IReadOnlyList<string> ChildKey,
    bool MatchFull, bool Validated, bool TriggerDisabled)
{
    public string Child => $"{ChildSchema}.{ChildTable}";
    public string Parent => $"{ParentSchema}.{ParentTable}";

    /// <summary>Whether PostgreSQL would stop a new orphan today; when not, orphans are expected to be possible.</summary>
    public bool Enforced => Validated && !TriggerDisabled;
}

/// <summary>
/// verify.orphans: for every foreign key of the schemas the BL transforms write, the child rows whose parent
/// is missing, whether or not PostgreSQL enforces the constraint (NOT VALID, triggers disabled, or
/// session_replication_role = replica during a load all let orphans in). A row with a NULL in its foreign key
/// is no orphan (MATCH SIMPLE; under MATCH FULL only an all-NULL key is exempt). Every orphan row is counted
/// (<see cref="VerifyResult.TargetRows"/>; per constraint in <see cref="VerifyResult.Note"/>), the first
/// <c>keysPerConstraint</c> of each constraint are listed by the child's primary key.
/// <see cref="VerifyResult.SourceRows"/> is the number of foreign keys checked.
/// </summary>
public static class OrphanCheck
{
    public const int DefaultKeysPerConstraint = 10;

    /// <summary>The foreign keys of every schema the migration's transforms write (unipacc for the demo).</summary>
    public static Task<VerifyResult> RunAsync(MigrationMetadata metadata, CancellationToken ct, int keysPerConstraint = DefaultKeysPerConstraint)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var schemas = metadata.Transforms.Select(t => t.Target.Schema).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        return RunAsync(metadata.Target.ToConnectionString(IndicatorChecks.ApplicationName), schemas, ct, keysPerConstraint);
    }

    public static async Task<VerifyResult> RunAsync(string targetConnectionString, IReadOnlyList<string> schemas, CancellationToken ct,
        int keysPerConstraint = DefaultKeysPerConstraint)
    {
        ArgumentNullException.ThrowIfNull(schemas);
        ArgumentOutOfRangeException.ThrowIfNegative(keysPerConstraint);
        var clock = Stopwatch.StartNew();
        var subject = schemas.Count == 0 ? "foreign keys (no target schema)" : $"foreign keys of {string.Join(", ", schemas)}";
        if (schemas.Count == 0)
            return new VerifyResult(VerifyProcesses.Orphans, subject, VerifyOutcome.Equal, 0, 0, [], clock.Elapsed,
                Note: "the migration has no BL transforms: no target schema to check");

        var stage = "read the foreign keys from pg_constraint";
        try
        {
            await using var conn = await PgConnect.OpenAsync(targetConnectionString, ct);
            var keys = await ForeignKeysAsync(conn, schemas, ct);
            var items = new List<VerifyDifference>();
            var notes = new List<string>();
            long orphans = 0;
            foreach (var fk in keys)
            {
                stage = $"look for orphans of {fk.Name} on {fk.Child}";
                var (count, found) = await OrphansAsync(conn, fk, keysPerConstraint, ct);
                orphans += count;
                items.AddRange(found);
                if (count > 0)
                    notes.Add($"{fk.Name} ({fk.Child}): {count.ToString("N0", CultureInfo.InvariantCulture)} orphan row{(count == 1 ? "" : "s")}"
                              + (count > found.Count ? $", first {found.Count} listed" : "")
                              + (fk.Enforced ? "" : fk.Validated ? ", its triggers are disabled" : ", NOT VALID"));
            }
            subject = $"{subject} ({keys.Count} foreign key{(keys.Count == 1 ? "" : "s")})";
            return new VerifyResult(VerifyProcesses.Orphans, subject, VerifyResult.OutcomeOf(items), keys.Count, orphans, items, clock.Elapsed,
                Note: notes.Count > 0 ? string.Join("; ", notes) : null);
        }
        catch (NpgsqlException e) when (!ct.IsCancellationRequested)
        {
            var cause = e is PostgresException pg ? $"{pg.MessageText} (SQLSTATE {pg.SqlState})" : e.Message;
            return VerifyResult.Failure(VerifyProcesses.Orphans, subject, $"{VerifyProcesses.Orphans}: {stage} failed: {cause}", clock.Elapsed);
        }
    }

    /// <summary>Every foreign key whose child table is in <paramref name="schemas"/>, by child table and name.</summary>
    public static async Task<IReadOnlyList<ForeignKey>> ForeignKeysAsync(NpgsqlConnection conn, IReadOnlyList<string> schemas, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(VerifySql.ForeignKeys, conn);
        cmd.Parameters.Add(new NpgsqlParameter { Value = schemas.ToArray() });
        var keys = new List<ForeignKey>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
            keys.Add(new ForeignKey(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4),
                r.GetFieldValue<string[]>(5), r.GetFieldValue<string[]>(6), r.GetFieldValue<string[]>(7),
                r.GetBoolean(8), r.GetBoolean(9), r.GetBoolean(10)));
        return keys;
    }

    /// <summary>How many child rows of <paramref name="fk"/> have no parent, and the first <paramref name="limit"/> of them by key.</summary>
    private static async Task<(long Count, List<VerifyDifference> Items)> OrphansAsync(NpgsqlConnection conn, ForeignKey fk, int limit, CancellationToken ct)
    {
        // Without a primary key the foreign key's own columns name the row.
        var named = fk.ChildKey.Count > 0 ? fk.ChildKey : fk.ChildColumns;
        string Child(string c) => "c." + SqlText.Ident(c);
        var join = string.Join(" AND ", fk.ChildColumns.Zip(fk.ParentColumns, (c, p) => $"p.{SqlText.Ident(p)} = {Child(c)}"));
        var missing = $"NOT EXISTS (SELECT 1 FROM {SqlText.Qualified(fk.ParentSchema, fk.ParentTable)} p WHERE {join})";
        var allSet = string.Join(" AND ", fk.ChildColumns.Select(c => $"{Child(c)} IS NOT NULL"));
        var anySet = string.Join(" OR ", fk.ChildColumns.Select(c => $"{Child(c)} IS NOT NULL"));
        // MATCH SIMPLE: a NULL anywhere exempts the row. MATCH FULL: only all NULL does; a partly NULL key is itself an orphan.
        var orphan = fk.MatchFull && fk.ChildColumns.Count > 1
            ? $"({anySet}) AND (NOT ({allSet}) OR {missing})"
            : $"{allSet} AND {missing}";
        var shown = named.Concat(fk.ChildColumns).ToList();
        var sql = $"SELECT {string.Join(", ", shown.Select(c => Child(c) + "::text"))}, count(*) OVER () " +
                  $"FROM {SqlText.Qualified(fk.ChildSchema, fk.ChildTable)} c WHERE {orphan} " +
                  $"ORDER BY {string.Join(", ", named.Select(Child))} LIMIT $1";
        await using var cmd = new NpgsqlCommand(sql, conn) { CommandTimeout = 0 };
        cmd.Parameters.Add(new NpgsqlParameter { Value = Math.Max(limit, 1) });
        var items = new List<VerifyDifference>();
        long count = 0;
        var detail = $"{fk.Name}: parent {fk.Parent} ({string.Join(", ", fk.ParentColumns)}) missing";
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            count = r.GetInt64(shown.Count);
            if (items.Count >= limit) continue;
            string? Text(int i) => r.IsDBNull(i) ? null : r.GetString(i);
            var key = string.Join(", ", named.Select((c, i) => $"{c}={Text(i) ?? "NULL"}"));
            // The foreign key's values, as the child row holds them (what points at the missing parent).
            var values = new Dictionary<string, string?>();
            for (var i = 0; i < fk.ChildColumns.Count; i++) values[fk.ChildColumns[i]] = Text(named.Count + i);
            items.Add(new VerifyDifference(DifferenceKind.Orphan, $"{fk.Child} {key}", fk.ChildColumns, Target: values, Detail: detail));
        }
        return (count, items);
    }
}
