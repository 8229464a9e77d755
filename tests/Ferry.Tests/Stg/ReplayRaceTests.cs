using Ferry.Shared.Metadata;
using Ferry.Shared.Stg;
using Ferry.Worker.Stg;

namespace Ferry.Tests.Stg;

/// <summary>
/// A replay of an earlier run racing a new run of the same table (issue 14, defect 4): the two writers take
/// turns on the table's writer lock and each loads into its own load table, so STG ends as exactly one of the
/// two outcomes, never a mix, and neither writer trips over a load table the other dropped.
/// </summary>
public class ReplayRaceTests
{
    private const int Trials = 10;

    [Fact]
    public async Task A_replay_racing_a_new_run_leaves_STG_equal_to_one_of_the_two_runs_every_time()
    {
        await using var bed = await StgTestBed.CreateAsync("replay_race");
        await bed.ExecSourceAsync("""
            CREATE TABLE items (id bigint PRIMARY KEY, val text NOT NULL);
            INSERT INTO items SELECT g, 'v' || g FROM generate_series(1, 20000) g;
            """);
        // Several parts loaded in parallel: the window in which two writers overlap is the whole load.
        var table = StgTestBed.Table("items", ["id"], chunking: new ChunkingSpec(ThresholdRows: 1000, RowsPerChunk: 2500, Parallelism: 3));
        var stg = bed.Process(table);

        var first = await stg.RunAsync(table, RunMode.Bulk);
        var replayed = await LiveStgAsync(bed);
        Assert.Equal(20000, replayed.Count);

        for (var trial = 1; trial <= Trials; trial++)
        {
            // The source moves on: changed, deleted and new rows, different in every trial.
            await bed.ExecSourceAsync($"""
                UPDATE items SET val = val || '.{trial}' WHERE id % 7 = {trial % 7};
                DELETE FROM items WHERE id % 97 = {trial};
                INSERT INTO items SELECT g, 'new{trial}.' || g FROM generate_series({20000 + trial * 100}, {20000 + trial * 100 + 49}) g;
                """);
            var source = await StgTestBed.RowsAsync(bed.SourceConnectionString, "SELECT id::text, val FROM items ORDER BY id");
            var manifest = await stg.ExtractAsync(table, RunMode.Bulk, RunLayout.NewRunId(DateTimeOffset.UtcNow));

            var run = Task.Run(() => stg.LoadAndMergeAsync(manifest, TimeSpan.Zero, null, default));
            var replay = Task.Run(() => stg.ReplayAsync(table, first.RunId, force: true));
            var errors = new List<string>();
            foreach (var t in new Task[] { run, replay })
            {
                try { await t; }
                catch (Exception e) { errors.Add(e.Message); }
            }
            Assert.True(errors.Count == 0, $"trial {trial}: {string.Join(" | ", errors)}");

            var live = await LiveStgAsync(bed);
            var isSource = Same(live, source);
            var isReplayed = Same(live, replayed);
            Assert.True(isSource || isReplayed,
                $"trial {trial}: STG has {live.Count} live rows, matching neither the source ({source.Count}) nor the replayed run ({replayed.Count})");
            Assert.Equal(0L, await StgTestBed.ScalarAsync<long>(bed.TargetConnectionString,
                "SELECT count(*) FROM pg_class WHERE relnamespace = 'stg_load'::regnamespace AND relkind = 'r'"));
        }
    }

    private static Task<List<string?[]>> LiveStgAsync(StgTestBed bed) =>
        StgTestBed.RowsAsync(bed.TargetConnectionString, "SELECT id::text, val FROM stg.src_items WHERE stg_deleted_at IS NULL ORDER BY id");

    private static bool Same(List<string?[]> a, List<string?[]> b) =>
        a.Count == b.Count && a.Zip(b).All(p => p.Item1.SequenceEqual(p.Item2));
}
