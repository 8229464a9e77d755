using Akka.Configuration;

namespace Ferry.Worker.Processes;

/// <summary>
/// How a process entity retries a failed step (hocon: ferry.process.max-retries, min-backoff, max-backoff,
/// retry-healable-for, healable-max-backoff). A failure that may heal is retried max-retries times. A lost
/// connection (<see cref="StepFailures.IsConnectionLoss"/>: a target or source restarting, a network down) heals
/// when the other end is back, which can take minutes: it is retried for as long as retry-healable-for after the
/// step's first failure, with the backoff capped at healable-max-backoff so that the step is back within seconds
/// of the database. A pure decision, so the entity schedules the next attempt itself with a timer.
/// </summary>
public sealed record StepRetryPolicy(
    int MaxRetries,
    TimeSpan MinBackoff,
    TimeSpan MaxBackoff,
    TimeSpan RetryHealableFor,
    TimeSpan HealableMaxBackoff,
    double RandomFactor = 0.2)
{
    public static StepRetryPolicy From(Config config) => new(
        config.GetInt("ferry.process.max-retries", 3),
        config.GetTimeSpan("ferry.process.min-backoff", TimeSpan.FromSeconds(2)),
        config.GetTimeSpan("ferry.process.max-backoff", TimeSpan.FromSeconds(60)),
        config.GetTimeSpan("ferry.process.retry-healable-for", TimeSpan.FromMinutes(5)),
        config.GetTimeSpan("ferry.process.healable-max-backoff", TimeSpan.FromSeconds(5)));

    /// <summary>After <paramref name="failedAttempts"/> failed attempts of a step (the first try included), whether another one follows.</summary>
    public bool Retries(int failedAttempts) => failedAttempts <= MaxRetries;

    /// <summary>
    /// Whether another attempt follows a failure: within max-retries always; after that only a lost connection,
    /// and only while less than retry-healable-for has passed since the step's first failed attempt.
    /// </summary>
    public bool Retries(int failedAttempts, bool connectionLoss, TimeSpan sinceFirstFailure) =>
        Retries(failedAttempts) || connectionLoss && sinceFirstFailure < RetryHealableFor;

    /// <summary>
    /// The wait before the next attempt: doubling from <see cref="MinBackoff"/> with every failure, plus up to
    /// <see cref="RandomFactor"/> of jitter (<paramref name="random"/> in [0, 1)) so that many processes failing
    /// together do not retry together, and never outside [min-backoff, max-backoff] (healable-max-backoff for a
    /// lost connection).
    /// </summary>
    public TimeSpan Backoff(int failedAttempts, double random, bool connectionLoss = false)
    {
        var cap = connectionLoss ? Math.Min(MaxBackoff.TotalMilliseconds, HealableMaxBackoff.TotalMilliseconds) : MaxBackoff.TotalMilliseconds;
        var doubled = MinBackoff.TotalMilliseconds * Math.Pow(2, Math.Min(30, Math.Max(0, failedAttempts - 1)));
        var jittered = doubled * (1 + RandomFactor * Math.Clamp(random, 0, 1));
        return TimeSpan.FromMilliseconds(Math.Clamp(jittered, MinBackoff.TotalMilliseconds, Math.Max(MinBackoff.TotalMilliseconds, cap)));
    }
}

/// <summary>
/// When a process entity saves a snapshot (hocon: ferry.process.snapshot-every; 0 = never): once at least that
/// many events were persisted since the last one and no run is in progress, so recovery replays the snapshot
/// and the few events after it instead of every run's history.
/// </summary>
public sealed record SnapshotPolicy(int Every)
{
    public static SnapshotPolicy From(Config config) => new(config.GetInt("ferry.process.snapshot-every", 20));

    public bool Due(long sequenceNr, long lastSnapshotSequenceNr, bool runActive) =>
        Every > 0 && !runActive && sequenceNr - lastSnapshotSequenceNr >= Every;
}
