using Ferry.Cli.Commands;
using Ferry.Shared.Stg;
using Spectre.Console;

namespace Ferry.Tests.Api;

[Collection(ApiCollection.Name)]
public sealed class RunOnClusterTests(ApiTestHost host)
{
    private static (IAnsiConsole Console, StringWriter Output) Recording() => PlainConsole.Recording(220);

    private Task<int> RunAsync(string target, bool wait, IAnsiConsole console)
    {
        var client = host.Client();
        return ClusterCommands.RunOnClusterAsync(client, [target], RunMode.Incremental, null, wait, console, TimeSpan.FromMilliseconds(100), CancellationToken.None);
    }

    [Fact]
    public async Task Waiting_for_a_succeeded_pipeline_prints_the_final_table_and_returns_0()
    {
        var (console, output) = Recording();
        var code = await RunAsync("ok", wait: true, console);

        var text = output.ToString();
        Assert.Equal(0, code);
        Assert.Contains("pipeline run pr-ok", text);
        Assert.Contains("1. stg.qvp.users, stg.qvp.orders", text);
        Assert.Contains("[stage 1/2] stg.qvp.users: running (run r-stg.qvp.users)", text);
        Assert.Contains("[stage 1/2] stg.qvp.users: succeeded (run r-stg.qvp.users)", text);
        Assert.Contains("pipeline run pr-ok (ok, incremental): succeeded in 2 min 00 s", text);
        Assert.Matches(@"stg\.qvp\.users\s*│\s*1\s*│\s*succeeded\s*│\s*1,234\s*│\s*3\s*│\s*1\s*│\s*10\s*│\s*1,244\s*│\s*42\.0 s", text);
        Assert.Matches(@"total\s*│\s*│\s*3 ok\s*│\s*1,316", text);
    }

    [Fact]
    public async Task Waiting_for_a_failed_pipeline_prints_the_error_of_the_failed_process_and_returns_1()
    {
        var (console, output) = Recording();
        var code = await RunAsync("fail", wait: true, console);

        var text = output.ToString();
        Assert.Equal(1, code);
        Assert.Contains("[stage 1/2] stg.qvp.orders: failed (run r-stg.qvp.orders): stg.qvp.orders: merge failed: duplicate key in source", text);
        Assert.Contains("pipeline run pr-fail (fail, incremental): failed", text);
        // The failed process shows its error, not the counts of a merge that never committed.
        Assert.Matches(@"stg\.qvp\.orders\s*│\s*1\s*│\s*failed\s*│(\s*│){5}\s*42\.0 s\s*│\s*r-stg\.qvp\.orders\s*│\s*stg\.qvp\.orders: merge failed: duplicate key in source", text);
        Assert.Contains("1 ok, 1 failed, 1 not run", text);
    }

    [Fact]
    public async Task Without_wait_the_plan_is_printed_and_the_command_returns_at_once()
    {
        var (console, output) = Recording();
        var code = await RunAsync("nightly", wait: false, console);

        Assert.Equal(0, code);
        Assert.Contains("pipeline run pr-nightly (nightly, incremental) accepted: 2 stage(s)", output.ToString());
        Assert.Contains("ferry runs --pipeline-run pr-nightly", output.ToString());
    }

    [Fact]
    public async Task A_rejected_run_prints_the_reason_and_returns_1()
    {
        var (console, output) = Recording();
        var code = await RunAsync("busy", wait: true, console);

        Assert.Equal(1, code);
        Assert.Contains("rejected: stg.qvp.users is already running in pipeline run pr-busy (active pipeline run: pr-busy)", output.ToString());
    }
}
