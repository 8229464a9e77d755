using System.CommandLine;
using Ferry.Cli.Commands;
using Ferry.Cli.Rendering;
using Ferry.Shared.Metadata;
using Ferry.Shared.Processes;
using Ferry.Shared.Stg;
using Ferry.Shared.History;
using static Ferry.Tests.Api.PlainConsole;

namespace Ferry.Tests.Api;

[Collection(ApiCollection.Name)]
public sealed class ClusterCommandTests(ApiTestHost host)
{
    private Task<int> FerryAsync(params string[] args)
    {
        var root = new RootCommand();
        foreach (var command in CommandCatalog.All()) root.Subcommands.Add(command);
        return root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = TextWriter.Null, Error = TextWriter.Null });
    }

    [Fact]
    public async Task Status_lists_each_process_with_its_step_last_success_and_failure_and_marks_the_silent_one()
    {
        using var client = host.Client();
        var text = Render(ProcessTable.Build((await client.GetProcessesAsync(CancellationToken.None)).Processes));

        Assert.Matches(@"stg\.qvp\.users\s*│\s*idle\s*│.*\+1,000 ~0 -0", text);
        Assert.Matches(@"stg\.qvp\.orders\s*│\s*loading\s*│\s*r-orders-2 \(incremental\)\s*│.*│\s*2\s*│\s*never\s*│.*part-00003\.csv\.gz is truncated", text);
        Assert.Matches(@"stg\.svp\.slow\s*│\s*no answer", text);
    }

    [Fact]
    public async Task Cluster_and_sharding_tables_show_members_leader_and_shards_per_node()
    {
        using var client = host.Client();
        var cluster = Render(ClusterTable.Build(await client.GetClusterAsync(CancellationToken.None)));
        var sharding = Render(ShardingTable.Build(await client.GetShardingAsync(CancellationToken.None)));

        Assert.Contains(host.SelfAddress, cluster);
        Assert.Contains("coordinator", cluster);
        Assert.Contains("unreachable: none", cluster);
        Assert.Contains("region process: 3 shard(s), 6 entities on 2 node(s)", sharding);
        Assert.Matches(@"akka\.tcp://ferry@w2:4053\s*│\s*1\s*│\s*2\s*│\s*4", sharding);
    }

    [Fact]
    public async Task Runs_lists_the_history_with_counts_status_and_error()
    {
        var start = DateTimeOffset.UtcNow.AddHours(-1);
        await host.History.RecordAsync(new RunRecord("stg.qvp.orders", "r-table-1", "pr-table", RunMode.Incremental, start, RunStatus.Failed, "loading",
            new Dictionary<string, double>(), start.AddSeconds(75), null, "akka.tcp://ferry@w2:4053", Error: "stg.qvp.orders: load failed: [truncated] part"));
        using var client = host.Client();
        var text = Render(HistoryTable.Build(await client.GetHistoryAsync(null, "pr-table", 10, CancellationToken.None)));

        Assert.Matches(@"stg\.qvp\.orders\s*│\s*r-table-1\s*│\s*pr-table\s*│\s*incremental\s*│.*│\s*1 min 15 s\s*│\s*failed\s*│", text);
        Assert.Contains("stg.qvp.orders: load failed: [truncated] part", text);
    }

    [Theory]
    [InlineData("stg.qvp.*", "stg.qvp.users,stg.qvp.orders")]
    [InlineData("stg.*", "stg.qvp.users,stg.qvp.orders,stg.svp.slow")]   // * crosses dots, as in `ferry run stg.*`
    [InlineData("stg.?vp.users", "stg.qvp.users")]
    [InlineData("stg.svp.slow", "stg.svp.slow")]
    public async Task Status_selects_processes_with_the_patterns_of_ferry_run(string pattern, string expected)
    {
        using var client = host.Client();
        var processes = (await client.GetProcessesAsync(CancellationToken.None)).Processes;

        var selected = ClusterCommands.SelectProcesses(processes, [pattern]).Select(p => p.ProcessId).ToList();

        Assert.Equal(expected.Split(','), selected);
        Assert.Equal(ProcessPattern.Match(pattern, processes.Select(p => p.ProcessId)), selected);
    }

    [Fact]
    public async Task Status_with_a_pattern_that_matches_nothing_names_the_pattern()
    {
        using var client = host.Client();
        var processes = (await client.GetProcessesAsync(CancellationToken.None)).Processes;

        var e = Assert.Throws<ArgumentException>(() => ClusterCommands.SelectProcesses(processes, ["stg.qvp.*", "bl.*"]));

        Assert.StartsWith("no process matches bl.* (the coordinator knows 6 process(es)", e.Message);
    }

    [Fact]
    public async Task The_cluster_verbs_answer_0_against_a_coordinator_and_1_with_a_wrong_token()
    {
        var at = new[] { "--coordinator", host.BaseUri.ToString(), "--token", host.Token };
        Assert.Equal(0, await FerryAsync(["status", .. at]));
        Assert.Equal(0, await FerryAsync(["status", "stg.qvp.*", .. at]));
        Assert.Equal(0, await FerryAsync(["runs", "--limit", "5", .. at]));
        Assert.Equal(0, await FerryAsync(["sharding", "show", .. at]));
        Assert.Equal(0, await FerryAsync(["cluster", "show", .. at]));
        Assert.Equal(1, await FerryAsync(["status", "--coordinator", host.BaseUri.ToString(), "--token", "not-the-token"]));
    }
}
