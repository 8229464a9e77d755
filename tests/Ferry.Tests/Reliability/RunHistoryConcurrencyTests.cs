using Ferry.Shared.History;
using Ferry.Shared.Stg;
using Ferry.Tests.Infrastructure;
using Ferry.Tests.Stg;

namespace Ferry.Tests.Reliability;

/// <summary>Many processes starting at once on several nodes each write their history row; none is lost to Ferry's own DDL.</summary>
public class RunHistoryConcurrencyTests
{
    [Fact]
    public async Task Two_hundred_processes_starting_at_once_on_two_nodes_write_two_hundred_history_rows()
    {
        var cs = await TestPostgres.CreateDatabaseAsync("history");
        // An old node's table, without the files columns: the migration has something to add.
        await StgTestBed.ExecAsync(cs, """
            CREATE SCHEMA ferry;
            CREATE TABLE ferry.run_history (process_id text NOT NULL, run_id text NOT NULL, pipeline_run_id text, mode text NOT NULL,
                started_at timestamptz NOT NULL, finished_at timestamptz, status text NOT NULL, step text NOT NULL,
                steps jsonb NOT NULL DEFAULT '{}', rows_extracted bigint, inserted bigint, updated bigint, deleted bigint, unchanged bigint,
                error text, node text, PRIMARY KEY (process_id, run_id));
            """);
        var nodes = new[] { new RunHistory(cs), new RunHistory(cs) };
        var at = DateTimeOffset.UtcNow;

        var writes = Enumerable.Range(0, 200).Select(i => Task.Run(() => nodes[i % 2].RecordAsync(new RunRecord(
            $"stg.src.t{i:000}", $"r-{i}", "pl-1", RunMode.Bulk, at, RunStatus.Running, "extracting", new Dictionary<string, double>(),
            null, null, $"node-{i % 2}"))));
        await Task.WhenAll(writes);

        Assert.Equal(200L, await StgTestBed.ScalarAsync<long>(cs, "SELECT count(*) FROM ferry.run_history"));
        Assert.Equal(200, (await nodes[0].ListAsync(limit: 500)).Count);
    }

    [Fact]
    public async Task Nodes_starting_together_on_an_empty_target_migrate_one_after_another()
    {
        var cs = await TestPostgres.CreateDatabaseAsync("schemarace");

        await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(() => FerrySchema.MigrateAsync(cs))));

        Assert.Equal(1L, await StgTestBed.ScalarAsync<long>(cs, "SELECT count(*) FROM pg_namespace WHERE nspname = 'ferry'"));
        Assert.Equal(0L, await StgTestBed.ScalarAsync<long>(cs, "SELECT count(*) FROM ferry.run_history"));
    }
}
