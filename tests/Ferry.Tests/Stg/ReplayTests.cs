using Ferry.Shared.History;
using Ferry.Shared.Stg;
using Ferry.Worker.Stg;

namespace Ferry.Tests.Stg;

public class ReplayTests
{
    [Fact]
    public async Task Replaying_an_older_run_needs_force_and_every_replay_is_a_run_of_its_own_in_the_history_naming_the_run_it_replays()
    {
        await using var bed = await StgTestBed.CreateAsync("replay_guard");
        await bed.ExecSourceAsync("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, 'a' FROM generate_series(1, 50) g");
        var table = StgTestBed.Table("t", ["id"]);
        var history = new RunHistory(bed.TargetConnectionString);
        var process = new StgProcess(bed.Metadata(table), bed.Store) { History = history };
        // A minute ago, so the next run is newer (run ids order by their start second).
        var earlier = await process.ExtractAsync(table, RunMode.Bulk, RunLayout.NewRunId(DateTimeOffset.UtcNow.AddMinutes(-1)));
        var first = await process.LoadAndMergeAsync(earlier, TimeSpan.Zero, null, default);
        await bed.ExecSourceAsync("UPDATE t SET v = 'b' WHERE id <= 10");
        await process.RunAsync(table, RunMode.Bulk);

        var refused = await Assert.ThrowsAsync<ReplayRefusedException>(() => process.ReplayAsync(table, first.RunId));
        Assert.Contains($"replaying run {first.RunId} rolls STG back", refused.Message);
        Assert.Contains("--force", refused.Message);
        Assert.Equal(10L, await StgTestBed.ScalarAsync<long>(bed.TargetConnectionString, "SELECT count(*) FROM stg.src_t WHERE v = 'b'"));

        var replay = await process.ReplayAsync(table, first.RunId, force: true);

        Assert.Equal(new MergeCounts(0, 10, 0, 40), replay.Counts);
        Assert.Equal(0L, await StgTestBed.ScalarAsync<long>(bed.TargetConnectionString, "SELECT count(*) FROM stg.src_t WHERE v = 'b'"));
        var row = Assert.Single(await history.ListAsync("stg.src.t"));
        Assert.Equal(first.RunId, row.ReplayOf);
        Assert.NotEqual(first.RunId, row.RunId);
        Assert.Equal(RunStatus.Succeeded, row.Status);
        Assert.Equal(10L, row.Updated);

        // STG now holds the replayed run: replaying it again needs no force.
        await process.ReplayAsync(table, first.RunId);
        Assert.Equal(2, (await history.ListAsync("stg.src.t")).Count(r => r.ReplayOf == first.RunId));
    }
}
