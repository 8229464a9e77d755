using Ferry.Shared.History;
using Ferry.Shared.Processes;
using Ferry.Shared.Stg;
using Ferry.Tests.Stg;
using Npgsql;

namespace Ferry.Tests.Cluster;

/// <summary>Cluster tests start real processes and kill them: they run one at a time, in their own collection.</summary>
[CollectionDefinition("cluster", DisableParallelization = true)]
public sealed class ClusterCollection;

[Collection("cluster")]
public class ClusterTests
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(4);

    /// <summary>A source table large enough that its load takes a few seconds, split into several parts.</summary>
    private static async Task AddLargeTableAsync(FerryClusterHarness cluster, string qvp, int rows)
    {
        await StgTestBed.ExecAsync(qvp, $"""
            CREATE TABLE public.events (id bigint PRIMARY KEY, kind text NOT NULL, payload text, created_at timestamptz NOT NULL);
            INSERT INTO public.events SELECT g, 'kind-' || (g % 17), repeat(md5(g::text), 3), now() - (g % 700) * interval '1 day' FROM generate_series(1, {rows}) g;
            ANALYZE public.events;
            """);
        await File.WriteAllTextAsync(Path.Combine(cluster.MetadataDirectory, "tables", "qvp", "events.yaml"), """
            source: qvp
            table: public.events
            key: [id]
            cdc:
              mode: full
            chunking: { threshold_rows: 200000, rows_per_chunk: 200000, parallelism: 2 }
            """);
    }

    private static async Task WritePipelinesAsync(FerryClusterHarness cluster) =>
        await File.WriteAllTextAsync(Path.Combine(cluster.MetadataDirectory, "pipelines.yaml"), """
            groups:
              qvp: [stg.qvp.*]
              svp: [stg.svp.*]
            pipelines:
              everything:
                groups: [qvp, svp]
                mode: bulk
            """);

    /// <summary>Live rows of every STG table equal the live rows of its source table.</summary>
    private static async Task AssertStgMatchesSourcesAsync(FerryClusterHarness cluster)
    {
        var metadata = Ferry.Shared.Metadata.MetadataLoader.Load(cluster.MetadataDirectory);
        foreach (var t in metadata.Tables)
        {
            var source = t.Source == "qvp" ? cluster.QvpConnectionString : cluster.SvpConnectionString;
            var live = t.SoftDeleteColumn is { } s ? $" WHERE \"{s}\" IS NULL" : "";
            var expected = await StgTestBed.ScalarAsync<long>(source, $"SELECT count(*) FROM \"{t.Schema}\".\"{t.Table}\"{live}");
            var actual = await StgTestBed.ScalarAsync<long>(cluster.TargetConnectionString, $"SELECT count(*) FROM stg.\"{t.StgTable}\" WHERE stg_deleted_at IS NULL");
            Assert.True(expected == actual, $"{t.ProcessId}: source {expected} live rows, STG {actual}");
        }
    }

    /// <summary>A bulk run of one process; once it is in <paramref name="step"/>, the worker running it is killed (SIGKILL).</summary>
    private static async Task<(PipelineRunStatus Run, string? RunId, FerryClusterHarness.Node Killed)> RunKillingItsWorkerAsync(FerryClusterHarness cluster, string processId,
        ProcessStep step, params FerryClusterHarness.Node[] workers)
    {
        string? runId = null;
        FerryClusterHarness.Node? killed = null;
        var run = await cluster.RunAsync([processId], RunMode.Bulk, RunTimeout, async _ =>
        {
            if (killed is not null) return;
            var status = await cluster.Api.GetProcessAsync(processId, CancellationToken.None);
            if (status.Step != step || status.ActiveRunId is null) return;
            runId = status.ActiveRunId;
            killed = workers.Single(w => w.Address == status.Node);
            await FerryClusterHarness.KillAsync(killed);
        });
        Assert.True(killed is not null, $"{processId} finished before it was seen {step.ToString().ToLowerInvariant()}");
        return (run, runId, killed);
    }

    [Fact]
    public async Task A_coordinator_and_two_workers_run_every_demo_table_and_a_third_worker_takes_shards()
    {
        await using var cluster = await FerryClusterHarness.CreateAsync("clusterrun", demoScale: 2);
        var (coordinator, w0, w1) = await cluster.StartCoordinatorAndTwoWorkersAsync();

        var bulk = await cluster.RunAsync(["stg.*", "files.*", "bl.*"], RunMode.Bulk, RunTimeout);

        Assert.True(bulk.State == PipelineRunState.Succeeded, $"{bulk.State}: {string.Join("; ", bulk.Processes.Where(p => p.Error is not null).Select(p => p.Error))}\n{cluster.Logs()}");
        var metadata = Ferry.Shared.Metadata.MetadataLoader.Load(cluster.MetadataDirectory);
        Assert.Equal(18 + metadata.Files.Count + metadata.Transforms.Count, bulk.Processes.Count);
        Assert.All(bulk.Processes, p => Assert.Equal(ProcessRunState.Succeeded, p.State));
        // Every BL process ran after every STG process (a later group), parents before children.
        Assert.True(bulk.Processes.Where(p => p.ProcessId.StartsWith("bl.")).Min(p => p.Stage) > bulk.Processes.Where(p => p.ProcessId.StartsWith("stg.")).Max(p => p.Stage));
        Assert.True(bulk.Processes.Single(p => p.ProcessId == "bl.unipacc.users").Stage > bulk.Processes.Single(p => p.ProcessId == "bl.unipacc.organisations").Stage);
        await AssertStgMatchesSourcesAsync(cluster);
        Assert.True(await StgTestBed.ScalarAsync<long>(cluster.TargetConnectionString, "SELECT count(*) FROM unipacc.verification_requests") > 0);
        Assert.All(bulk.Processes.Where(p => p.ProcessId.StartsWith("files.")), p => Assert.True(p.Result!.Files is { Copied: > 0, Failed: 0 }, $"{p.ProcessId}: {p.Result.Files}"));
        Assert.Equal(0L, await StgTestBed.ScalarAsync<long>(cluster.TargetConnectionString, "SELECT count(*) FROM unipacc.attachments WHERE target_key IS NULL"));
        var sharding = await cluster.Api.GetShardingAsync(CancellationToken.None);
        var nodesWithShards = sharding.Regions.SelectMany(r => r.Nodes).Where(n => n.Shards > 0).Select(n => n.Address).ToHashSet();
        Assert.Equal(new HashSet<string> { w0.Address, w1.Address }, nodesWithShards);

        var w2 = cluster.StartWorker(2);
        await cluster.WaitForMembersAsync(coordinator, w0, w1, w2);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        var w2Shards = 0;
        while (DateTime.UtcNow < deadline && w2Shards == 0)
        {
            await Task.Delay(1000);
            sharding = await cluster.Api.GetShardingAsync(CancellationToken.None);
            w2Shards = sharding.Regions.SelectMany(r => r.Nodes).Where(n => n.Address == w2.Address).Sum(n => n.Shards);
        }
        Assert.True(w2Shards > 0, $"the third worker got no shards\n{cluster.Logs()}");

        // The rebalanced cluster keeps working: one day later, an incremental run.
        await Ferry.Cli.Demo.DemoSources.MutateAsync(cluster.QvpConnectionString, cluster.SvpConnectionString);
        await cluster.CreateSourceObjectsAsync();
        var incremental = await cluster.RunAsync(["stg.*", "files.*", "bl.*"], RunMode.Incremental, RunTimeout);
        Assert.Equal(PipelineRunState.Succeeded, incremental.State);
        await AssertStgMatchesSourcesAsync(cluster);

        // The incremental BL left nothing for a full rebuild to change.
        var rebuild = await cluster.RunAsync(["bl.*"], RunMode.Bulk, RunTimeout);
        Assert.Equal(PipelineRunState.Succeeded, rebuild.State);
        Assert.All(rebuild.Processes, p => Assert.True(p.Result!.Counts is { Inserted: 0, Updated: 0, Deleted: 0 }, $"{p.ProcessId}: {p.Result.Counts}"));
    }

    [Fact]
    public async Task Killing_the_worker_copying_the_attachments_still_ends_with_every_file_copied_once_verified_and_one_successful_run()
    {
        await using var cluster = await FerryClusterHarness.CreateAsync("clusterfiles", demoScale: 10);
        var (coordinator, w0, w1) = await cluster.StartCoordinatorAndTwoWorkersAsync();
        var live = await StgTestBed.ScalarAsync<long>(cluster.QvpConnectionString, "SELECT count(*) FROM public.file_storage WHERE deleted_at IS NULL");

        var (run, runId, _) = await RunKillingItsWorkerAsync(cluster, "files.qvp", ProcessStep.Copying, w0, w1);

        Assert.True(run.State == PipelineRunState.Succeeded, $"{run.State}\n{cluster.Logs()}");
        var process = Assert.Single(run.Processes);
        Assert.Equal(runId, process.RunId);
        // The run resumed on the other worker: what was recorded before the kill is skipped, the rest copied.
        Assert.Equal(live, process.Result!.Files!.Copied + process.Result.Files.Skipped);
        Assert.Equal(0, process.Result.Files.Failed);
        Assert.Equal(live, await StgTestBed.ScalarAsync<long>(cluster.TargetConnectionString,
            "SELECT count(*) FROM stg.file_copies WHERE process_id = 'files.qvp' AND status = 'copied'"));
        Assert.Equal(0L, await StgTestBed.ScalarAsync<long>(cluster.TargetConnectionString, "SELECT count(*) FROM stg.file_copies WHERE status <> 'copied'"));
    }

    [Fact]
    public async Task Killing_the_worker_that_loads_a_large_table_still_ends_with_STG_equal_to_the_source_and_one_successful_run()
    {
        await using var cluster = await FerryClusterHarness.CreateAsync("clusterkill");
        await AddLargeTableAsync(cluster, cluster.QvpConnectionString, 1_200_000);
        var (coordinator, w0, w1) = await cluster.StartCoordinatorAndTwoWorkersAsync();

        var (run, runId, killed) = await RunKillingItsWorkerAsync(cluster, "stg.qvp.events", ProcessStep.Loading, w0, w1);

        Assert.True(run.State == PipelineRunState.Succeeded, $"{run.State}\n{cluster.Logs()}");
        var process = Assert.Single(run.Processes);
        Assert.Equal(runId, process.RunId);
        Assert.Equal(1_200_000, process.Result!.Counts.Inserted);
        var history = await cluster.Api.GetHistoryAsync("stg.qvp.events", null, 10, CancellationToken.None);
        for (var i = 0; i < 20 && history.Runs.Any(r => r.Status != RunStatus.Succeeded); i++)
        {
            await Task.Delay(500);
            history = await cluster.Api.GetHistoryAsync("stg.qvp.events", null, 10, CancellationToken.None);
        }
        Assert.Equal(runId, Assert.Single(history.Runs).RunId);
        Assert.Equal(RunStatus.Succeeded, history.Runs[0].Status);
        Assert.Equal(1_200_000L, await StgTestBed.ScalarAsync<long>(cluster.TargetConnectionString, "SELECT count(*) FROM stg.qvp_events"));
        Assert.Equal(
            await StgTestBed.ScalarAsync<string>(cluster.QvpConnectionString, "SELECT md5(string_agg(id::text || kind || payload, ',' ORDER BY id)) FROM public.events"),
            await StgTestBed.ScalarAsync<string>(cluster.TargetConnectionString, "SELECT md5(string_agg(id::text || kind || payload, ',' ORDER BY id)) FROM stg.qvp_events"));

        // The run's log has the lines of both workers, the killed one's included: `ferry logs <run-id>` reads the same page.
        var survivor = killed == w0 ? w1 : w0;
        var log = await cluster.Api.GetRunLogAsync(runId!, 0, CancellationToken.None);
        Assert.Contains(log.Lines, l => l.Node == $"127.0.0.1:{killed.Port}" && l.Message.Contains("extracting started"));
        Assert.Contains(log.Lines, l => l.Node == $"127.0.0.1:{survivor.Port}" && l.Message.Contains($"resuming run {runId}"));
        Assert.Contains(log.Lines, l => l.Node == $"127.0.0.1:{survivor.Port}" && l.Message.Contains("succeeded") && l.ProcessId == "stg.qvp.events");
        Assert.All(log.Lines, l => Assert.Equal(runId, l.RunId));
        Assert.False(log.Running);

        // The coordinator reports itself healthy and ready from its real state: member, target, journal, runner.
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{cluster.ApiPort}/") };
        foreach (var path in new[] { "healthz", "readyz" })
        {
            using var probe = await http.GetAsync(path);
            var body = await probe.Content.ReadAsStringAsync();
            Assert.True(probe.StatusCode == System.Net.HttpStatusCode.OK, $"{path}: {body}");
            Assert.Contains("\"journal\"", body);
        }
    }

    [Fact]
    public async Task Killing_the_coordinator_mid_pipeline_and_starting_it_again_completes_the_pipeline()
    {
        await using var cluster = await FerryClusterHarness.CreateAsync("clustercoord");
        await AddLargeTableAsync(cluster, cluster.QvpConnectionString, 800_000);
        await WritePipelinesAsync(cluster);
        var (coordinator, w0, w1) = await cluster.StartCoordinatorAndTwoWorkersAsync();

        var start = await cluster.Api.StartRunAsync(["everything"], RunMode.Bulk, null, CancellationToken.None);
        var id = start.Accepted!.PipelineRunId;
        // Wait until the first group is under way, then take the coordinator away.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            var s = await cluster.Api.GetRunAsync(id, CancellationToken.None);
            if (s.Processes.Any(p => p.State == ProcessRunState.Running)) break;
            await Task.Delay(200);
        }
        await FerryClusterHarness.KillAsync(coordinator);
        var again = cluster.StartCoordinator();
        await cluster.WaitForMembersAsync(again, w0, w1);

        var run = await cluster.WaitForRunAsync(id, RunTimeout);

        Assert.True(run.State == PipelineRunState.Succeeded, $"{run.State}: {string.Join("; ", run.Processes.Where(p => p.Error is not null).Select(p => p.Error))}\n{cluster.Logs()}");
        Assert.Equal(19, run.Processes.Count);
        await AssertStgMatchesSourcesAsync(cluster);
        // No process ran twice for this pipeline run. History rows are written just after each step, so give the last ones a moment.
        var history = await cluster.Api.GetHistoryAsync(null, id, 100, CancellationToken.None);
        for (var i = 0; i < 20 && history.Runs.Any(r => r.Status != RunStatus.Succeeded); i++)
        {
            await Task.Delay(500);
            history = await cluster.Api.GetHistoryAsync(null, id, 100, CancellationToken.None);
        }
        Assert.Equal(19, history.Runs.Count);
        Assert.All(history.Runs, r => Assert.Equal(RunStatus.Succeeded, r.Status));
    }
}
