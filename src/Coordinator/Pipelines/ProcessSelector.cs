using Ferry.Shared.Metadata;

namespace Ferry.Coordinator.Pipelines;

/// <summary>
/// Turns what a user types (`stg.qvp.users`, `stg.qvp.*`, `stg.*.users`, `*`) into processes, in
/// metadata order. A name that matches nothing is an error, not an empty run.
/// </summary>
public static class ProcessSelector
{
    public static IReadOnlyList<string> Select(MigrationMetadata metadata, IEnumerable<string> patterns)
    {
        var all = metadata.ProcessIds;
        var selected = new List<string>();
        var unknown = new List<string>();
        foreach (var pattern in patterns)
        {
            var regex = ProcessPattern.ToRegex(pattern);
            var matches = all.Where(id => regex.IsMatch(id)).ToList();
            if (matches.Count == 0) unknown.Add(pattern);
            selected.AddRange(matches.Where(m => !selected.Contains(m)));
        }
        if (unknown.Count > 0)
        {
            var known = string.Join(", ", all.Take(12));
            throw new ArgumentException($"no process matches {string.Join(", ", unknown)} (known: {known}{(all.Count > 12 ? ", …" : "")})");
        }
        return selected;
    }
}
