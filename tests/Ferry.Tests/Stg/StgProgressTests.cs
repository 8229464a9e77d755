using Ferry.Shared.Metadata;
using Ferry.Shared.Processes;
using Ferry.Shared.Stg;
using Ferry.Worker.Stg;

namespace Ferry.Tests.Stg;

/// <summary>What an STG run reports while it runs: exact totals over chunks and parts, out of what is expected.</summary>
public sealed class StgProgressTests
{
    private static async Task<(StgTestBed Bed, SourceTable Table)> ChunkedTableAsync(string name)
    {
        var bed = await StgTestBed.CreateAsync(name);
        await bed.ExecSourceAsync("CREATE TABLE big (id bigint PRIMARY KEY, v text); INSERT INTO big SELECT g * 3, md5(g::text) FROM generate_series(1, 20000) g; ANALYZE big");
        return (bed, StgTestBed.Table("big", ["id"], chunking: new ChunkingSpec(ThresholdRows: 1000, RowsPerChunk: 3000, Parallelism: 2)));
    }

    private static void AssertRunningTotal(IReadOnlyList<StepProgress> reports)
    {
        Assert.NotEmpty(reports);
        for (var i = 1; i < reports.Count; i++)
        {
            Assert.True(reports[i].RowsDone >= reports[i - 1].RowsDone, $"rows went back from {reports[i - 1].RowsDone} to {reports[i].RowsDone}");
            Assert.True(reports[i].Bytes >= reports[i - 1].Bytes, $"bytes went back from {reports[i - 1].Bytes} to {reports[i].Bytes}");
        }
    }

    [Fact]
    public async Task An_extract_of_several_parallel_chunks_reports_the_sum_over_them_ending_at_the_manifests_rows_and_bytes()
    {
        var (bed, table) = await ChunkedTableAsync("progress_extract");
        await using var _ = bed;
        var recorded = new RecordedProgress();

        var manifest = await bed.Process(table).ExtractAsync(table, RunMode.Bulk, RunLayout.NewRunId(DateTimeOffset.UtcNow), progress: recorded);

        Assert.Equal(7, manifest.Parts.Count);
        var reports = recorded.Of(ProcessStep.Extracting);
        Assert.Equal(reports.Count, recorded.All.Count);
        AssertRunningTotal(reports);
        // While it runs, the catalog's estimate (the table was analysed: exact here); at the end, what was extracted.
        Assert.Equal(20000, reports[0].RowsExpected);
        Assert.Equal(new StepProgress(table.ProcessId, ProcessStep.Extracting, 20000, 20000, manifest.Parts.Sum(p => p.Bytes)), reports[^1]);
        Assert.Equal(manifest.TotalRows, reports[^1].RowsDone);
    }

    [Fact]
    public async Task A_load_reports_the_running_total_over_its_parts_ending_at_the_rows_loaded_then_the_merge()
    {
        var (bed, table) = await ChunkedTableAsync("progress_load");
        await using var _ = bed;
        var process = bed.Process(table);
        var first = new RecordedProgress();
        await process.RunAsync(table, RunMode.Bulk, progress: first);
        await bed.ExecSourceAsync("UPDATE big SET v = 'changed' WHERE id <= 300");
        var second = new RecordedProgress();

        var result = await process.RunAsync(table, RunMode.Bulk, progress: second);

        // The first load goes straight into the empty STG table, the second stages its parts for the merge: both count every part once.
        foreach (var recorded in new[] { first, second })
        {
            var loading = recorded.Of(ProcessStep.Loading);
            AssertRunningTotal(loading);
            Assert.All(loading, p => Assert.Equal(20000, p.RowsExpected));
            Assert.Equal(0, loading[0].RowsDone);
            Assert.Equal(20000, loading[^1].RowsDone);
            Assert.True(loading.Count >= 7 + 2, $"{loading.Count} load reports for 7 parts");
        }
        Assert.Equal(result.BytesStored, second.Of(ProcessStep.Loading)[^1].Bytes);
        Assert.Empty(first.Of(ProcessStep.Merging));
        var merging = second.Of(ProcessStep.Merging);
        Assert.Equal(new StepProgress(table.ProcessId, ProcessStep.Merging, 0, 20000, 0), merging[0]);
        Assert.Equal(20000, merging[^1].RowsDone);
        Assert.Equal(new MergeCounts(0, 100, 0, 19900), result.Counts);
    }

    [Fact]
    public async Task A_window_extract_expects_nothing_it_cannot_know_until_it_is_done()
    {
        await using var bed = await StgTestBed.CreateAsync("progress_window");
        await bed.ExecSourceAsync("""
            CREATE TABLE w (id int PRIMARY KEY, created_at timestamptz, updated_at timestamptz);
            INSERT INTO w SELECT g, now() - interval '30 days', CASE WHEN g <= 40 THEN now() ELSE now() - interval '30 days' END FROM generate_series(1, 500) g;
            ANALYZE w
            """);
        var table = StgTestBed.Table("w", ["id"], new CdcSpec(CdcMode.Window, ["created_at", "updated_at"], Days: 7));
        var recorded = new RecordedProgress();

        var manifest = await bed.Process(table).ExtractAsync(table, RunMode.Incremental, RunLayout.NewRunId(DateTimeOffset.UtcNow), progress: recorded);

        Assert.Equal(40, manifest.TotalRows);
        Assert.All(recorded.All.SkipLast(1), p => Assert.Null(p.RowsExpected));
        Assert.Equal(new StepProgress(table.ProcessId, ProcessStep.Extracting, 40, 40, manifest.Parts.Sum(p => p.Bytes)), recorded.All[^1]);
    }
}
