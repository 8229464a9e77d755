using Ferry.Shared.Metadata;

namespace Ferry.Coordinator.Pipelines;

/// <summary>
/// Turns what a user types (`stg.qvp.users`, `stg.qvp.*`, `stg.*.users`, `*`) into processes, in
/// metadata order. A name that matches nothing is an error, not an empty run.
/// </summary>
public static class ProcessSelector
{
    public static IReadOnlyList<SourceTable> Select(MigrationMetadata metadata, IEnumerable<string> patterns)
    {
        var selected = new List<SourceTable>();
        var unknown = new List<string>();
        foreach (var pattern in patterns)
        {
            var regex = ProcessPattern.ToRegex(pattern);
            var matches = metadata.Tables.Where(t => regex.IsMatch(t.ProcessId)).ToList();
            if (matches.Count == 0) unknown.Add(pattern);
            selected.AddRange(matches.Where(m => !selected.Contains(m)));
        }
        if (unknown.Count > 0)
        {
            var known = string.Join(", ", metadata.Tables.Select(t => t.ProcessId).Take(12));
            throw new ArgumentException($"no process matches {string.Join(", ", unknown)} (known: {known}{(metadata.Tables.Count > 12 ? ", …" : "")})");
        }
        return selected;
    }
}
