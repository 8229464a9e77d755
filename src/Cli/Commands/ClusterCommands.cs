using System.CommandLine;
using System.Text.RegularExpressions;
using Ferry.Cli.Api;
using Ferry.Coordinator.Api;
using Ferry.Shared.Processes;
using Ferry.Shared.Stg;
using Ferry.Shared.History;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Ferry.Cli.Commands;

/// <summary>
/// The verbs that speak to a running cluster through the coordinator's HTTP API: `ferry status`,
/// `ferry runs`, `ferry cluster show`, `ferry sharding show`, and <see cref="RunOnClusterAsync(FerryApiClient, string[], RunMode, bool?, bool, CancellationToken)"/>
/// behind `ferry run --cluster`.
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
            var selected = Filter(list.Processes, r.GetValue(processes) ?? []);
            AnsiConsole.Write(ProcessTable(selected));
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
            AnsiConsole.Write(HistoryTable(history));
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
            AnsiConsole.Write(ClusterTable(membership));
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
            AnsiConsole.Write(ShardingTable(sharding));
            return 0;
        }));
        return new Command("sharding", "How the process entities are spread over the workers") { show };
    }

    /// <summary>
    /// `ferry run TARGET… --cluster`: asks the coordinator to run the targets. Without <paramref name="wait"/>
    /// it prints the plan and returns; with it, it follows the run (polling every second) and prints the
    /// per-process outcome. 0 when the run succeeded (or was accepted, without wait), 1 otherwise.
    /// </summary>
    public static Task<int> RunOnClusterAsync(FerryApiClient client, string[] targets, RunMode mode, bool? sweep, bool wait, CancellationToken ct) =>
        RunOnClusterAsync(client, targets, mode, sweep, wait, AnsiConsole.Console, TimeSpan.FromSeconds(1), ct);

    public static async Task<int> RunOnClusterAsync(FerryApiClient client, string[] targets, RunMode mode, bool? sweep, bool wait,
        IAnsiConsole console, TimeSpan pollEvery, CancellationToken ct)
    {
        try
        {
            var start = await client.StartRunAsync(targets, mode, sweep, ct);
            if (start.Rejected is { } rejected)
            {
                var active = rejected.ActivePipelineRunId is { } id ? $" (active pipeline run: {id})" : "";
                console.MarkupLine($"[red]rejected[/]: {Markup.Escape(rejected.Reason + active)}");
                return 1;
            }
            var accepted = start.Accepted!;
            console.MarkupLine($"pipeline run [bold]{Markup.Escape(accepted.PipelineRunId)}[/] ({Markup.Escape(accepted.Name)}, {Lower(mode)}) accepted: " +
                $"{accepted.Plan.Count} group(s) in sequence, the processes of a group in parallel");
            foreach (var (group, index) in accepted.Plan.Select((g, i) => (g, i)))
                console.WriteLine($"  {index + 1}. {string.Join(", ", group)}");
            if (!wait)
            {
                console.WriteLine($"It runs on the cluster; its process runs: ferry runs --pipeline-run {accepted.PipelineRunId}");
                return 0;
            }
            var final = await FollowAsync(client, accepted.PipelineRunId, console, pollEvery, ct);
            console.Write(PipelineTable(final));
            return final.State == PipelineRunState.Succeeded ? 0 : 1;
        }
        catch (FerryApiException e)
        {
            console.MarkupLine($"[red]ferry[/]: {Markup.Escape(e.Message)}");
            return 1;
        }
    }

    /// <summary>Polls the run until it ends: a live table on a terminal, a line per process state change otherwise.</summary>
    private static async Task<PipelineRunStatus> FollowAsync(FerryApiClient client, string pipelineRunId, IAnsiConsole console, TimeSpan pollEvery,
        CancellationToken ct)
    {
        var interactive = console.Profile.Capabilities.Interactive && !Console.IsOutputRedirected;
        var poller = new RunPoller(client, pipelineRunId, console);
        try
        {
            if (!interactive)
            {
                var seen = new Dictionary<string, (ProcessRunState, string?)>();
                while (true)
                {
                    var status = await poller.NextAsync(ct);
                    foreach (var p in status.Processes)
                    {
                        if (seen.TryGetValue(p.ProcessId, out var before) && before == (p.State, p.RunId)) continue;
                        seen[p.ProcessId] = (p.State, p.RunId);
                        if (p.State == ProcessRunState.Pending) continue;
                        console.WriteLine($"  [group {p.Group + 1}/{status.Groups}] {p.ProcessId}: {Lower(p.State)}" +
                            (p.RunId is { } run ? $" (run {run})" : "") + (p.Error is { } error ? $": {OneLine(error)}" : ""));
                    }
                    if (status.State != PipelineRunState.Running) return status;
                    await Task.Delay(pollEvery, ct);
                }
            }

            PipelineRunStatus last = await poller.NextAsync(ct);
            await console.Live(LiveTable(last)).StartAsync(async live =>
            {
                while (last.State == PipelineRunState.Running)
                {
                    await Task.Delay(pollEvery, ct);
                    last = await poller.NextAsync(ct);
                    live.UpdateTarget(LiveTable(last));
                }
                live.UpdateTarget(new Text(""));
            });
            return last;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            console.WriteLine($"Stopped waiting; pipeline run {pipelineRunId} goes on on the cluster (its process runs: ferry runs --pipeline-run {pipelineRunId})");
            throw;
        }
    }

    /// <summary>
    /// One poll of a run. A coordinator that is briefly unavailable (503 while the runner singleton moves,
    /// a restart) is waited for, up to half a minute, before the CLI gives up.
    /// </summary>
    private sealed class RunPoller(FerryApiClient client, string pipelineRunId, IAnsiConsole console)
    {
        private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
        private DateTime? _failingSince;

        public async Task<PipelineRunStatus> NextAsync(CancellationToken ct)
        {
            while (true)
            {
                try
                {
                    var status = await client.GetRunAsync(pipelineRunId, ct);
                    _failingSince = null;
                    return status;
                }
                catch (FerryApiException e) when (e.Status is null or System.Net.HttpStatusCode.ServiceUnavailable)
                {
                    var now = DateTime.UtcNow;
                    _failingSince ??= now;
                    if (now - _failingSince > Patience) throw;
                    if (_failingSince == now) console.WriteLine($"  (coordinator unavailable, retrying: {e.Message})");
                    await Task.Delay(TimeSpan.FromSeconds(1), ct);
                }
            }
        }
    }

    // ---- tables -------------------------------------------------------------------------------------------

    /// <summary>`ferry status`: one row per process.</summary>
    public static Table ProcessTable(IReadOnlyList<ProcessEntry> processes)
    {
        var table = new Table { Border = TableBorder.Rounded };
        table.AddColumns("process", "step", "active run", "since", "attempt", "last success", "last failure", "node");
        foreach (var p in processes)
        {
            if (p.Status is not { } s)
            {
                table.AddRow(Cell(p.ProcessId), new Markup("[yellow]no answer[/]"), Cell(""), Cell(""), Cell(""), Cell(""), Cell(""), Cell(""));
                continue;
            }
            var step = s.Step == ProcessStep.Idle ? new Markup("idle") : new Markup($"[blue]{Lower(s.Step)}[/]");
            table.AddRow(Cell(p.ProcessId), step,
                Cell(s.ActiveRunId is { } run ? $"{run} ({Lower(s.ActiveMode)})" : ""),
                Cell(When(s.ActiveSince)),
                Cell(s.ActiveRunId is null ? "" : s.Attempt.ToString()),
                Cell(s.LastSuccess is { } ok ? $"{When(ok.FinishedAt)}  {Short(ok.Counts)}" : "never"),
                s.LastFailure is { } failed
                    ? new Markup($"{Markup.Escape(When(failed.FinishedAt))}  [red]{Markup.Escape(OneLine(failed.Error))}[/]")
                    : Cell(""),
                Cell(s.Node ?? ""));
        }
        return table;
    }

    /// <summary>`ferry runs`: the run history, newest first.</summary>
    public static Table HistoryTable(HistoryList history)
    {
        var withPipeline = history.Runs.Any(r => r.PipelineRunId is not null);
        var table = new Table { Border = TableBorder.Rounded };
        table.AddColumns("process", "run");
        if (withPipeline) table.AddColumn("pipeline run");
        table.AddColumns("mode", "started", "took", "status", "rows read", "inserted", "updated", "deleted", "unchanged", "node", "error");
        foreach (var i in Enumerable.Range(withPipeline ? 8 : 7, 5)) table.Columns[i].RightAligned();
        foreach (var r in history.Runs)
        {
            var cells = new List<IRenderable> { Cell(r.ProcessId), Cell(r.RunId) };
            if (withPipeline) cells.Add(Cell(r.PipelineRunId ?? ""));
            cells.AddRange([
                Cell(r.Mode), Cell(When(r.StartedAt)), Cell(r.FinishedAt is { } end ? Took(end - r.StartedAt) : Took(DateTimeOffset.UtcNow - r.StartedAt) + "…"),
                HistoryStatus(r), Cell(N(r.RowsExtracted)),
                // A files run: copied in "inserted", already there in "unchanged" (its failures are in the error).
                Cell(N(r.Inserted ?? r.FilesCopied)), Cell(N(r.Updated)), Cell(N(r.Deleted)), Cell(N(r.Unchanged ?? r.FilesSkipped)),
                Cell(r.Node ?? ""), r.Error is { } e ? new Markup($"[red]{Markup.Escape(OneLine(e))}[/]") : Cell(""),
            ]);
            table.AddRow(cells);
        }
        return table;
    }

    /// <summary>`ferry cluster show`.</summary>
    public static Table ClusterTable(ClusterMembership membership)
    {
        var table = new Table { Border = TableBorder.Rounded, Title = new TableTitle($"{membership.Members.Count} member(s), seen from {Markup.Escape(membership.Self)}") };
        table.AddColumns("address", "roles", "status", "reachable", "up since", "");
        foreach (var m in membership.Members)
        {
            var notes = new List<string>();
            if (m.Address == membership.Self) notes.Add("self");
            if (m.Address == membership.Leader) notes.Add("leader");
            var status = m.Status == "up" ? new Markup("[green]up[/]") : new Markup($"[yellow]{Markup.Escape(m.Status)}[/]");
            table.AddRow(Cell(m.Address), Cell(string.Join(", ", m.Roles)), status,
                m.Reachable ? new Markup("yes") : new Markup("[red]no[/]"),
                Cell(m.UpSince is { } at ? When(at) : "before the coordinator"), Cell(string.Join(", ", notes)));
        }
        table.Caption = new TableTitle(Markup.Escape(
            $"leader: {membership.Leader ?? "none"}; unreachable: {(membership.Unreachable.Count == 0 ? "none" : string.Join(", ", membership.Unreachable))}"));
        return table;
    }

    /// <summary>`ferry sharding show`: per entity type, the shards and entities each node hosts.</summary>
    public static IRenderable ShardingTable(ShardingOverview sharding)
    {
        var tables = new List<IRenderable>();
        foreach (var region in sharding.Regions)
        {
            var table = new Table
            {
                Border = TableBorder.Rounded,
                Title = new TableTitle(Markup.Escape($"region {region.TypeName}: {region.Shards} shard(s), {region.Entities} entities on {region.Nodes.Count} node(s)")),
            };
            table.AddColumns("node", "shards", "entities", "shards not answering");
            table.Columns[1].RightAligned();
            table.Columns[2].RightAligned();
            foreach (var n in region.Nodes)
                table.AddRow(Cell(n.Address), Cell(n.Shards.ToString("N0")), Cell(n.Entities.ToString("N0")),
                    n.FailedShards.Count == 0 ? Cell("") : new Markup($"[red]{Markup.Escape(string.Join(", ", n.FailedShards))}[/]"));
            if (region.Nodes.Count == 0) table.AddRow(Cell("(no worker hosts shards yet)"), Cell(""), Cell(""), Cell(""));
            tables.Add(table);
        }
        return tables.Count == 0 ? new Text("no shard regions") : new Rows(tables);
    }

    /// <summary>The outcome of a pipeline run, per process, as `ferry run --cluster --wait` ends.</summary>
    public static Table PipelineTable(PipelineRunStatus run)
    {
        var took = run.FinishedAt is { } end ? $" in {Took(end - run.StartedAt)}" : "";
        var table = new Table
        {
            Border = TableBorder.Rounded,
            Title = new TableTitle($"pipeline run {Markup.Escape(run.PipelineRunId)} ({Markup.Escape(run.Name)}, {Lower(run.Mode)}): {StateText(run.State)}{took}"),
        };
        table.AddColumns("process", "group", "state", "inserted", "updated", "deleted", "unchanged", "rows read", "took", "run", "error");
        foreach (var i in Enumerable.Range(3, 6)) table.Columns[i].RightAligned();
        long ins = 0, upd = 0, del = 0, same = 0, rows = 0;
        // In the runner's order within each group (the plan's order).
        foreach (var p in run.Processes.OrderBy(p => p.Group))
        {
            // A failed run's counts say nothing about STG (its merge never committed): only its error and duration are shown.
            var r = p.Result is { Succeeded: true } ok ? ok : null;
            if (p.Result?.Files is { } files)
            {
                // A files run: copied (new in the target) in "inserted", already there in "unchanged", failed in "error".
                ins += files.Copied; same += files.Skipped;
                table.AddRow(Cell(p.ProcessId), Cell((p.Group + 1).ToString()), StateMarkup(p.State),
                    Cell(N(files.Copied)), Cell(""), Cell(""), Cell(N(files.Skipped)), Cell(""),
                    Cell(Took(p.Result.FinishedAt - p.Result.StartedAt)), Cell(p.RunId ?? ""),
                    p.Result.Error is { } fileError ? new Markup($"[red]{Markup.Escape(OneLine(fileError))}[/]") : Cell(""));
                continue;
            }
            if (r is not null)
            {
                ins += r.Counts.Inserted; upd += r.Counts.Updated; del += r.Counts.Deleted; same += r.Counts.Unchanged; rows += r.RowsExtracted;
            }
            var error = p.Error ?? p.Result?.Error;
            table.AddRow(Cell(p.ProcessId), Cell((p.Group + 1).ToString()), StateMarkup(p.State),
                Cell(N(r?.Counts.Inserted)), Cell(N(r?.Counts.Updated)), Cell(N(r?.Counts.Deleted)), Cell(N(r?.Counts.Unchanged)),
                Cell(ProcessKinds.Of(p.ProcessId) == ProcessKind.Stg ? N(r?.RowsExtracted) : ""),   // BL reads STG, not a source
                Cell(p.Result is { } any ? Took(any.FinishedAt - any.StartedAt) : ""), Cell(p.RunId ?? ""),
                error is null ? Cell("") : new Markup($"[red]{Markup.Escape(OneLine(error))}[/]"));
        }
        table.AddEmptyRow();
        var failed = run.Processes.Count(p => p.State == ProcessRunState.Failed);
        var succeeded = run.Processes.Count(p => p.State == ProcessRunState.Succeeded);
        var notRun = run.Processes.Count - failed - succeeded;
        table.AddRow(new Markup("[bold]total[/]"), Cell(""),
            new Markup($"{succeeded} ok" + (failed > 0 ? $", [red]{failed} failed[/]" : "") + (notRun > 0 ? $", {notRun} not run" : "")),
            Cell(N(ins)), Cell(N(upd)), Cell(N(del)), Cell(N(same)), Cell(N(rows)), Cell(""), Cell(""), Cell(""));
        return table;
    }

    private static Table LiveTable(PipelineRunStatus run)
    {
        var group = Math.Min(run.CurrentGroup + 1, Math.Max(run.Groups, 1));
        var table = new Table
        {
            Border = TableBorder.Simple,
            Title = new TableTitle($"pipeline run {Markup.Escape(run.PipelineRunId)} ({Markup.Escape(run.Name)}): group {group}/{run.Groups}, " +
                $"{Took(DateTimeOffset.UtcNow - run.StartedAt)}"),
        };
        table.AddColumns("group", "process", "state", "run", "result");
        foreach (var p in run.Processes.OrderBy(p => p.Group))
            table.AddRow(Cell((p.Group + 1).ToString()), Cell(p.ProcessId), StateMarkup(p.State), Cell(p.RunId ?? ""),
                p.Error is { } e ? new Markup($"[red]{Markup.Escape(OneLine(e))}[/]") : Cell(p.Result is { } r ? Short(r.Counts) : ""));
        return table;
    }

    // ---- helpers ------------------------------------------------------------------------------------------

    private static async Task<int> WithClientAsync(string? coordinator, string? token, Func<FerryApiClient, Task<int>> work)
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

    /// <summary>Keeps the processes that match any pattern (* and ? as in `ferry run`); a pattern that matches nothing is an error.</summary>
    private static IReadOnlyList<ProcessEntry> Filter(IReadOnlyList<ProcessEntry> processes, string[] patterns)
    {
        if (patterns.Length == 0) return processes;
        var regexes = patterns.Select(p => (p, new Regex("^" + Regex.Escape(p).Replace("\\*", "[^ ]*").Replace("\\?", ".") + "$", RegexOptions.CultureInvariant))).ToList();
        var unmatched = regexes.Where(r => !processes.Any(p => r.Item2.IsMatch(p.ProcessId))).Select(r => r.p).ToList();
        if (unmatched.Count > 0)
            throw new ArgumentException($"no process matches {string.Join(", ", unmatched)} (the coordinator knows {processes.Count} process(es); `ferry status` lists them)");
        return processes.Where(p => regexes.Any(r => r.Item2.IsMatch(p.ProcessId))).ToList();
    }

    private static Markup StateMarkup<T>(T state) where T : struct, Enum => new(StateText(state));

    /// <summary>A run or process state as markup: green when it succeeded, red when it failed.</summary>
    private static string StateText<T>(T state) where T : struct, Enum => Lower(state) switch
    {
        "succeeded" => "[green]succeeded[/]",
        "failed" => "[red]failed[/]",
        "running" => "[blue]running[/]",
        "cancelled" => "[yellow]cancelled[/]",
        var other => Markup.Escape(other),
    };

    private static IRenderable HistoryStatus(RunHistory.Row r) => r.Status switch
    {
        RunStatus.Succeeded => new Markup("[green]succeeded[/]"),
        RunStatus.Failed => new Markup("[red]failed[/]"),
        RunStatus.Running => new Markup($"[blue]running[/] ({Markup.Escape(r.Step)})"),
        _ => new Markup(Markup.Escape(r.Status.Text())),
    };

    private static Text Cell(string text) => new(text);
    private static string Lower<T>(T value) where T : struct, Enum => value.ToString().ToLowerInvariant();
    private static string Lower<T>(T? value) where T : struct, Enum => value is { } v ? Lower(v) : "";
    private static string N(long? n) => n?.ToString("N0") ?? "";
    private static string Short(MergeCounts c) => $"+{c.Inserted:N0} ~{c.Updated:N0} -{c.Deleted:N0}";
    private static string When(DateTimeOffset? at) => at?.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss") ?? "";
    private static string OneLine(string? text) => text?.ReplaceLineEndings(" ").Trim() ?? "";

    private static string Took(TimeSpan t) => t.TotalSeconds < 60 ? $"{Math.Max(t.TotalSeconds, 0):0.0} s"
        : t.TotalMinutes < 60 ? $"{(int)t.TotalMinutes} min {t.Seconds:00} s"
        : $"{(int)t.TotalHours} h {t.Minutes:00} min";
}
