using Ferry.Shared.Processes;
using Ferry.Worker.Stg;

namespace Ferry.Tests.Stg;

/// <summary>Every progress report a step made, in the order it made them.</summary>
public sealed class RecordedProgress : IProgress<StepProgress>
{
    private readonly List<StepProgress> _reports = [];

    public void Report(StepProgress value)
    {
        lock (_reports) _reports.Add(value);
    }

    public IReadOnlyList<StepProgress> All
    {
        get { lock (_reports) return [.. _reports]; }
    }

    public IReadOnlyList<StepProgress> Of(ProcessStep step) => All.Where(p => p.Step == step).ToList();
}

public sealed class ProgressTotalTests
{
    [Fact]
    public void Parallel_additions_are_reported_as_one_running_total_in_order()
    {
        var recorded = new RecordedProgress();
        var total = new ProgressTotal("stg.src.t", ProcessStep.Extracting, 10_000, recorded);

        Parallel.For(0, 10_000, new ParallelOptions { MaxDegreeOfParallelism = 4 }, _ => total.Add(1, 10));
        var last = total.Finish();

        var reports = recorded.All;
        Assert.Equal(new StepProgress("stg.src.t", ProcessStep.Extracting, 0, 10_000, 0), reports[0]);
        Assert.Equal(Enumerable.Range(0, 10_001).Select(i => (long)i), reports.Take(10_001).Select(p => p.RowsDone));
        Assert.Equal(new StepProgress("stg.src.t", ProcessStep.Extracting, 10_000, 10_000, 100_000), last);
        Assert.Equal(last, reports[^1]);
    }

    [Fact]
    public void The_last_report_expects_what_was_done_when_the_estimate_was_off_or_missing()
    {
        var recorded = new RecordedProgress();
        var total = new ProgressTotal("files.qvp", ProcessStep.Copying, null, recorded);
        total.Add(3, 300);
        total.Add(0, 0);

        Assert.Null(recorded.All[^1].RowsExpected);
        Assert.Equal(3, total.Finish().RowsExpected);
        Assert.Equal(3, recorded.All.Count);
    }

    [Fact]
    public void A_person_reads_rows_done_of_rows_expected_and_files_for_a_files_process()
    {
        Assert.Equal("loading 1,200,000 / 5,000,000 rows",
            new StepProgress("stg.qvp.users", ProcessStep.Loading, 1_200_000, 5_000_000, 0).Describe(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("copying 12 files", new StepProgress("files.qvp", ProcessStep.Copying, 12, null, 0).Describe(System.Globalization.CultureInfo.InvariantCulture));
    }
}
