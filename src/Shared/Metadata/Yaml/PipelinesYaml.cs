using System.Text.RegularExpressions;
using Cronos;
using Ferry.Shared.Stg;

namespace Ferry.Shared.Metadata.Yaml;

/// <summary>
/// Reads metadata/pipelines.yaml: named groups of processes (ids or patterns, run in parallel) and
/// pipelines (steps of one or more groups, run in sequence) with an optional cron schedule.
/// </summary>
internal static partial class PipelinesYaml
{
    private static readonly string[] RootKeys = ["groups", "pipelines"];
    private static readonly string[] PipelineKeys = ["groups", "schedule", "mode", "key_sweep"];
    private static readonly Dictionary<string, RunMode> Modes = new(StringComparer.Ordinal)
    {
        ["incremental"] = RunMode.Incremental, ["bulk"] = RunMode.Bulk,
    };

    /// <summary>No dots, so a group or pipeline name can never be mistaken for a process id.</summary>
    [GeneratedRegex("^[A-Za-z0-9_-]+$")]
    private static partial Regex SimpleName();

    /// <param name="processIdsComplete">
    /// False when a file that defines processes did not load (its errors are already reported): a reference
    /// that matches none of <paramref name="processIds"/> may then name one of its processes, so it is not reported.
    /// </param>
    public static IReadOnlyList<PipelineDefinition> Read(string file, YNode? document, IReadOnlyList<string> processIds, bool processIdsComplete,
        ICollection<MetadataError> errors, MetadataSourceMap positions)
    {
        if (document is null) return [];
        if (document is not YMapping map)
        {
            errors.Add(new MetadataError(file, document.Start.Line, document.Start.Column, $"expected key: value lines (groups, pipelines), found {document.Kind}"));
            return [];
        }
        var before = errors.Count;
        var f = new MappingFields(map, file, errors, null, RootKeys);

        var groups = new Dictionary<string, (ProcessGroup Group, TextPosition At)>(StringComparer.Ordinal);
        var groupsMap = f.Mapping("groups");
        if (groupsMap is not null)
        {
            foreach (var (key, value) in groupsMap.Entries)
            {
                positions.Add(file, $"groups.{key.Value}", key.Start.Line, key.Start.Column);
                if (!CheckName(f, key, "group")) continue;
                if (ReadGroup(f, key.Value, value, processIds, processIdsComplete) is { } group)
                    groups[key.Value] = (group, key.Start);
            }
        }

        var pipelines = new List<PipelineDefinition>();
        var used = new HashSet<string>(StringComparer.Ordinal);
        if (f.Mapping("pipelines") is { } pipelinesMap)
        {
            foreach (var (key, value) in pipelinesMap.Entries)
            {
                var name = key.Value;
                positions.Add(file, $"pipelines.{name}", key.Start.Line, key.Start.Column);
                if (!CheckName(f, key, "pipeline")) continue;
                if (groupsMap?.Entries.FirstOrDefault(e => e.Key.Value == name).Key is { } clash)
                {
                    f.Error(key.Start, $"pipeline '{name}' has the name of the group on line {clash.Start.Line} (a run names a pipeline or a group: give one of them another name)");
                    continue;
                }
                if (value is not YMapping pipelineMap)
                {
                    f.Error(value.Start, $"'pipelines.{name}' must be a mapping (groups, schedule, mode), found {value.Kind}");
                    continue;
                }
                if (ReadPipeline(file, name, pipelineMap, groups, used, errors) is { } pipeline)
                    pipelines.Add(pipeline);
            }
        }

        // Groups reach the runner only through the pipelines that use them (MigrationMetadata.Pipelines),
        // so a group no pipeline uses could never run by name: say so rather than ignore it.
        foreach (var (name, (_, at)) in groups)
            if (!used.Contains(name))
                f.Error(at, $"group '{name}' is not used by any pipeline (use it in one, or remove it)");

        return errors.Count == before ? pipelines : [];
    }

    private static bool CheckName(MappingFields f, YScalar key, string what)
    {
        if (SimpleName().IsMatch(key.Value)) return true;
        f.Error(key.Start, $"{what} name '{key.Value}' must be letters, digits, '_' and '-' (no dots: those are process ids)");
        return false;
    }

    private static ProcessGroup? ReadGroup(MappingFields f, string name, YNode value, IReadOnlyList<string> processIds, bool processIdsComplete)
    {
        IReadOnlyList<YNode>? items = value switch
        {
            YSequence seq => seq.Items,
            YScalar { IsNull: false } s => [s],
            _ => null,
        };
        if (items is null)
        {
            f.Error(value.Start, $"'groups.{name}' must be a list of process ids or patterns (stg.qvp.users, stg.qvp.*), found {value.Kind}");
            return null;
        }
        if (items.Count == 0)
        {
            f.Error(value.Start, $"'groups.{name}' is empty: name at least one process id or pattern");
            return null;
        }
        var ok = true;
        var patterns = new List<string>();
        var ids = new List<string>();
        foreach (var item in items)
        {
            if (item is not YScalar { IsNull: false } s || s.Value.Trim().Length == 0)
            {
                f.Error(item.Start, $"'groups.{name}' must contain process ids or patterns, found {(item is YScalar ? "an empty entry" : item.Kind)}");
                ok = false;
                continue;
            }
            var pattern = s.Value.Trim();
            if (patterns.Contains(pattern))
            {
                f.Error(s.Start, $"'groups.{name}' names '{pattern}' twice");
                ok = false;
                continue;
            }
            patterns.Add(pattern);
            var matches = ProcessPattern.Match(pattern, processIds);
            if (matches.Count == 0 && !processIdsComplete) continue;
            if (matches.Count == 0)
            {
                var suggestion = ProcessPattern.IsPattern(pattern) ? null : NameSuggestion.Closest(pattern, processIds);
                f.Error(s.Start, $"'groups.{name}': '{pattern}' matches no process" +
                    (suggestion is null ? $" (process ids look like {processIds.FirstOrDefault() ?? "stg.<source>.<table>"})" : $" (did you mean '{suggestion}'?)"));
                ok = false;
                continue;
            }
            ids.AddRange(matches.Where(m => !ids.Contains(m)));
        }
        return ok ? new ProcessGroup(name, patterns, ids) : null;
    }

    private static PipelineDefinition? ReadPipeline(string file, string name, YMapping map,
        Dictionary<string, (ProcessGroup Group, TextPosition At)> groups, HashSet<string> used, ICollection<MetadataError> errors)
    {
        var before = errors.Count;
        var section = $"pipelines.{name}";
        var f = new MappingFields(map, file, errors, section, PipelineKeys);

        var steps = new List<PipelineStep>();
        var node = f.Node("groups");
        if (node is null) f.Missing("groups");
        IReadOnlyList<YNode>? items = node switch
        {
            null => null,
            YSequence seq => seq.Items,
            YScalar s => [s],
            _ => null,
        };
        if (node is not null && items is null)
            f.Error(node.Start, $"'{section}.groups' must be a list of group names (a nested list runs those groups together), found {node.Kind}");
        else if (items is { Count: 0 })
            f.Error(node!.Start, $"'{section}.groups' is empty: name at least one group");
        var inPipeline = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in items ?? [])
        {
            IReadOnlyList<YNode>? names = item switch
            {
                YScalar { IsNull: false } s => [s],
                YSequence { Items.Count: > 0 } together => together.Items,
                _ => null,
            };
            if (names is null)
            {
                f.Error(item.Start, $"'{section}.groups' must contain group names or lists of them, found {(item is YSequence ? "an empty list" : item is YScalar ? "an empty entry" : item.Kind)}");
                continue;
            }
            var stepGroups = new List<ProcessGroup>();
            foreach (var n in names)
            {
                if (n is not YScalar { IsNull: false } g)
                {
                    f.Error(n.Start, $"'{section}.groups' must contain group names, found {n.Kind}");
                    continue;
                }
                used.Add(g.Value);
                if (!groups.TryGetValue(g.Value, out var group))
                {
                    var suggestion = NameSuggestion.Closest(g.Value, groups.Keys);
                    var known = groups.Count == 0 ? "no groups are defined" : $"defined: {string.Join(", ", groups.Keys)}";
                    f.Error(g.Start, $"'{section}.groups': unknown group '{g.Value}' ({(suggestion is null ? "" : $"did you mean '{suggestion}'? ")}{known})");
                    continue;
                }
                if (!inPipeline.Add(g.Value))
                {
                    f.Error(g.Start, $"'{section}.groups' names group '{g.Value}' twice");
                    continue;
                }
                stepGroups.Add(group.Group);
            }
            if (stepGroups.Count > 0) steps.Add(new PipelineStep(stepGroups));
        }

        string? schedule = null;
        if (f.String("schedule") is { } cron)
        {
            try
            {
                CronExpression.Parse(cron, CronFormat.Standard);
                schedule = cron.Trim();
            }
            catch (CronFormatException e)
            {
                f.Error(f.Node("schedule")!.Start,
                    $"'{section}.schedule' is not a 5-field cron expression (minute hour day-of-month month day-of-week, UTC; e.g. \"0 2 * * *\"): '{cron}': {e.Message.TrimEnd('.')}");
            }
        }

        var mode = RunMode.Incremental;
        if (f.String("mode") is { } m)
        {
            if (Modes.TryGetValue(m, out var parsed)) mode = parsed;
            else f.Error(f.Node("mode")!.Start, $"'{section}.mode' must be incremental or bulk, found '{m}'");
        }
        var keySweep = f.Bool("key_sweep");

        return errors.Count == before ? new PipelineDefinition(name, steps, schedule, mode, keySweep, file) : null;
    }
}
