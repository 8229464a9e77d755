using Cronos;
using Ferry.Shared.Metadata;

namespace Ferry.Coordinator.Pipelines;

/// <summary>An occurrence of a pipeline's schedule: when a run of it is due.</summary>
public sealed record ScheduledStart(string Pipeline, DateTimeOffset Occurrence);

/// <summary>Wake after <see cref="Wait"/> and look at <see cref="Start"/> again.</summary>
public sealed record ScheduleWake(ScheduledStart Start, TimeSpan Wait);

/// <summary>What a wake-up found: whether the start is due now, and when to wake next (none: the pipeline has no schedule).</summary>
public sealed record ScheduleCheck(bool Due, ScheduleWake? Next);

/// <summary>
/// When the scheduled pipelines run: their cron expressions (5 fields, UTC) read from the metadata. Pure:
/// the runner gives it the occurrences it handled (started or skipped) and the time, and sets the timers
/// it asks for. A timer never waits longer than the poll interval, so a clock that jumps (a suspended
/// host, a test's clock) is noticed within one interval.
/// </summary>
public sealed class ScheduleClock
{
    private readonly Dictionary<string, (PipelineDefinition Pipeline, CronExpression Cron)> _schedules;
    private readonly TimeSpan _pollInterval;

    public ScheduleClock(IEnumerable<PipelineDefinition> pipelines, TimeSpan pollInterval)
    {
        _schedules = pipelines.Where(p => p.Schedule is not null).ToDictionary(p => p.Name, p => (p, p.Cron!), StringComparer.Ordinal);
        _pollInterval = pollInterval;
    }

    public static ScheduleClock Of(MigrationMetadata metadata, TimeSpan pollInterval) => new(metadata.Pipelines, pollInterval);

    /// <summary>The scheduled pipeline of that name, or null when it has no schedule.</summary>
    public PipelineDefinition? Find(string pipeline) => _schedules.TryGetValue(pipeline, out var s) ? s.Pipeline : null;

    /// <summary>The pipeline's first occurrence strictly after <paramref name="after"/>.</summary>
    public DateTimeOffset? Next(string pipeline, DateTimeOffset after) =>
        _schedules.TryGetValue(pipeline, out var s) && s.Cron.GetNextOccurrence(after.UtcDateTime, inclusive: false) is { } next
            ? new DateTimeOffset(next, TimeSpan.Zero)
            : null;

    /// <summary>
    /// The latest occurrence after <paramref name="lastHandled"/> that is already due at <paramref name="now"/>:
    /// one that nobody ran because no runner was up then (the singleton moving, the coordinator down).
    /// </summary>
    public DateTimeOffset? Missed(string pipeline, DateTimeOffset lastHandled, DateTimeOffset now)
    {
        DateTimeOffset? missed = null;
        for (var next = Next(pipeline, lastHandled); next is { } n && n <= now; next = Next(pipeline, n))
            missed = n;
        return missed;
    }

    /// <summary>
    /// A runner came up at <paramref name="now"/>: per pipeline, the one start it missed while none was up
    /// (only if it ever handled one: a new schedule does not make up its past), and the first wake-up of each.
    /// </summary>
    public (IReadOnlyList<ScheduledStart> Missed, IReadOnlyList<ScheduleWake> Wakes) AtStart(
        IReadOnlyDictionary<string, DateTimeOffset> lastHandled, DateTimeOffset now)
    {
        var missed = new List<ScheduledStart>();
        var wakes = new List<ScheduleWake>();
        foreach (var name in _schedules.Keys)
        {
            if (lastHandled.TryGetValue(name, out var last) && Missed(name, last, now) is { } m) missed.Add(new ScheduledStart(name, m));
            if (Next(name, now) is { } next) wakes.Add(WakeFor(new ScheduledStart(name, next), now));
        }
        return (missed, wakes);
    }

    /// <summary>
    /// A wake-up for <paramref name="start"/> at <paramref name="now"/>. Early (the wait was capped): not due,
    /// wake for it again. Otherwise wake for the next occurrence after now, and it is due unless it was
    /// handled already.
    /// </summary>
    public ScheduleCheck Woke(ScheduledStart start, IReadOnlyDictionary<string, DateTimeOffset> lastHandled, DateTimeOffset now)
    {
        if (!_schedules.ContainsKey(start.Pipeline)) return new ScheduleCheck(false, null);
        if (now < start.Occurrence) return new ScheduleCheck(false, WakeFor(start, now));
        var next = Next(start.Pipeline, now) is { } n ? WakeFor(new ScheduledStart(start.Pipeline, n), now) : null;
        return new ScheduleCheck(!Handled(start, lastHandled), next);
    }

    /// <summary>Whether this occurrence (or a later one) was started or skipped already.</summary>
    public static bool Handled(ScheduledStart start, IReadOnlyDictionary<string, DateTimeOffset> lastHandled) =>
        lastHandled.TryGetValue(start.Pipeline, out var last) && last >= start.Occurrence;

    private ScheduleWake WakeFor(ScheduledStart start, DateTimeOffset now)
    {
        var wait = start.Occurrence - now;
        if (wait < TimeSpan.Zero) wait = TimeSpan.Zero;
        if (wait > _pollInterval) wait = _pollInterval;
        return new ScheduleWake(start, wait);
    }
}
