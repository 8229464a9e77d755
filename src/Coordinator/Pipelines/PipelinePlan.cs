using Ferry.Shared.Bl;
using Ferry.Shared.Metadata;

namespace Ferry.Coordinator.Pipelines;

/// <summary>
/// What a run will do: stages in sequence, the processes of a stage in parallel. <see cref="Pipeline"/>
/// is set when the run names exactly one pipeline (its key_sweep then applies). <see cref="Upstream"/> holds,
/// for each BL process of the plan with BL parents in the plan, those parents in plan order: a process
/// whose parent failed is skipped, since its rows would only fail on the parent's foreign keys.
/// </summary>
public sealed record PipelinePlan(string Name, IReadOnlyList<IReadOnlyList<string>> Stages, PipelineDefinition? Pipeline,
    IReadOnlyDictionary<string, IReadOnlyList<string>> Upstream)
{
    /// <summary>
    /// Resolves run targets in the order given: a pipeline name adds its steps (one stage each), a group
    /// name adds one stage, and consecutive process ids or patterns form one stage. A process already
    /// planned in an earlier stage is not planned again (it runs once per pipeline run). Throws
    /// <see cref="ArgumentException"/> with a message for the user when a target names nothing.
    /// </summary>
    /// <remarks>
    /// A stage that holds BL processes runs them after the stage's other processes (STG and files, whose
    /// tables BL reads), in stages of their own level by level in the order of <see cref="TransformPlan"/>: declared depends and
    /// <paramref name="foreignKeys"/> of the target (null: declared depends only). A dependency cycle
    /// among the transforms is an <see cref="ArgumentException"/> naming its tables.
    /// </remarks>
    public static PipelinePlan Resolve(MigrationMetadata metadata, IReadOnlyList<string> targets,
        IReadOnlyList<(QualifiedName Child, QualifiedName Parent, string Constraint)>? foreignKeys = null)
    {
        var names = targets.Select(t => t.Trim()).Where(t => t.Length > 0).ToList();
        if (names.Count == 0)
            throw new ArgumentException($"nothing to run: name a pipeline, a group or process ids ({Known(metadata)})");

        var stages = new List<IReadOnlyList<string>>();
        var patterns = new List<string>();
        void FlushPatterns()
        {
            if (patterns.Count == 0) return;
            stages.Add(ProcessSelector.Select(metadata, patterns).ToList());
            patterns.Clear();
        }

        foreach (var target in names)
        {
            if (metadata.FindPipeline(target) is { } pipeline)
            {
                FlushPatterns();
                stages.AddRange(pipeline.Steps.Select(s => s.ProcessIds));
            }
            else if (metadata.FindGroup(target) is { } group)
            {
                FlushPatterns();
                stages.Add(group.ProcessIds);
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
        var plan = stages.Select(s => (IReadOnlyList<string>)s.Where(planned.Add).ToList()).Where(s => s.Count > 0).ToList();
        IReadOnlyDictionary<string, IReadOnlyList<string>> upstream = new Dictionary<string, IReadOnlyList<string>>();
        if (plan.Any(g => g.Any(id => metadata.FindTransform(id) is not null)))
        {
            var order = BlOrder(metadata, foreignKeys ?? []);
            plan = InBlOrder(plan, Levels(order));
            upstream = UpstreamOf(plan, order);
        }
        var single = names.Count == 1 ? metadata.FindPipeline(names[0]) : null;
        return new PipelinePlan(string.Join(" ", names), plan, single, upstream);
    }

    /// <summary>Whether the targets name any BL process (then its order needs the target's foreign keys).</summary>
    public bool HasTransforms(MigrationMetadata metadata) => Stages.Any(s => s.Any(id => metadata.FindTransform(id) is not null));

    private static TransformPlan BlOrder(MigrationMetadata metadata, IReadOnlyList<(QualifiedName Child, QualifiedName Parent, string Constraint)> foreignKeys)
    {
        try
        {
            return TransformPlan.Build(metadata.Transforms, foreignKeys);
        }
        catch (TransformFileException e)
        {
            throw new ArgumentException($"the business layer cannot be ordered: {e.Message}", e);
        }
    }

    /// <summary>BL process id → its level in the transform plan (0 = no BL parent).</summary>
    private static Dictionary<string, int> Levels(TransformPlan order)
    {
        var levels = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < order.Levels.Count; i++)
            foreach (var t in order.Levels[i]) levels[t.ProcessId] = i;
        return levels;
    }

    /// <summary>
    /// Each planned BL process → its planned BL parents (declared depends and foreign keys), in plan order.
    /// A parent left out of the plan is not run, so its rows stay as they were: it never causes a skip.
    /// </summary>
    private static Dictionary<string, IReadOnlyList<string>> UpstreamOf(List<IReadOnlyList<string>> plan, TransformPlan order)
    {
        var position = plan.SelectMany(s => s).Select((id, i) => (id, i)).ToDictionary(x => x.id, x => x.i, StringComparer.Ordinal);
        var processOf = order.Levels.SelectMany(l => l).ToDictionary(t => t.Target, t => t.ProcessId);
        var upstream = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var child in order.Dependencies.GroupBy(d => processOf[d.Table]))
        {
            if (!position.ContainsKey(child.Key)) continue;
            var parents = child.Select(d => processOf[d.DependsOn]).Distinct()
                .Where(position.ContainsKey).OrderBy(p => position[p]).ToList();
            if (parents.Count > 0) upstream[child.Key] = parents;
        }
        return upstream;
    }

    /// <summary>Each stage's non-BL processes first, then its BL processes one level after another.</summary>
    private static List<IReadOnlyList<string>> InBlOrder(List<IReadOnlyList<string>> stages, Dictionary<string, int> levels)
    {
        var result = new List<IReadOnlyList<string>>();
        foreach (var stage in stages)
        {
            var others = stage.Where(id => !levels.ContainsKey(id)).ToList();
            if (others.Count > 0) result.Add(others);
            result.AddRange(stage.Where(levels.ContainsKey).GroupBy(id => levels[id]).OrderBy(g => g.Key)
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
