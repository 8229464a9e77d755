using Ferry.Shared.Metadata;
using Npgsql;

namespace Ferry.Shared.Bl;

/// <summary>Why one target table runs after another.</summary>
public sealed record TransformDependency(QualifiedName Table, QualifiedName DependsOn, string Reason);

/// <summary>
/// The order of the BL transforms: levels of tables, every table after the tables it depends on
/// (declared <c>depends</c> and the target's foreign keys); the tables of one level can run in parallel.
/// </summary>
public sealed record TransformPlan(IReadOnlyList<IReadOnlyList<TransformFile>> Levels, IReadOnlyList<TransformDependency> Dependencies)
{
    /// <summary>The plan with the foreign keys read from the target database (pg_constraint).</summary>
    public static async Task<TransformPlan> BuildAsync(IReadOnlyList<TransformFile> files, string targetConnectionString, CancellationToken ct)
    {
        await using var conn = await PgConnect.OpenAsync(targetConnectionString, ct);
        return Build(files, await ReadForeignKeysAsync(conn, ct));
    }

    /// <summary>The target's foreign keys, read over a connection of their own.</summary>
    public static async Task<IReadOnlyList<(QualifiedName Child, QualifiedName Parent, string Constraint)>> ReadForeignKeysAsync(string connectionString, CancellationToken ct)
    {
        await using var conn = await PgConnect.OpenAsync(connectionString, ct);
        return await ReadForeignKeysAsync(conn, ct);
    }

    /// <summary>Child table → referenced table, for every foreign key between two different tables.</summary>
    public static async Task<IReadOnlyList<(QualifiedName Child, QualifiedName Parent, string Constraint)>> ReadForeignKeysAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("""
            SELECT cn.nspname, c.relname, pn.nspname, p.relname, k.conname
            FROM pg_constraint k
            JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace cn ON cn.oid = c.relnamespace
            JOIN pg_class p ON p.oid = k.confrelid JOIN pg_namespace pn ON pn.oid = p.relnamespace
            WHERE k.contype = 'f' AND k.conrelid <> k.confrelid
            ORDER BY 1, 2, 5
            """, conn);
        var result = new List<(QualifiedName, QualifiedName, string)>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
            result.Add((new QualifiedName(r.GetString(0), r.GetString(1)), new QualifiedName(r.GetString(2), r.GetString(3)), r.GetString(4)));
        return result;
    }

    public static TransformPlan Build(IReadOnlyList<TransformFile> files, IReadOnlyList<(QualifiedName Child, QualifiedName Parent, string Constraint)> foreignKeys)
    {
        var byTarget = new Dictionary<QualifiedName, TransformFile>();
        foreach (var f in files)
            if (!byTarget.TryAdd(f.Target, f))
                throw new TransformFileException($"{f.FileName}: target {Show(f.Target)} is also the target of {byTarget[f.Target].FileName}");

        var dependencies = new List<TransformDependency>();
        foreach (var f in files)
            foreach (var d in f.Depends)
            {
                var name = d.Contains('.') && QualifiedName.TryParse(d, out var q, out _) ? q : new QualifiedName(f.Target.Schema, d);
                if (!byTarget.ContainsKey(name))
                    throw new TransformFileException($"{f.FileName}: depends on '{d}', which no transform targets");
                if (name != f.Target)
                    dependencies.Add(new TransformDependency(f.Target, name, "depends"));
            }
        foreach (var (child, parent, constraint) in foreignKeys)
            if (byTarget.ContainsKey(child) && byTarget.ContainsKey(parent) && child != parent)
                dependencies.Add(new TransformDependency(child, parent, $"foreign key {constraint}"));

        var parents = byTarget.Keys.ToDictionary(k => k, _ => new HashSet<QualifiedName>());
        foreach (var d in dependencies) parents[d.Table].Add(d.DependsOn);

        var levels = new List<IReadOnlyList<TransformFile>>();
        var done = new HashSet<QualifiedName>();
        while (done.Count < byTarget.Count)
        {
            var ready = byTarget.Keys.Where(t => !done.Contains(t) && parents[t].All(done.Contains))
                .OrderBy(Show, StringComparer.Ordinal).ToList();
            if (ready.Count == 0)
                throw new TransformFileException($"dependency cycle: {string.Join(" → ", FindCycle(parents, done).Select(Show))}");
            levels.Add(ready.Select(t => byTarget[t]).ToList());
            done.UnionWith(ready);
        }
        return new TransformPlan(levels, dependencies);
    }

    /// <summary>A cycle among the tables not yet placed (each of them waits on another of them), first table repeated at the end.</summary>
    private static List<QualifiedName> FindCycle(Dictionary<QualifiedName, HashSet<QualifiedName>> parents, HashSet<QualifiedName> done)
    {
        var path = new List<QualifiedName>();
        var current = parents.Keys.Where(t => !done.Contains(t)).OrderBy(Show, StringComparer.Ordinal).First();
        while (!path.Contains(current))
        {
            path.Add(current);
            current = parents[current].Where(p => !done.Contains(p)).OrderBy(Show, StringComparer.Ordinal).First();
        }
        var cycle = path.Skip(path.IndexOf(current)).ToList();
        cycle.Add(current);
        return cycle;
    }

    public static string Show(QualifiedName name) => $"{name.Schema}.{name.Name}";
}
