using System.CommandLine;
using Ferry.Cli.Commands;
using Ferry.Shared.Processes;
using Ferry.Shared.Stg;
using Ferry.Shared.History;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Ferry.Tests.Api;

[Collection(ApiCollection.Name)]
public sealed class ClusterCommandTests(ApiTestHost host)
{
    private static string Render(IRenderable renderable)
    {
        var output = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(output),
        });
        console.Profile.Width = 250;
        console.Write(renderable);
        return output.ToString();
    }

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
        var text = Render(ClusterCommands.ProcessTable((await client.GetProcessesAsync(CancellationToken.None)).Processes));

        Assert.Matches(@"stg\.qvp\.users\s*│\s*idle\s*│.*\+1,000 ~0 -0", text);
        Assert.Matches(@"stg\.qvp\.orders\s*│\s*loading\s*│\s*r-orders-2 \(incremental\)\s*│.*│\s*2\s*│\s*never\s*│.*part-00003\.csv\.gz is truncated", text);
        Assert.Matches(@"stg\.svp\.slow\s*│\s*no answer", text);
    }

    [Fact]
    public async Task Cluster_and_sharding_tables_show_members_leader_and_shards_per_node()
    {
        using var client = host.Client();
        var cluster = Render(ClusterCommands.ClusterTable(await client.GetClusterAsync(CancellationToken.None)));
        var sharding = Render(ClusterCommands.ShardingTable(await client.GetShardingAsync(CancellationToken.None)));

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
        var text = Render(ClusterCommands.HistoryTable(await client.GetHistoryAsync(null, "pr-table", 10, CancellationToken.None)));

        Assert.Matches(@"stg\.qvp\.orders\s*│\s*r-table-1\s*│\s*pr-table\s*│\s*incremental\s*│.*│\s*1 min 15 s\s*│\s*failed\s*│", text);
        Assert.Contains("stg.qvp.orders: load failed: [truncated] part", text);
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
