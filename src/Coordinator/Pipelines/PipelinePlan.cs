using Ferry.Shared.Bl;
using Ferry.Shared.Metadata;

namespace Ferry.Coordinator.Pipelines;

/// <summary>
/// What a run will do: groups in sequence, the processes of a group in parallel. <see cref="Pipeline"/>
/// is set when the run names exactly one pipeline (its key_sweep then applies).
/// </summary>
public sealed record PipelinePlan(string Name, IReadOnlyList<IReadOnlyList<string>> Groups, PipelineDefinition? Pipeline)
{
    /// <summary>
    /// Resolves run targets in the order given: a pipeline name adds its steps, a group name adds one
    /// group, and consecutive process ids or patterns form one group. A process already planned in an
    /// earlier group is not planned again (it runs once per pipeline run). Throws
    /// <see cref="ArgumentException"/> with a message for the user when a target names nothing.
    /// </summary>
    /// <remarks>
    /// A step that holds BL processes runs them after the step's other processes (STG and files, whose
    /// tables BL reads), level by level in the order of <see cref="TransformPlan"/>: declared depends and
    /// <paramref name="foreignKeys"/> of the target (null: declared depends only). A dependency cycle
    /// among the transforms is an <see cref="ArgumentException"/> naming its tables.
    /// </remarks>
    public static PipelinePlan Resolve(MigrationMetadata metadata, IReadOnlyList<string> targets,
        IReadOnlyList<(QualifiedName Child, QualifiedName Parent, string Constraint)>? foreignKeys = null)
    {
        var names = targets.Select(t => t.Trim()).Where(t => t.Length > 0).ToList();
        if (names.Count == 0)
            throw new ArgumentException($"nothing to run: name a pipeline, a group or process ids ({Known(metadata)})");

        var groups = new List<IReadOnlyList<string>>();
        var patterns = new List<string>();
        void FlushPatterns()
        {
            if (patterns.Count == 0) return;
            groups.Add(ProcessSelector.Select(metadata, patterns).ToList());
            patterns.Clear();
        }

        foreach (var target in names)
        {
            if (metadata.FindPipeline(target) is { } pipeline)
            {
                FlushPatterns();
                groups.AddRange(pipeline.Steps.Select(s => s.ProcessIds));
            }
            else if (metadata.FindGroup(target) is { } group)
            {
                FlushPatterns();
                groups.Add(group.ProcessIds);
            }
            else if (!target.Contains('.') && !ProcessPattern.IsPattern(target))
            {
                // Process ids always have dots: this was meant as a pipeline or a group.
                var named = metadata.Pipelines.Select(p => p.Name).Concat(metadata.Pipelines.SelectMany(p => p.Groups).Select(g => g.Name)).Distinct().ToList();
                var suggestion = NameSuggestion.Closest(target, named);
                throw new ArgumentException($"no pipeline or group is named '{target}' ({(suggestion is null ? "" : $"did you mean '{suggestion}'? ")}{Known(metadata)})");
            }
            else
            {
                patterns.Add(target);
            }
        }
        FlushPatterns();

        var planned = new HashSet<string>(StringComparer.Ordinal);
        var plan = groups.Select(g => (IReadOnlyList<string>)g.Where(planned.Add).ToList()).Where(g => g.Count > 0).ToList();
        if (plan.Any(g => g.Any(id => metadata.FindTransform(id) is not null)))
            plan = InBlOrder(plan, BlLevels(metadata, foreignKeys ?? []));
        var single = names.Count == 1 ? metadata.FindPipeline(names[0]) : null;
        return new PipelinePlan(string.Join(" ", names), plan, single);
    }

    /// <summary>Whether the targets name any BL process (then its order needs the target's foreign keys).</summary>
    public bool HasTransforms(MigrationMetadata metadata) => Groups.Any(g => g.Any(id => metadata.FindTransform(id) is not null));

    /// <summary>BL process id → its level in the transform plan (0 = no BL parent).</summary>
    private static Dictionary<string, int> BlLevels(MigrationMetadata metadata,
        IReadOnlyList<(QualifiedName Child, QualifiedName Parent, string Constraint)> foreignKeys)
    {
        TransformPlan order;
        try
        {
            order = TransformPlan.Build(metadata.Transforms, foreignKeys);
        }
        catch (TransformFileException e)
        {
            throw new ArgumentException($"the business layer cannot be ordered: {e.Message}", e);
        }
        var levels = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < order.Levels.Count; i++)
            foreach (var t in order.Levels[i]) levels[t.ProcessId] = i;
        return levels;
    }

    /// <summary>Each step's non-BL processes first, then its BL processes one level after another.</summary>
    private static List<IReadOnlyList<string>> InBlOrder(List<IReadOnlyList<string>> steps, Dictionary<string, int> levels)
    {
        var result = new List<IReadOnlyList<string>>();
        foreach (var step in steps)
        {
            var others = step.Where(id => !levels.ContainsKey(id)).ToList();
            if (others.Count > 0) result.Add(others);
            result.AddRange(step.Where(levels.ContainsKey).GroupBy(id => levels[id]).OrderBy(g => g.Key)
                .Select(g => (IReadOnlyList<string>)g.ToList()));
        }
        return result;
    }

    private static string Known(MigrationMetadata metadata)
    {
        var pipelines = metadata.Pipelines.Select(p => p.Name).ToList();
        var groups = metadata.Pipelines.SelectMany(p => p.Groups).Select(g => g.Name).Distinct().ToList();
        return $"pipelines: {(pipelines.Count == 0 ? "none" : string.Join(", ", pipelines))}; groups: {(groups.Count == 0 ? "none" : string.Join(", ", groups))}";
    }
}
