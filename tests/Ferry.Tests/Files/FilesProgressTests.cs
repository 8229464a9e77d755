using Ferry.Shared.Files;
using Ferry.Shared.Processes;
using Ferry.Shared.Stg;
using Ferry.Tests.Stg;

namespace Ferry.Tests.Files;

/// <summary>What a files run reports while it runs: listing as Listing, copying as Copying (not as an STG load), files counted as rows.</summary>
public sealed class FilesProgressTests
{
    private static readonly TimeSpan Old = TimeSpan.FromDays(30);

    [Fact]
    public async Task A_files_run_reports_listing_then_copying_with_the_files_looked_at_of_the_files_listed_and_the_bytes_copied()
    {
        await using var bed = await FilesTestBed.CreateAsync("files_progress");
        var files = FilesTestBed.Definition();
        var source = bed.Store(files.SourceStore);
        for (var i = 0; i < 5; i++) await bed.AddFileAsync($"p/{i}.bin", 100 * (i + 1), Old, source);
        await bed.RunAsync(files, RunMode.Bulk, "r1");
        for (var i = 5; i < 8; i++) await bed.AddFileAsync($"p/{i}.bin", 1000, Old, source);
        var recorded = new RecordedProgress();

        var result = await bed.Process().RunAsync(files, RunMode.Bulk, "r2", recorded, CancellationToken.None);

        Assert.Equal(new FileCopyCounts(3, 5, 0), result.Counts);
        Assert.Equal([ProcessStep.Listing, ProcessStep.Copying], recorded.All.Select(p => p.Step).Distinct());
        Assert.Equal(new StepProgress(files.ProcessId, ProcessStep.Listing, 8, 8, 0), recorded.Of(ProcessStep.Listing)[^1]);
        var copying = recorded.Of(ProcessStep.Copying);
        Assert.Equal(new StepProgress(files.ProcessId, ProcessStep.Copying, 0, 8, 0), copying[0]);
        Assert.Equal(Enumerable.Range(0, 9).Select(i => (long)i), copying.Take(9).Select(p => p.RowsDone));
        // The skipped files were already there: only the three new ones were copied.
        Assert.Equal(new StepProgress(files.ProcessId, ProcessStep.Copying, 8, 8, 3000), copying[^1]);
        Assert.Equal("copying 8 / 8 files", copying[^1].Describe(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task An_incremental_copy_expects_nothing_until_it_is_done_it_looks_at_a_window_not_the_whole_listing()
    {
        await using var bed = await FilesTestBed.CreateAsync("files_progress_incr");
        var files = FilesTestBed.Definition();
        var source = bed.Store(files.SourceStore);
        for (var i = 0; i < 4; i++) await bed.AddFileAsync($"q/{i}.bin", 10, Old, source);
        await bed.RunAsync(files, RunMode.Bulk, "r1");
        await bed.AddFileAsync("q/new.bin", 50, TimeSpan.FromHours(1), source);
        var recorded = new RecordedProgress();

        await bed.Process().RunAsync(files, RunMode.Incremental, "r2", recorded, CancellationToken.None);

        var copying = recorded.Of(ProcessStep.Copying);
        Assert.All(copying.SkipLast(1), p => Assert.Null(p.RowsExpected));
        Assert.Equal(new StepProgress(files.ProcessId, ProcessStep.Copying, 1, 1, 50), copying[^1]);
    }
}
