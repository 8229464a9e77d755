using Cronos;
using Ferry.Shared.Metadata;

namespace Ferry.Coordinator.Pipelines;

/// <summary>When a scheduled pipeline runs: its cron expression (5 fields, UTC) read from the metadata.</summary>
public sealed record PipelineSchedule(PipelineDefinition Pipeline, CronExpression Cron)
{
    public static IReadOnlyList<PipelineSchedule> Of(Ferry.Shared.Metadata.MigrationMetadata metadata) =>
        metadata.Pipelines.Where(p => p.Schedule is not null).Select(p => new PipelineSchedule(p, p.Cron!)).ToList();

    /// <summary>The first occurrence strictly after <paramref name="after"/>.</summary>
    public DateTimeOffset? Next(DateTimeOffset after) =>
        Cron.GetNextOccurrence(after.UtcDateTime, inclusive: false) is { } next ? new DateTimeOffset(next, TimeSpan.Zero) : null;

    /// <summary>
    /// The latest occurrence after <paramref name="lastHandled"/> that is already due at <paramref name="now"/>:
    /// one that nobody ran because no runner was up then (the singleton moving, the coordinator down).
    /// </summary>
    public DateTimeOffset? Missed(DateTimeOffset lastHandled, DateTimeOffset now)
    {
        DateTimeOffset? missed = null;
        for (var next = Next(lastHandled); next is { } n && n <= now; next = Next(n))
            missed = n;
        return missed;
    }
}
