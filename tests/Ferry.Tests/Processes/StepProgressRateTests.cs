using System.Globalization;
using Ferry.Cli.Rendering;
using Ferry.Shared.Processes;

namespace Ferry.Tests.Processes;

/// <summary>Rows/s and ETA from a step's progress and its start: what `ferry run --wait` shows and the API returns.</summary>
public class StepProgressRateTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 2, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void The_rate_is_rows_since_the_step_started_and_the_ETA_is_what_is_left_at_that_rate()
    {
        var p = new StepProgress("stg.qvp.users", ProcessStep.Loading, 1_000_000, 5_000_000, 0, Start);

        Assert.Equal(50_000, p.RowsPerSecond(Start.AddSeconds(20)));
        Assert.Equal(TimeSpan.FromSeconds(80), p.Eta(Start.AddSeconds(20)));
        Assert.Equal(0.2, p.Fraction);
        Assert.Equal("loading 1,000,000 / 5,000,000 rows, 50,000 rows/s, ETA 1 min 20 s", p.DescribeAt(Start.AddSeconds(20), CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Without_a_start_a_total_or_a_second_of_work_there_is_no_rate_or_no_ETA_and_an_estimate_exceeded_is_done()
    {
        var noStart = new StepProgress("stg.qvp.users", ProcessStep.Extracting, 10, 100, 0);
        Assert.Null(noStart.RowsPerSecond(Start));
        Assert.Null(noStart.Eta(Start));

        var justStarted = noStart with { Since = Start };
        Assert.Null(justStarted.RowsPerSecond(Start.AddMilliseconds(500)));

        var noTotal = new StepProgress("files.qvp", ProcessStep.Copying, 300, null, 0, Start);
        Assert.Equal(30, noTotal.RowsPerSecond(Start.AddSeconds(10)));
        Assert.Null(noTotal.Eta(Start.AddSeconds(10)));
        Assert.Equal("copying 300 files, 30 files/s", noTotal.DescribeAt(Start.AddSeconds(10), CultureInfo.InvariantCulture));

        // reltuples is an estimate: more rows than expected is 100 %, nothing left.
        var beyond = new StepProgress("stg.qvp.users", ProcessStep.Extracting, 120, 100, 0, Start);
        Assert.Equal(1.0, beyond.Fraction);
        Assert.Equal(TimeSpan.Zero, beyond.Eta(Start.AddSeconds(10)));
    }

    [Fact]
    public void The_live_table_draws_a_bar_for_a_known_total_and_none_without_one()
    {
        var half = PipelineRunProgress.ProgressCell(new StepProgress("stg.qvp.users", ProcessStep.Merging, 50, 100, 0, Start), Start.AddSeconds(5));
        var noTotal = PipelineRunProgress.ProgressCell(new StepProgress("files.qvp", ProcessStep.Listing, 50, null, 0, Start), Start.AddSeconds(5));

        var withBar = Api.PlainConsole.Render(half);
        Assert.Contains("████████░░░░░░░░ 50%", withBar);
        Assert.Contains("ETA 5 s", withBar);
        var plain = Api.PlainConsole.Render(noTotal);
        Assert.DoesNotContain("█", plain);
        Assert.Contains("listing 50 files, 10 files/s", plain);
    }
}
