using System.Text.RegularExpressions;
using Cronos;
using Ferry.Shared.Stg;

namespace Ferry.Shared.Metadata;

/// <summary>A named set of processes that run in parallel (<c>groups:</c> in pipelines.yaml), as written and as resolved.</summary>
public sealed record ProcessGroup(string Name, IReadOnlyList<string> Patterns, IReadOnlyList<string> ProcessIds);

/// <summary>One step of a pipeline: the processes of one or more groups, all in parallel.</summary>
public sealed record PipelineStep(IReadOnlyList<ProcessGroup> Groups)
{
    public string Name => string.Join(" + ", Groups.Select(g => g.Name));

    /// <summary>Every process of the step's groups, once, in the order written.</summary>
    public IReadOnlyList<string> ProcessIds => Groups.SelectMany(g => g.ProcessIds).Distinct(StringComparer.Ordinal).ToList();
}

/// <summary>
/// A pipeline: steps run in sequence, each step's processes in parallel. <see cref="Schedule"/> is a
/// 5-field cron expression in UTC (checked when the metadata loads); <see cref="Mode"/> and
/// <see cref="KeySweep"/> apply to its scheduled runs.
/// </summary>
public sealed record PipelineDefinition(
    string Name,
    IReadOnlyList<PipelineStep> Steps,
    string? Schedule = null,
    RunMode Mode = RunMode.Incremental,
    bool? KeySweep = null,
    string? File = null)
{
    public IEnumerable<ProcessGroup> Groups => Steps.SelectMany(s => s.Groups);

    public CronExpression? Cron => Schedule is null ? null : CronExpression.Parse(Schedule, CronFormat.Standard);
}

/// <summary>metadata/pipelines.yaml: optional; without it there are no pipelines (processes still run by id).</summary>
public static class PipelinesFile
{
    public const string FileName = "pipelines.yaml";

    /// <summary>The named group, wherever a pipeline uses it.</summary>
    public static ProcessGroup? FindGroup(this MigrationMetadata metadata, string name) =>
        metadata.Pipelines.SelectMany(p => p.Groups).FirstOrDefault(g => g.Name == name);

    public static PipelineDefinition? FindPipeline(this MigrationMetadata metadata, string name) =>
        metadata.Pipelines.FirstOrDefault(p => p.Name == name);
}

/// <summary>
/// A process id or a pattern of one, as users type them: <c>stg.qvp.users</c>, <c>stg.qvp.*</c>,
/// <c>stg.*.users</c>, <c>*</c> (<c>?</c> is one character). The same rules as the CLI's process selection.
/// </summary>
public static class ProcessPattern
{
    public static bool IsPattern(string text) => text.Contains('*') || text.Contains('?');

    public static Regex ToRegex(string pattern) =>
        new("^" + Regex.Escape(pattern).Replace("\\*", "[^ ]*").Replace("\\?", ".") + "$", RegexOptions.CultureInvariant);

    /// <summary>The process ids that <paramref name="pattern"/> names, in the order given.</summary>
    public static IReadOnlyList<string> Match(string pattern, IEnumerable<string> processIds)
    {
        var regex = ToRegex(pattern);
        return processIds.Where(id => regex.IsMatch(id)).ToList();
    }
}
