using Ferry.Shared.History;
using Ferry.Cli.Rendering;
using Ferry.Coordinator.Api;
using Ferry.Shared.Files;
using Ferry.Shared.Processes;
using Ferry.Shared.Stg;
using Ferry.Worker.Processes;
using static Ferry.Tests.Api.PlainConsole;

namespace Ferry.Tests.Api;

/// <summary>The tables of the cluster verbs, rendered as a user reads them, from records made up here (no coordinator).</summary>
public sealed class ClusterTableTests
{
    private static readonly DateTimeOffset At = new(2025, 3, 1, 2, 0, 0, TimeSpan.Zero);

    private static RunSummary Summary(string runId, long rows, MergeCounts counts, TimeSpan took, bool ok = true, string? error = null, FileCopyCounts? files = null) =>
        new(runId, RunMode.Incremental, At, At + took, ok, rows, counts, error, "pr-1", files);

    private static PipelineRunStatus Run(PipelineRunState state, DateTimeOffset? finished, int currentGroup, params PipelineProcess[] processes) =>
        new("pr-1", "nightly", RunMode.Incremental, state, At, finished, currentGroup, 2, processes);

    [Fact]
    public void A_pipeline_run_shows_files_in_inserted_and_unchanged_and_no_rows_read_for_bl()
    {
        var run = Run(PipelineRunState.Succeeded, At.AddMinutes(90), 1,
            new PipelineProcess("stg.qvp.users", 0, ProcessRunState.Succeeded, "r-1", Summary("r-1", 2_000, new(1_500, 20, 3, 477), TimeSpan.FromSeconds(12.5)), null),
            new PipelineProcess("files.svp", 0, ProcessRunState.Succeeded, "r-2",
                Summary("r-2", 0, MergeCounts.Zero, TimeSpan.FromSeconds(65), files: new FileCopyCounts(40, 60, 0)), null),
            new PipelineProcess("bl.unipacc.users", 1, ProcessRunState.Succeeded, "r-3", Summary("r-3", 0, new(7, 0, 0, 0), TimeSpan.FromSeconds(3)), null));

        var text = Render(PipelineRunTable.Build(run));

        Assert.Contains("pipeline run pr-1 (nightly, incremental): succeeded in 1 h 30 min", text);
        Assert.Matches(@"stg\.qvp\.users\s*│\s*1\s*│\s*succeeded\s*│\s*1,500\s*│\s*20\s*│\s*3\s*│\s*477\s*│\s*2,000\s*│\s*12\.5 s\s*│\s*r-1\s*│", text);
        Assert.Matches(@"files\.svp\s*│\s*1\s*│\s*succeeded\s*│\s*40\s*│\s*│\s*│\s*60\s*│\s*│\s*1 min 05 s\s*│\s*r-2\s*│", text);
        // A BL process reads STG, not a source: its rows read stay empty.
        Assert.Matches(@"bl\.unipacc\.users\s*│\s*2\s*│\s*succeeded\s*│\s*7\s*│\s*0\s*│\s*0\s*│\s*0\s*│\s*│\s*3\.0 s\s*│\s*r-3\s*│", text);
        Assert.Matches(@"total\s*│\s*│\s*3 ok\s*│\s*1,547\s*│\s*20\s*│\s*3\s*│\s*537\s*│\s*2,000\s*│", text);
    }

    [Fact]
    public void A_cancelled_pipeline_run_counts_the_processes_that_did_not_run()
    {
        var run = Run(PipelineRunState.Cancelled, null, 0,
            new PipelineProcess("stg.qvp.users", 0, ProcessRunState.Failed, "r-1", null, "stg.qvp.users: extract failed:\nconnection reset"),
            new PipelineProcess("stg.qvp.orders", 1, ProcessRunState.Pending, null, null, null));

        var text = Render(PipelineRunTable.Build(run));

        Assert.Contains("pipeline run pr-1 (nightly, incremental): cancelled", text);
        Assert.DoesNotContain("cancelled in", text);
        Assert.Contains("stg.qvp.users: extract failed: connection reset", text);
        Assert.Contains("0 ok, 1 failed, 1 not run", text);
    }

    [Fact]
    public void A_pipeline_run_with_a_skipped_process_shows_it_skipped_with_its_reason_and_counts_it()
    {
        var run = Run(PipelineRunState.Failed, At.AddMinutes(2), 2,
            new PipelineProcess("bl.unipacc.users", 0, ProcessRunState.Failed, "r-1", null, "bl.unipacc.users: transform failed: boom"),
            new PipelineProcess("bl.unipacc.organisations", 0, ProcessRunState.Succeeded, "r-2", Summary("r-2", 0, new(3, 0, 0, 0), TimeSpan.FromSeconds(2)), null),
            new PipelineProcess("bl.unipacc.reports", 1, ProcessRunState.Skipped, null, null, "skipped: bl.unipacc.users failed"));

        // Rendering also proves the markup of the skipped state and its count parses.
        var text = Render(PipelineRunTable.Build(run));

        Assert.Matches(@"bl\.unipacc\.reports\s*│\s*2\s*│\s*skipped\s*│.*skipped: bl\.unipacc\.users failed", text);
        Assert.Contains("1 ok, 1 failed, 1 skipped", text);
        Assert.DoesNotContain("not run", text);
        Assert.Equal("  [stage 2/2] bl.unipacc.reports: skipped: bl.unipacc.users failed", PipelineRunProgress.Line(run, run.Processes[2]));
    }

    [Fact]
    public void The_live_table_names_the_current_stage_and_each_process_state()
    {
        var run = Run(PipelineRunState.Running, null, 1,
            new PipelineProcess("stg.qvp.users", 0, ProcessRunState.Succeeded, "r-1", Summary("r-1", 10, new(1_234, 5, 6, 0), TimeSpan.FromSeconds(1)), null),
            new PipelineProcess("bl.unipacc.users", 1, ProcessRunState.Running, "r-2", null, null));

        var text = Render(PipelineRunProgress.Table(run));

        Assert.Contains("pipeline run pr-1 (nightly): stage 2/2,", text);
        Assert.Matches(@"1\s+stg\.qvp\.users\s+succeeded\s+r-1\s+\+1,234 ~5 -6", text);
        Assert.Matches(@"2\s+bl\.unipacc\.users\s+running\s+r-2", text);
    }

    [Fact]
    public void A_progress_line_names_the_stage_the_run_and_the_error_on_one_line()
    {
        var run = Run(PipelineRunState.Running, null, 0);
        var failed = new PipelineProcess("stg.qvp.orders", 0, ProcessRunState.Failed, "r-9", null, "stg.qvp.orders: merge failed:\r\n duplicate key ");

        Assert.Equal("  [stage 1/2] stg.qvp.orders: failed (run r-9): stg.qvp.orders: merge failed:  duplicate key", PipelineRunProgress.Line(run, failed));
        Assert.Equal("  [stage 2/2] bl.x.y: running", PipelineRunProgress.Line(run, new PipelineProcess("bl.x.y", 1, ProcessRunState.Running, null, null, null)));
    }

    [Fact]
    public void The_cluster_table_marks_self_leader_and_the_unreachable_member()
    {
        var membership = new ClusterMembership("akka.tcp://ferry@c1:4053", "akka.tcp://ferry@c1:4053",
            [
                new ClusterMember("akka.tcp://ferry@c1:4053", ["coordinator"], "up", true, null),
                new ClusterMember("akka.tcp://ferry@w1:4053", ["worker", "stg"], "leaving", false, At),
            ],
            ["akka.tcp://ferry@w1:4053"]);

        var text = Render(ClusterTable.Build(membership));

        Assert.Contains("2 member(s), seen from akka.tcp://ferry@c1:4053", text);
        Assert.Matches(@"akka\.tcp://ferry@c1:4053\s*│\s*coordinator\s*│\s*up\s*│\s*yes\s*│\s*before the coordinator\s*│\s*self, leader", text);
        Assert.Matches(@"akka\.tcp://ferry@w1:4053\s*│\s*worker, stg\s*│\s*leaving\s*│\s*no\s*│", text);
        Assert.Contains("leader: akka.tcp://ferry@c1:4053; unreachable: akka.tcp://ferry@w1:4053", text);
    }

    [Fact]
    public void The_sharding_table_says_when_there_is_nothing_to_show()
    {
        Assert.Contains("no shard regions", Render(ShardingTable.Build(new ShardingOverview([]))));

        var text = Render(ShardingTable.Build(new ShardingOverview([new ShardRegionOverview("process", 0, 0, [])])));

        Assert.Contains("region process: 0 shard(s), 0 entities on 0 node(s)", text);
        Assert.Contains("(no worker hosts shards yet)", text);
    }

    [Fact]
    public void The_history_without_pipeline_runs_has_no_pipeline_column_and_shows_files_and_running_steps()
    {
        var history = new HistoryList([
            new RunHistory.Row("files.svp", "r-f", null, "bulk", At, At.AddSeconds(30), RunStatus.Succeeded, "done", null, null, null, null, null, null, "w1",
                FilesCopied: 12, FilesSkipped: 3_400, FilesFailed: 0),
            new RunHistory.Row("stg.qvp.users", "r-u", null, "incremental", DateTimeOffset.UtcNow, null, RunStatus.Running, "merging", 5_000, null, null, null, null, null, "w2"),
        ]);

        var text = Render(HistoryTable.Build(history));

        Assert.DoesNotContain("pipeline run", text);
        Assert.Matches(@"files\.svp\s*│\s*r-f\s*│\s*bulk\s*│.*│\s*30\.0 s\s*│\s*succeeded\s*│\s*│\s*12\s*│\s*│\s*│\s*3,400\s*│\s*w1", text);
        Assert.Matches(@"stg\.qvp\.users\s*│\s*r-u\s*│\s*incremental\s*│.*│\s*[0-9.]+ s…\s*│\s*running \(merging\)\s*│\s*5,000\s*│", text);
    }

    [Fact]
    public void A_replay_in_the_history_names_the_run_it_replayed()
    {
        var history = new HistoryList([
            new RunHistory.Row("stg.qvp.users", "r-2", null, "bulk", At, At.AddSeconds(4), RunStatus.Succeeded, "done", 100, 0, 3, 0, 97, null, "cli",
                ReplayOf: "r-1"),
        ]);

        Assert.Matches(@"stg\.qvp\.users\s*│\s*r-2\s*│\s*replay of r-1\s*│", Render(HistoryTable.Build(history)));
    }

    [Fact]
    public void A_process_that_did_not_answer_shows_no_answer_and_a_running_one_its_run_and_attempt()
    {
        var processes = new List<ProcessEntry>
        {
            new("stg.svp.slow", false, null),
            new("stg.qvp.users", true, new ProcessStatus("stg.qvp.users", ProcessStep.Merging, "r-7", RunMode.Bulk, At, 3, null,
                null, Summary("r-6", 0, MergeCounts.Zero, TimeSpan.FromSeconds(1), ok: false, error: "stg.qvp.users: load failed:\ndisk full"), "akka.tcp://ferry@w1:4053")),
        };

        var text = Render(ProcessTable.Build(processes));

        Assert.Matches(@"stg\.svp\.slow\s*│\s*no answer", text);
        Assert.Matches(@"stg\.qvp\.users\s*│\s*merging\s*│\s*r-7 \(bulk\)\s*│.*│\s*3\s*│\s*never\s*│.*stg\.qvp\.users: load failed: disk full\s*│\s*akka\.tcp://ferry@w1:4053", text);
    }
}
