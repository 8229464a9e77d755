using System.CommandLine;
using Ferry.Cli.Api;
using Ferry.Cli.Rendering;
using Ferry.Coordinator.Api;
using Ferry.Shared.Metadata;
using Ferry.Shared.Processes;
using Ferry.Shared.Stg;
using Spectre.Console;
using static Ferry.Cli.Rendering.Cells;

namespace Ferry.Cli.Commands;

/// <summary>
/// The verbs that speak to a running cluster through the coordinator's HTTP API: `ferry status`,
/// `ferry runs`, `ferry cluster show`, `ferry sharding show`, and <see cref="RunOnClusterAsync(FerryApiClient, string[], RunMode, bool?, bool, CancellationToken)"/>
/// behind `ferry run --cluster`. The tables they print are in <c>Cli/Rendering</c>; following a run is <see cref="RunFollower"/>.
/// </summary>
public static class ClusterCommands
{
    public static Option<string?> CoordinatorOption() => new("--coordinator")
    {
        Description = $"The coordinator's HTTP API (default: ${FerryApiClient.CoordinatorVariable}, else {FerryApiClient.DefaultCoordinator})",
    };

    public static Option<string?> TokenOption() => new("--token")
    {
        Description = $"The API token (default: ${ApiToken.EnvironmentVariable}, else <ferry home>/{ApiToken.FileName}); prefer the variable: other users can see arguments in ps",
    };

    public static Command Status()
    {
        var processes = new Argument<string[]>("process") { Description = "Process ids or patterns (default: all): stg.qvp.users, stg.qvp.*", Arity = ArgumentArity.ZeroOrMore };
        var (coordinator, token) = (CoordinatorOption(), TokenOption());
        var command = new Command("status", "What every process is doing now and how its last runs ended, asked of the cluster") { processes, coordinator, token };
        command.SetAction((r, ct) => WithClientAsync(r.GetValue(coordinator), r.GetValue(token), async client =>
        {
            var list = await client.GetProcessesAsync(ct);
            var selected = SelectProcesses(list.Processes, r.GetValue(processes) ?? []);
            AnsiConsole.Write(ProcessTable.Build(selected));
            var silent = selected.Count(p => !p.Answered);
            if (silent > 0)
                AnsiConsole.MarkupLine($"[yellow]{silent} process(es) did not answer in time[/] (their worker is busy or gone; `ferry cluster show` lists the members)");
            return 0;
        }));
        return command;
    }

    public static Command Runs()
    {
        var limit = new Option<int>("--limit", "-n") { Description = "How many runs, newest first", DefaultValueFactory = _ => 20 };
        var process = new Option<string?>("--process") { Description = "Only the runs of this process id" };
        var pipelineRun = new Option<string?>("--pipeline-run") { Description = "Only the process runs of this pipeline run" };
        var (coordinator, token) = (CoordinatorOption(), TokenOption());
        var command = new Command("runs", "The run history: every process run, newest first, with what it changed") { limit, process, pipelineRun, coordinator, token };
        command.SetAction((r, ct) => WithClientAsync(r.GetValue(coordinator), r.GetValue(token), async client =>
        {
            var history = await client.GetHistoryAsync(r.GetValue(process), r.GetValue(pipelineRun), r.GetValue(limit), ct);
            if (history.Runs.Count == 0)
            {
                AnsiConsole.WriteLine("no runs recorded yet");
                return 0;
            }
            AnsiConsole.Write(HistoryTable.Build(history));
            return 0;
        }));
        return command;
    }

    public static Command Cluster()
    {
        var (coordinator, token) = (CoordinatorOption(), TokenOption());
        var show = new Command("show", "Members, their roles and status, the leader and who is unreachable (exit code 1 when a member is unreachable)") { coordinator, token };
        show.SetAction((r, ct) => WithClientAsync(r.GetValue(coordinator), r.GetValue(token), async client =>
        {
            var membership = await client.GetClusterAsync(ct);
            AnsiConsole.Write(ClusterTable.Build(membership));
            return membership.Unreachable.Count == 0 ? 0 : 1;
        }));
        return new Command("cluster", "The Akka.NET cluster the coordinator sees") { show };
    }

    public static Command Sharding()
    {
        var (coordinator, token) = (CoordinatorOption(), TokenOption());
        var show = new Command("show", "Shard regions: shards and process entities per node") { coordinator, token };
        show.SetAction((r, ct) => WithClientAsync(r.GetValue(coordinator), r.GetValue(token), async client =>
        {
            var sharding = await client.GetShardingAsync(ct);
            AnsiConsole.Write(ShardingTable.Build(sharding));
            return 0;
        }));
        return new Command("sharding", "How the process entities are spread over the workers") { show };
    }

    /// <summary>
    /// `ferry run TARGET… --cluster`: asks the coordinator to run the targets. Without <paramref name="wait"/>
    /// it prints the plan and returns; with it, it follows the run (polling every second) and prints the
    /// per-process outcome. 0 when the run succeeded (or was accepted, without wait), 1 otherwise.
    /// </summary>
    public static Task<int> RunOnClusterAsync(FerryApiClient client, string[] targets, RunMode mode, bool? sweep, bool wait, CancellationToken ct,
        TimeSpan? maxAge = null) =>
        RunOnClusterAsync(client, targets, mode, sweep, wait, AnsiConsole.Console, TimeSpan.FromSeconds(1), ct, maxAge);

    /// <param name="maxAge">For the run's verify processes (`--max-age`): null for their default.</param>
    /// <param name="json">While waiting, one JSON object per poll on standard output (the other lines go to <paramref name="console"/>).</param>
    public static async Task<int> RunOnClusterAsync(FerryApiClient client, string[] targets, RunMode mode, bool? sweep, bool wait,
        IAnsiConsole console, TimeSpan pollEvery, CancellationToken ct, TimeSpan? maxAge = null, bool json = false)
    {
        try
        {
            var start = await StartAsync(client, targets, mode, sweep, console, ct, maxAge);
            if (start.Rejected is { } rejected)
            {
                var active = rejected.ActivePipelineRunId is { } id ? $" (active pipeline run: {id})" : "";
                console.MarkupLine($"[red]rejected[/]: {Markup.Escape(rejected.Reason + active)}");
                return 1;
            }
            var accepted = start.Accepted!;
            console.MarkupLine($"pipeline run [bold]{Markup.Escape(accepted.PipelineRunId)}[/] ({Markup.Escape(accepted.Name)}, {Lower(mode)}) accepted: " +
                $"{accepted.Plan.Count} stage(s) in sequence, the processes of a stage in parallel");
            foreach (var (stage, index) in accepted.Plan.Select((g, i) => (g, i)))
                console.WriteLine($"  {index + 1}. {string.Join(", ", stage)}");
            if (!wait)
            {
                console.WriteLine($"It runs on the cluster; its process runs: ferry runs --pipeline-run {accepted.PipelineRunId}");
                return 0;
            }
            var final = await RunFollower.FollowAsync(client, accepted.PipelineRunId, console, pollEvery, ct, json);
            console.Write(PipelineRunTable.Build(final));
            return final.State == PipelineRunState.Succeeded ? 0 : 1;
        }
        catch (FerryApiException e)
        {
            console.MarkupLine($"[red]ferry[/]: {Markup.Escape(e.Message)}");
            return 1;
        }
    }

    // ---- helpers ------------------------------------------------------------------------------------------

    /// <summary>How long `ferry run` keeps asking a coordinator that answers 503 (its runner waits for the target database).</summary>
    public static readonly TimeSpan StartPatience = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Starts the run; while the coordinator answers 503 (the runner is not up: its database is gone, or it is
    /// moving), says why and asks again. A runner that cannot persist a run has not accepted it, so asking
    /// again starts nothing twice; a run that was accepted after all is answered "already running".
    /// </summary>
    internal static async Task<RunStart> StartAsync(FerryApiClient client, string[] targets, RunMode mode, bool? sweep, IAnsiConsole console, CancellationToken ct,
        TimeSpan? maxAge = null)
    {
        var deadline = DateTime.UtcNow + StartPatience;
        while (true)
        {
            try
            {
                return await client.StartRunAsync(targets, mode, sweep, ct, maxAge);
            }
            catch (FerryApiException e) when (e.Status == System.Net.HttpStatusCode.ServiceUnavailable && DateTime.UtcNow < deadline)
            {
                console.MarkupLine($"[yellow]{Markup.Escape(e.Message)}[/]; retrying in 5 s");
                await Task.Delay(TimeSpan.FromSeconds(5), ct);
            }
        }
    }

    internal static async Task<int> WithClientAsync(string? coordinator, string? token, Func<FerryApiClient, Task<int>> work)
    {
        using var client = FerryApiClient.Connect(coordinator, token);
        try
        {
            return await work(client);
        }
        catch (FerryApiException e)
        {
            await Console.Error.WriteLineAsync($"ferry: {e.Message}");
            return 1;
        }
    }

    /// <summary>
    /// The processes that match any of the patterns, in the coordinator's order: the same patterns as
    /// `ferry run` (<see cref="ProcessPattern"/>); none selects all. A pattern that matches nothing is an error.
    /// </summary>
    public static IReadOnlyList<ProcessEntry> SelectProcesses(IReadOnlyList<ProcessEntry> processes, string[] patterns)
    {
        if (patterns.Length == 0) return processes;
        var regexes = patterns.Select(p => (Pattern: p, Regex: ProcessPattern.ToRegex(p))).ToList();
        var unmatched = regexes.Where(r => !processes.Any(p => r.Regex.IsMatch(p.ProcessId))).Select(r => r.Pattern).ToList();
        if (unmatched.Count > 0)
            throw new ArgumentException($"no process matches {string.Join(", ", unmatched)} (the coordinator knows {processes.Count} process(es); `ferry status` lists them)");
        return processes.Where(p => regexes.Any(r => r.Regex.IsMatch(p.ProcessId))).ToList();
    }
}
