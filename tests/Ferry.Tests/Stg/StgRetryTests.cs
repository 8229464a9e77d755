using Ferry.Shared.Stg;
using Npgsql;

namespace Ferry.Tests.Stg;

public class StgRetryTests
{
    [Fact]
    public async Task An_extract_whose_connection_is_killed_midway_is_retried_and_the_run_still_ends_right()
    {
        await using var bed = await StgTestBed.CreateAsync("retry");
        await bed.ExecSourceAsync("CREATE TABLE r (id int PRIMARY KEY, v text); INSERT INTO r SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 600000) g");
        var table = StgTestBed.Table("r", ["id"]);
        var process = bed.Process(table);

        // Kill the first COPY the extract starts, while it streams (its application_name may name a node started by another test).
        var killer = Task.Run(async () =>
        {
            await using var admin = new NpgsqlConnection(bed.SourceConnectionString);
            await admin.OpenAsync();
            for (var i = 0; i < 2000; i++)
            {
                await using var cmd = new NpgsqlCommand(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'ferry-extract%' AND query LIKE 'COPY%' AND state = 'active'", admin);
                if (await cmd.ExecuteScalarAsync() is true) return true;
                await Task.Delay(10);
            }
            return false;
        });
        var run = await process.RunAsync(table, RunMode.Bulk);

        Assert.True(await killer, "the extract's connection was never seen, so nothing was killed");
        Assert.Equal(new MergeCounts(600000, 0, 0, 0), run.Counts);
        Assert.Equal(600000L, await StgTestBed.ScalarAsync<long>(bed.TargetConnectionString, "SELECT count(*) FROM stg.src_r"));
    }
}
