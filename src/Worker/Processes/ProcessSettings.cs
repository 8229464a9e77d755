using Akka.Configuration;

namespace Ferry.Worker.Processes;

/// <summary>
/// How a process entity retries a failed step (hocon: ferry.process.max-retries, min-backoff, max-backoff).
/// A pure decision, so the entity schedules the next attempt itself with a timer.
/// </summary>
public sealed record StepRetryPolicy(int MaxRetries, TimeSpan MinBackoff, TimeSpan MaxBackoff, double RandomFactor = 0.2)
{
    public static StepRetryPolicy From(Config config) => new(
        config.GetInt("ferry.process.max-retries", 3),
        config.GetTimeSpan("ferry.process.min-backoff", TimeSpan.FromSeconds(2)),
        config.GetTimeSpan("ferry.process.max-backoff", TimeSpan.FromSeconds(60)));

    /// <summary>After <paramref name="failedAttempts"/> failed attempts of a step (the first try included), whether another one follows.</summary>
    public bool Retries(int failedAttempts) => failedAttempts <= MaxRetries;

    /// <summary>
    /// The wait before the next attempt: doubling from <see cref="MinBackoff"/> with every failure, plus up to
    /// <see cref="RandomFactor"/> of jitter (<paramref name="random"/> in [0, 1)) so that many processes failing
    /// together do not retry together, and never outside [min-backoff, max-backoff].
    /// </summary>
    public TimeSpan Backoff(int failedAttempts, double random)
    {
        var doubled = MinBackoff.TotalMilliseconds * Math.Pow(2, Math.Max(0, failedAttempts - 1));
        var jittered = doubled * (1 + RandomFactor * Math.Clamp(random, 0, 1));
        return TimeSpan.FromMilliseconds(Math.Clamp(jittered, MinBackoff.TotalMilliseconds, Math.Max(MinBackoff.TotalMilliseconds, MaxBackoff.TotalMilliseconds)));
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
