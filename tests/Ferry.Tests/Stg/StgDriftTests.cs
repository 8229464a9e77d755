using Ferry.Shared.History;
using Ferry.Shared.Metadata;
using Ferry.Shared.Stg;
using Ferry.Worker.Stg;

namespace Ferry.Tests.Stg;

/// <summary>Changes a CDC predicate cannot see (a column added with a default, an UPDATE that leaves updated_at alone) on real PostgreSQL.</summary>
public sealed class StgDriftTests
{
    public static TheoryData<string> Modes => new() { "window", "watermark" };

    private static SourceTable TableFor(string mode, TimeSpan? fullEvery = null) => StgTestBed.Table("t", ["id"], mode == "window"
        ? new CdcSpec(CdcMode.Window, ["updated_at"], Days: 7, FullEvery: fullEvery)
        : new CdcSpec(CdcMode.Watermark, ["updated_at"], WatermarkColumn: "updated_at", Overlap: TimeSpan.FromMinutes(10), FullEvery: fullEvery));

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task A_column_added_with_a_default_makes_the_next_incremental_run_complete_and_STG_equals_the_source(string mode)
    {
        await using var bed = await StgTestBed.CreateAsync("drift" + mode);
        await bed.ExecSourceAsync("""
            CREATE TABLE t (id int PRIMARY KEY, v text, updated_at timestamptz NOT NULL);
            INSERT INTO t SELECT g, 'v' || g, now() - interval '30 days' + g * interval '1 minute' FROM generate_series(1, 50) g;
            UPDATE t SET updated_at = now() WHERE id = 50;
            """);
        var table = TableFor(mode);
        var process = bed.Process(table);
        await process.RunAsync(table, RunMode.Bulk);
        var quiet = await process.RunAsync(table, RunMode.Incremental);
        Assert.Null(quiet.CompleteReason);

        await bed.ExecSourceAsync("""ALTER TABLE t ADD COLUMN "New Col" text DEFAULT 'd,"x"'; DELETE FROM t WHERE id = 7""");
        var run = await process.RunAsync(table, RunMode.Incremental);

        Assert.Equal("schema drift: column \"New Col\" added; complete extract", run.CompleteReason);
        Assert.Equal(49, run.RowsExtracted);
        Assert.Equal(1, run.Counts.Deleted);
        await bed.AssertStgEqualsSourceAsync("t", "src_t", ["id", "v", "updated_at", "\"New Col\""], "id");

        // The run history keeps the reason (what `ferry runs` and GET /history show).
        var history = new RunHistory(bed.TargetConnectionString);
        await history.RecordAsync(new RunRecord(table.ProcessId, run.RunId, null, RunMode.Incremental, DateTimeOffset.UtcNow, RunStatus.Succeeded,
            "idle", new Dictionary<string, double>(), DateTimeOffset.UtcNow, run.RowsExtracted, "test", run.Counts, CompleteReason: run.CompleteReason));
        Assert.Equal(run.CompleteReason, Assert.Single(await history.ListAsync(table.ProcessId)).CompleteReason);
    }

    [Fact]
    public async Task An_update_that_leaves_updated_at_alone_is_caught_by_the_periodic_complete_extract_and_not_before()
    {
        await using var bed = await StgTestBed.CreateAsync("fullevery");
        await bed.ExecSourceAsync("""
            CREATE TABLE t (id int PRIMARY KEY, v text, updated_at timestamptz NOT NULL);
            INSERT INTO t SELECT g, 'v' || g, now() - interval '30 days' FROM generate_series(1, 20) g;
            """);
        var table = TableFor("window", TimeSpan.FromDays(7));
        var process = bed.Process(table);
        await process.RunAsync(table, RunMode.Bulk);

        await bed.ExecSourceAsync("UPDATE t SET v = 'silent' WHERE id = 3");
        var before = await process.RunAsync(table, RunMode.Incremental);
        Assert.Null(before.CompleteReason);
        Assert.Equal("v3", (await StgTestBed.RowsAsync(bed.TargetConnectionString, "SELECT v FROM stg.src_t WHERE id = 3"))[0][0]);

        // The bound passes (a 1s bound stands for 7d: the last complete extract is older than it).
        var lateTable = TableFor("window", TimeSpan.FromSeconds(1));
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var run = await bed.Process(lateTable).RunAsync(lateTable, RunMode.Incremental);
        Assert.StartsWith("full_every 1s: last complete extract ", run.CompleteReason);
        await bed.AssertStgEqualsSourceAsync("t", "src_t", ["id", "v", "updated_at"], "id");
    }
}
