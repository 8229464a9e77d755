using System.Collections.Concurrent;
using System.CommandLine;
using System.Security.Cryptography;
using System.Text.Json;
using Ferry.Cli.Api;
using Ferry.Cli.Rendering;
using Ferry.Coordinator.Api;
using Ferry.Coordinator.Pipelines;
using Ferry.Shared.Metadata;
using Ferry.Shared.Processes;
using Ferry.Shared.Stg;
using Ferry.Shared.Verify;
using Ferry.Worker.Verify;
using Spectre.Console;

namespace Ferry.Cli.Commands;

/// <summary>
/// `ferry verify [TARGET…]`: the reconciliation that decides cutover. Runs the verify processes on the cluster
/// (or, with --local, in this process), then prints what they found, writes it as JSON and HTML if asked, and
/// exits 0 only when every process found source and target equal. Every verification is kept in the target
/// (ferry.verify_results); `ferry verify --list` shows the latest.
/// </summary>
public static class VerifyCommand
{
    public static Command Build()
    {
        var targets = new Argument<string[]>("target")
        {
            Description = "What to verify (default: everything): verify.qvp.users, verify.qvp.*, verify.checks, verify.orphans, verify.files.qvp, " +
                          "or the processes they check: stg.qvp.users, files.*, bl.*",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var maxAge = new Option<string>("--max-age") { Description = "Rows changed in the source this recently (by their CDC columns) are reported in flight, not as errors: 30s, 15m, 2h", DefaultValueFactory = _ => "15m" };
        var keys = new Option<int>("--keys") { Description = "Differences shown per process in the terminal (the JSON has them all)", DefaultValueFactory = _ => 10 };
        var json = new Option<FileInfo?>("--json") { Description = "Write the whole verification as JSON to this file (- for standard output)" };
        var html = new Option<FileInfo?>("--html") { Description = "Write a self-contained HTML report to this file" };
        var list = new Option<bool>("--list") { Description = "List the latest verifications instead of running one" };
        var show = new Option<string?>("--show") { Description = "Show a verification that ran before, by id (with --json/--html to write it out)" };
        var local = new Option<bool>("--local") { Description = "Verify inside this process instead of on the cluster (no coordinator needed)" };
        var parallel = new Option<int>("--parallel", "-p") { Description = "Verify processes run at once with --local", DefaultValueFactory = _ => 2 };
        var metadataOption = CommonOptions.Metadata();
        var coordinator = ClusterCommands.CoordinatorOption();
        var token = ClusterCommands.TokenOption();
        var command = new Command("verify", "Compare the sources with STG, the key indicators and foreign keys of the business layer, and the copied attachments")
            { targets, maxAge, keys, json, html, list, show, local, parallel, metadataOption, coordinator, token };
        command.SetAction(async (r, ct) =>
        {
            if (Durations.Parse(r.GetValue(maxAge)!) is not { } age)
            {
                Console.Error.WriteLine($"ferry verify: --max-age {r.GetValue(maxAge)}: expected a duration such as 30s, 15m, 2h");
                return 2;
            }
            var report = new Report(r.GetValue(keys), r.GetValue(json), r.GetValue(html));
            // With --json - the JSON is standard output's alone: what a person reads while it runs goes to standard error.
            var console = report.JsonToStdout ? AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) }) : AnsiConsole.Console;
            IReadOnlyList<string> patterns;
            try { patterns = VerifyTargets.From(r.GetValue(targets) ?? []); }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine($"ferry verify: {e.Message}");
                return 2;
            }
            if (r.GetValue(local))
            {
                var metadata = MetadataLoader.Load(CommonOptions.MetadataDirectory(r.GetValue(metadataOption)));
                var store = new VerifyStore(metadata.Target.ToConnectionString("ferry verify"));
                if (r.GetValue(list)) return ListOut(await store.ListAsync(20, ct));
                if (r.GetValue(show) is { } id)
                    return await store.GetAsync(id, ct) is { } kept ? await report.WriteAsync(kept, ct) : NotFound(id);
                return await report.WriteAsync(await RunLocalAsync(metadata, store, patterns, VerifySettings.Default with { MaxAge = age }, r.GetValue(parallel), ct, console), ct);
            }
            return await ClusterCommands.WithClientAsync(r.GetValue(coordinator), r.GetValue(token), async client =>
            {
                if (r.GetValue(list)) return ListOut((await client.ListVerificationsAsync(20, ct)).Verifications);
                if (r.GetValue(show) is { } id) return await report.WriteAsync(await client.GetVerificationAsync(id, ct), ct);
                var verification = await RunOnClusterAsync(client, patterns, age, console, ct);
                return verification is null ? 1 : await report.WriteAsync(verification, ct);
            });
        });
        return command;
    }

    /// <summary>
    /// Runs the verify processes on the cluster as one pipeline run (so they obey the per-source limits and spread
    /// over the workers) and reads back what they recorded; a process that ended without a record (its retries ran
    /// out, it could not start) is in the verification as failed, with the run's error. Null when the run was refused.
    /// </summary>
    public static async Task<Verification?> RunOnClusterAsync(FerryApiClient client, IReadOnlyList<string> patterns, TimeSpan maxAge, IAnsiConsole console,
        CancellationToken ct)
    {
        var start = await ClusterCommands.StartAsync(client, [.. patterns], RunMode.Incremental, null, console, ct, maxAge);
        if (start.Rejected is { } rejected)
        {
            console.MarkupLine($"[red]rejected[/]: {Markup.Escape(rejected.Reason)}");
            return null;
        }
        var accepted = start.Accepted!;
        console.MarkupLine($"verification [bold]{Markup.Escape(accepted.PipelineRunId)}[/]: {accepted.Plan.Sum(s => s.Count)} verify process(es) on the cluster");
        var final = await RunFollower.FollowAsync(client, accepted.PipelineRunId, console, TimeSpan.FromSeconds(1), ct);
        Verification? recorded = null;
        try { recorded = await client.GetVerificationAsync(accepted.PipelineRunId, ct); }
        catch (FerryApiException e) when (e.Status == System.Net.HttpStatusCode.NotFound) { }
        var results = recorded?.Results.ToDictionary(x => x.ProcessId) ?? [];
        foreach (var p in final.Processes.Where(p => !results.ContainsKey(p.ProcessId)))
            results[p.ProcessId] = VerifyResult.Failure(p.ProcessId, p.ProcessId, p.Error ?? p.Result?.Error ?? $"ended {p.State.ToString().ToLowerInvariant()} without a result",
                p.Result is { } run ? run.FinishedAt - run.StartedAt : TimeSpan.Zero);
        return new Verification(accepted.PipelineRunId, [.. results.Values.OrderBy(x => x.ProcessId, StringComparer.Ordinal)]);
    }

    /// <summary>`--local`: the verify processes in this process, a few at a time, recorded like the cluster's.</summary>
    public static async Task<Verification> RunLocalAsync(MigrationMetadata metadata, VerifyStore store, IReadOnlyList<string> patterns, VerifySettings settings,
        int parallel, CancellationToken ct, IAnsiConsole? console = null)
    {
        var ids = ProcessSelector.Select(metadata, patterns).ToList();
        var verificationId = $"vf-{DateTimeOffset.UtcNow:yyyyMMdd'T'HHmmss'Z'}-{Convert.ToHexString(RandomNumberGenerator.GetBytes(3)).ToLowerInvariant()}";
        var results = new ConcurrentDictionary<string, VerifyResult>();
        await (console ?? AnsiConsole.Console).Status().StartAsync($"verifying {ids.Count} process(es)…", async _ =>
            await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, parallel), CancellationToken = ct }, async (id, token) =>
            {
                var clock = System.Diagnostics.Stopwatch.StartNew();
                VerifyResult result;
                try { result = await Verifier.RunAsync(id, metadata, settings, null, token); }
                catch (Exception e) when (e is not OperationCanceledException) { result = VerifyResult.Failure(id, id, e.Message, clock.Elapsed); }
                await store.RecordAsync(verificationId, verificationId, result, token);
                results[id] = result;
            }));
        return new Verification(verificationId, [.. ids.Select(id => results[id])]);
    }

    private static int ListOut(IReadOnlyList<VerificationSummary> list)
    {
        var table = new Table { Border = TableBorder.Rounded };
        table.AddColumns("verification", "started", "finished", "processes", "equal", "differs", "failed", "differences", "in flight");
        foreach (var v in list)
            table.AddRow(v.VerificationId, Cells.When(v.StartedAt), Cells.When(v.FinishedAt), Cells.N(v.Processes), Cells.N(v.Equal), Cells.N(v.Differs),
                Cells.N(v.Failed), Cells.N(v.Differences), Cells.N(v.InFlight));
        AnsiConsole.Write(table);
        return 0;
    }

    private static int NotFound(string id)
    {
        Console.Error.WriteLine($"ferry verify: no verification {id} (ferry verify --list shows them)");
        return 1;
    }

    /// <summary>Where a verification goes: the terminal, and the JSON and HTML files asked for. Exit code 0 only when it is equal.</summary>
    private sealed record Report(int Keys, FileInfo? Json, FileInfo? Html)
    {
        private static readonly JsonSerializerOptions Indented = new(ApiJson.Options) { WriteIndented = true };

        public bool JsonToStdout => Json?.Name == "-";

        public async Task<int> WriteAsync(Verification v, CancellationToken ct)
        {
            var jsonToStdout = JsonToStdout;
            if (!jsonToStdout) AnsiConsole.Write(VerifyTable.Build(v, Math.Max(0, Keys)));
            if (Json is { } json)
            {
                var text = JsonSerializer.Serialize(v, Indented);
                if (jsonToStdout) Console.WriteLine(text);
                else
                {
                    await File.WriteAllTextAsync(json.FullName, text, ct);
                    AnsiConsole.MarkupLine($"JSON report: {Markup.Escape(json.FullName)}");
                }
            }
            if (Html is { } html)
            {
                await File.WriteAllTextAsync(html.FullName, VerifyHtmlReport.Build(v, DateTimeOffset.UtcNow), ct);
                if (!jsonToStdout) AnsiConsole.MarkupLine($"HTML report: {Markup.Escape(html.FullName)}");
            }
            return v.Outcome == VerifyOutcome.Equal ? 0 : 1;
        }
    }
}

/// <summary>
/// What `ferry verify` is asked to verify, as verify process patterns: verify ids as they are, and the process
/// a verify process checks by that process's id: stg.qvp.users → verify.qvp.users, files.qvp → verify.files.qvp,
/// bl.* → the indicators and the foreign keys. Nothing named: everything.
/// </summary>
public static class VerifyTargets
{
    public static IReadOnlyList<string> From(IReadOnlyList<string> targets)
    {
        var patterns = new List<string>();
        foreach (var raw in targets.Select(t => t.Trim()).Where(t => t.Length > 0))
        {
            if (raw.StartsWith(VerifyProcesses.Prefix, StringComparison.Ordinal)) patterns.Add(raw);
            else if (raw.StartsWith("stg.", StringComparison.Ordinal)) patterns.Add(VerifyProcesses.Prefix + raw["stg.".Length..]);
            else if (raw.StartsWith("files.", StringComparison.Ordinal)) patterns.Add(VerifyProcesses.Prefix + raw);
            else if (raw.StartsWith("bl.", StringComparison.Ordinal)) patterns.AddRange([VerifyProcesses.Checks, VerifyProcesses.Orphans]);
            else throw new ArgumentException($"'{raw}' is not a process id or pattern (verify.qvp.users, stg.qvp.*, files.qvp, bl.*)");
        }
        return patterns.Count == 0 ? [VerifyProcesses.Prefix + "*"] : patterns.Distinct(StringComparer.Ordinal).ToList();
    }
}
