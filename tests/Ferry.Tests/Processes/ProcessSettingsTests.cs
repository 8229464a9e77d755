using Akka.Configuration;
using Ferry.Worker.Processes;

namespace Ferry.Tests.Processes;

/// <summary>The entity's decisions about retries and snapshots, from its ferry.process settings.</summary>
public class ProcessSettingsTests
{
    private static readonly StepRetryPolicy Policy = new(3, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(5));

    [Fact]
    public void A_step_is_tried_once_and_retried_max_retries_times_then_the_run_fails()
    {
        Assert.Equal([true, true, true, false], Enumerable.Range(1, 4).Select(Policy.Retries));
        Assert.False((Policy with { MaxRetries = 0 }).Retries(1));
    }

    [Fact]
    public void The_backoff_doubles_from_min_backoff_and_is_capped_at_max_backoff()
    {
        Assert.Equal([2, 4, 8, 10, 10], Enumerable.Range(1, 5).Select(n => Policy.Backoff(n, random: 0).TotalSeconds));
    }

    [Fact]
    public void A_lost_connection_is_retried_past_max_retries_until_retry_healable_for_has_passed()
    {
        var early = TimeSpan.FromSeconds(16);   // where 4 attempts end: inside a 30 s target outage
        var late = TimeSpan.FromMinutes(5);

        Assert.True(Policy.Retries(4, connectionLoss: true, early));
        Assert.True(Policy.Retries(40, connectionLoss: true, late - TimeSpan.FromSeconds(1)));
        Assert.False(Policy.Retries(40, connectionLoss: true, late));
        Assert.False(Policy.Retries(4, connectionLoss: false, early)); // any other failure that may heal: by count
        Assert.True(Policy.Retries(3, connectionLoss: false, late));   // within max-retries, time does not matter
    }

    [Fact]
    public void A_lost_connection_waits_at_most_healable_max_backoff_so_the_step_is_back_soon_after_the_database()
    {
        Assert.Equal([2, 4, 5, 5, 5], Enumerable.Range(1, 5).Select(n => Policy.Backoff(n, random: 0, connectionLoss: true).TotalSeconds));
        Assert.Equal(Policy.HealableMaxBackoff, Policy.Backoff(1000, random: 0.999, connectionLoss: true));
        Assert.Equal(Policy.MaxBackoff, Policy.Backoff(1000, random: 0.999));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.5)]
    [InlineData(0.999)]
    public void Jitter_adds_at_most_a_fifth_and_never_leaves_min_and_max_backoff(double random)
    {
        for (var n = 1; n <= 6; n++)
        {
            var wait = Policy.Backoff(n, random);
            var plain = Policy.Backoff(n, 0);
            Assert.InRange(wait, plain, plain * 1.2);
            Assert.InRange(wait, Policy.MinBackoff, Policy.MaxBackoff);
        }
    }

    [Fact]
    public void The_settings_come_from_ferry_process_with_the_documented_defaults()
    {
        var config = ConfigurationFactory.ParseString("ferry.process { max-retries = 5, min-backoff = 1s, max-backoff = 30s, snapshot-every = 0 }");

        var withHealable = ConfigurationFactory.ParseString("ferry.process { retry-healable-for = 2m, healable-max-backoff = 3s }");

        Assert.Equal(new StepRetryPolicy(5, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(5)), StepRetryPolicy.From(config));
        Assert.Equal(new StepRetryPolicy(3, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(60), TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(5)), StepRetryPolicy.From(ConfigurationFactory.Empty));
        Assert.Equal((TimeSpan.FromMinutes(2), TimeSpan.FromSeconds(3)),
            (StepRetryPolicy.From(withHealable).RetryHealableFor, StepRetryPolicy.From(withHealable).HealableMaxBackoff));
        Assert.Equal(0, SnapshotPolicy.From(config).Every);
        Assert.Equal(20, SnapshotPolicy.From(ConfigurationFactory.Empty).Every);
    }

    [Fact]
    public void A_snapshot_is_due_after_enough_events_and_only_between_runs()
    {
        var every20 = new SnapshotPolicy(20);
        Assert.False(every20.Due(sequenceNr: 19, lastSnapshotSequenceNr: 0, runActive: false));
        Assert.True(every20.Due(20, 0, runActive: false));
        Assert.False(every20.Due(40, 0, runActive: true));
        Assert.False(every20.Due(39, 20, runActive: false));
        Assert.False(new SnapshotPolicy(0).Due(1000, 0, runActive: false));
    }
}
