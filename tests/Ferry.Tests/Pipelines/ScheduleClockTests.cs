using Ferry.Coordinator.Pipelines;
using static Ferry.Tests.Pipelines.TestMigration;

namespace Ferry.Tests.Pipelines;

public class ScheduleClockTests
{
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(5);

    private static DateTimeOffset At(int day, int hour, int minute, double seconds = 0) =>
        new DateTimeOffset(2025, 3, day, hour, minute, 0, TimeSpan.Zero).AddSeconds(seconds);

    private static readonly Dictionary<string, DateTimeOffset> NothingHandled = new();

    private static ScheduleClock Nightly() => new([Pipeline("nightly", "0 2 * * *", ["stg.a.t1"]), Pipeline("by-hand", null, ["stg.a.t2"])], Poll);

    [Fact]
    public void The_next_occurrence_is_in_UTC_and_missed_ones_are_counted_from_the_last_one_handled()
    {
        var clock = Nightly();

        Assert.Equal(At(1, 2, 0), clock.Next("nightly", new DateTimeOffset(2025, 3, 1, 3, 0, 0, TimeSpan.FromHours(2))));
        Assert.Equal(At(2, 2, 0), clock.Next("nightly", At(1, 2, 0)));
        Assert.Null(clock.Missed("nightly", At(1, 2, 0), At(2, 1, 59, 59)));
        Assert.Equal(At(3, 2, 0), clock.Missed("nightly", At(1, 2, 0), At(3, 9, 0)));
    }

    [Fact]
    public void Only_pipelines_with_a_schedule_are_on_the_clock()
    {
        var clock = Nightly();

        Assert.Equal("nightly", clock.Find("nightly")!.Name);
        Assert.Null(clock.Find("by-hand"));
        Assert.Null(clock.Next("by-hand", At(1, 0, 0)));
        var (missed, wakes) = clock.AtStart(NothingHandled, At(1, 1, 0));
        Assert.Empty(missed);
        Assert.Equal("nightly", Assert.Single(wakes).Start.Pipeline);
    }

    [Fact]
    public void A_runner_coming_up_makes_up_only_the_latest_start_it_missed_and_never_the_past_of_a_new_schedule()
    {
        var clock = Nightly();

        var (missed, _) = clock.AtStart(new Dictionary<string, DateTimeOffset> { ["nightly"] = At(1, 2, 0) }, At(3, 9, 0));
        var (fresh, _) = clock.AtStart(NothingHandled, At(3, 9, 0));
        var (upToDate, _) = clock.AtStart(new Dictionary<string, DateTimeOffset> { ["nightly"] = At(3, 2, 0) }, At(3, 9, 0));

        Assert.Equal(new ScheduledStart("nightly", At(3, 2, 0)), Assert.Single(missed));
        Assert.Empty(fresh);
        Assert.Empty(upToDate);
    }

    [Fact]
    public void The_clock_wakes_at_the_occurrence_or_after_one_poll_interval_whichever_is_first()
    {
        var clock = Nightly();

        var far = Assert.Single(clock.AtStart(NothingHandled, At(1, 1, 0)).Wakes);
        var near = Assert.Single(clock.AtStart(NothingHandled, At(1, 1, 59, 58)).Wakes);

        Assert.Equal(new ScheduleWake(new ScheduledStart("nightly", At(1, 2, 0)), Poll), far);
        Assert.Equal(new ScheduleWake(new ScheduledStart("nightly", At(1, 2, 0)), TimeSpan.FromSeconds(2)), near);
    }

    [Fact]
    public void Waking_early_is_not_due_and_waits_again_for_the_same_occurrence()
    {
        var clock = Nightly();
        var start = new ScheduledStart("nightly", At(1, 2, 0));

        var check = clock.Woke(start, NothingHandled, At(1, 1, 59, 57));

        Assert.False(check.Due);
        Assert.Equal(new ScheduleWake(start, TimeSpan.FromSeconds(3)), check.Next);
    }

    [Fact]
    public void Waking_at_or_after_the_occurrence_is_due_once_and_waits_for_the_next_one()
    {
        var clock = Nightly();
        var start = new ScheduledStart("nightly", At(1, 2, 0));

        var onTime = clock.Woke(start, NothingHandled, At(1, 2, 0));
        var late = clock.Woke(start, NothingHandled, At(1, 2, 0, 30));
        var handled = clock.Woke(start, new Dictionary<string, DateTimeOffset> { ["nightly"] = At(1, 2, 0) }, At(1, 2, 0, 30));

        Assert.True(onTime.Due);
        Assert.True(late.Due);
        Assert.False(handled.Due);
        Assert.Equal(new ScheduledStart("nightly", At(2, 2, 0)), onTime.Next!.Start);
        Assert.Equal(Poll, onTime.Next.Wait);
        Assert.Equal(new ScheduledStart("nightly", At(2, 2, 0)), handled.Next!.Start);
    }

    [Fact]
    public void A_wake_for_a_pipeline_that_is_no_longer_scheduled_does_nothing()
    {
        var check = Nightly().Woke(new ScheduledStart("by-hand", At(1, 2, 0)), NothingHandled, At(1, 2, 0));

        Assert.Equal(new ScheduleCheck(false, null), check);
    }

    [Fact]
    public void An_occurrence_counts_as_handled_when_it_or_a_later_one_was_started_or_skipped()
    {
        var handled = new Dictionary<string, DateTimeOffset> { ["nightly"] = At(2, 2, 0) };

        Assert.True(ScheduleClock.Handled(new ScheduledStart("nightly", At(1, 2, 0)), handled));
        Assert.True(ScheduleClock.Handled(new ScheduledStart("nightly", At(2, 2, 0)), handled));
        Assert.False(ScheduleClock.Handled(new ScheduledStart("nightly", At(3, 2, 0)), handled));
        Assert.False(ScheduleClock.Handled(new ScheduledStart("other", At(1, 2, 0)), handled));
    }
}
