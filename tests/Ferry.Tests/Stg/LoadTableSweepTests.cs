using Ferry.Shared.Sql;
using Ferry.Worker.Stg;
using Npgsql;

namespace Ferry.Tests.Stg;

/// <summary>Load tables left by crashed runs are dropped once their run is a day old; a fresh one, or one in use, stays.</summary>
public class LoadTableSweepTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_load_table_is_stale_when_the_run_its_name_ends_with_started_more_than_the_max_age_ago()
    {
        var old = Loader.LoadTableName("qvp_users", "20261130T080000Z-a1b2c3");
        var fresh = Loader.LoadTableName("qvp_users", "20261202T110000Z-a1b2c3");
        var longName = Loader.LoadTableName(new string('x', 80), "20261130T080000Z-a1b2c3", "__keys");

        Assert.Equal(new DateTimeOffset(2026, 11, 30, 8, 0, 0, TimeSpan.Zero), LoadTableSweep.RunStartOf(old));
        Assert.True(LoadTableSweep.IsStale(old, Now, LoadTableSweep.MaxAge));
        Assert.False(LoadTableSweep.IsStale(fresh, Now, LoadTableSweep.MaxAge));
        Assert.True(LoadTableSweep.IsStale(longName, Now, LoadTableSweep.MaxAge));   // a hashed name keeps its run id
        Assert.False(LoadTableSweep.IsStale("something_else", Now, LoadTableSweep.MaxAge));
    }

    [Fact]
    public async Task A_sweep_drops_stale_load_tables_keeps_fresh_ones_and_skips_one_another_session_holds()
    {
        await using var bed = await StgTestBed.CreateAsync("sweep");
        string Table(string runId) => SqlText.Qualified(Loader.LoadSchema, Loader.LoadTableName("src_t", runId));
        var stale = Table("20261101T000000Z-000001");
        var held = Table("20261101T000000Z-000002");
        var fresh = Table(Ferry.Worker.Stg.RunLayout.NewRunId(DateTimeOffset.UtcNow));
        await bed.ExecTargetAsync($"CREATE SCHEMA {Loader.LoadSchema}; CREATE UNLOGGED TABLE {stale} (id int); CREATE UNLOGGED TABLE {held} (id int); CREATE UNLOGGED TABLE {fresh} (id int)");
        await using var holder = new NpgsqlConnection(bed.TargetConnectionString);
        await holder.OpenAsync();
        await using var hold = await holder.BeginTransactionAsync();
        await using (var read = new NpgsqlCommand($"SELECT * FROM {held}", holder, hold)) await read.ExecuteNonQueryAsync();

        await using var conn = new NpgsqlConnection(bed.TargetConnectionString);
        await conn.OpenAsync();
        var dropped = await LoadTableSweep.SweepAsync(conn, DateTimeOffset.UtcNow, LoadTableSweep.MaxAge, CancellationToken.None);

        Assert.Equal([Loader.LoadTableName("src_t", "20261101T000000Z-000001")], dropped);
        await hold.RollbackAsync();
        var left = await StgTestBed.RowsAsync(bed.TargetConnectionString,
            $"SELECT relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '{Loader.LoadSchema}' ORDER BY 1");
        Assert.Equal(2, left.Count);
        Assert.DoesNotContain(left, r => r[0] == Loader.LoadTableName("src_t", "20261101T000000Z-000001"));
    }
}
