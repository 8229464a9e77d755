using Ferry.Shared.Files;
using Ferry.Shared.Stg;
using Ferry.Tests.Stg;

namespace Ferry.Tests.Files;

/// <summary>The two steps of a files run, Listing then Copying, as a process entity runs them (possibly on two workers).</summary>
public sealed class FilesStepsTests
{
    private static readonly TimeSpan Old = TimeSpan.FromDays(30);

    [Fact]
    public async Task The_copy_works_from_the_runs_listing_a_file_listed_later_waits_for_the_next_run()
    {
        await using var bed = await FilesTestBed.CreateAsync("files_steps_list");
        var files = FilesTestBed.Definition();
        var source = bed.Store(files.SourceStore);
        for (var i = 0; i < 5; i++) await bed.AddFileAsync($"s/{i}.bin", 300 + i, Old, source);

        var listed = await bed.Process().ListAsync(files, CancellationToken.None);
        await bed.AddFileAsync("s/after-listing.bin", 77, Old, source);
        var result = await bed.Process().CopyAsync(files, RunMode.Bulk, "r1", listed, null, CancellationToken.None);

        Assert.Equal(5, listed.Rows);
        Assert.Equal(new FileCopyCounts(5, 0, 0), result.Counts);
        Assert.DoesNotContain(await bed.CopiesAsync(), c => c.SourceKey == "s/after-listing.bin");
        // The listing is the run's: dropped once the copy is done.
        Assert.Equal(0L, await StgTestBed.ScalarAsync<long>(bed.TargetConnectionString,
            "SELECT count(*) FROM pg_class WHERE relname = 'files_qvp' AND relnamespace = 'stg_load'::regnamespace"));

        // The next incremental run picks up the file never seen, whatever its age.
        var next = await bed.RunAsync(files, RunMode.Incremental, "r2");
        Assert.Equal(new FileCopyCounts(1, 0, 0), next.Counts);
    }

    [Fact]
    public async Task A_listing_lost_between_the_steps_is_made_again_and_the_copy_still_covers_every_file()
    {
        await using var bed = await FilesTestBed.CreateAsync("files_steps_lost");
        var files = FilesTestBed.Definition();
        var source = bed.Store(files.SourceStore);
        for (var i = 0; i < 6; i++) await bed.AddFileAsync($"l/{i}.bin", 200 + i, Old, source);

        var listed = await bed.Process().ListAsync(files, CancellationToken.None);
        // A database crash empties unlogged tables; an operator may drop it: either way the step lists again.
        await StgTestBed.ExecAsync(bed.TargetConnectionString, "TRUNCATE stg_load.files_qvp");
        var result = await bed.Process().CopyAsync(files, RunMode.Bulk, "r1", listed, null, CancellationToken.None);

        Assert.Equal(new FileCopyCounts(6, 0, 0), result.Counts);
        Assert.Equal(6, (await bed.CopiesAsync()).Count(c => c.Status == "copied"));
    }
}
