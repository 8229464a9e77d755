using Ferry.Cli.Local;
using System.CommandLine;
using Ferry.Cli.Api;
using Ferry.Cli.Rendering;
using Ferry.Coordinator.Pipelines;
using Ferry.Shared.History;
using Ferry.Shared.Metadata;
using Ferry.Shared.Stg;
using Ferry.Shared.Storage;
using Ferry.Worker.Stg;
using Spectre.Console;

namespace Ferry.Cli.Commands;

/// <summary>`ferry run` and `ferry replay`: STG processes run inside this process.</summary>
public static class RunCommands
{
    public static Command Run()
    {
        var processes = new Argument<string[]>("target") { Description = "Pipelines, groups, or process ids and patterns: nightly, qvp, stg.qvp.users, stg.qvp.*", Arity = ArgumentArity.OneOrMore };
        var mode = new Option<RunMode>("--mode") { Description = "bulk: every row; incremental: the CDC window of each table", DefaultValueFactory = _ => RunMode.Incremental };
        var sweep = new Option<bool?>("--sweep") { Description = "Run (or skip, with --sweep false) the key sweep that finds hard deletes in window/watermark tables" };
        var parallel = new Option<int>("--parallel", "-p") { Description = "Processes run at once", DefaultValueFactory = _ => 2 };
        var metadataOption = CommonOptions.Metadata();
        var local = new Option<bool>("--local") { Description = "Run the processes inside this process instead of on the cluster (no coordinator needed)" };
        var wait = new Option<bool>("--wait") { Description = "Follow the run on the cluster until it ends; exit code 1 if it failed" };
        var json = new Option<bool>("--json") { Description = "With --wait: one JSON object per poll on standard output (state, rows done and expected, rows/s, ETA); other lines on standard error" };
        var maxAge = new Option<string?>("--max-age") { Description = "For the run's verify processes: rows changed this recently are in flight, not errors (0s once the sources are offline)" };
        var coordinator = ClusterCommands.CoordinatorOption();
        var token = ClusterCommands.TokenOption();
        var command = new Command("run", "Run pipelines, groups or processes on the cluster (or --local): extract, load and merge into STG")
            { processes, mode, sweep, wait, json, local, parallel, maxAge, metadataOption, coordinator, token };
        command.SetAction(async (r, ct) =>
        {
            if (!r.GetValue(local))
            {
                TimeSpan? age = null;
                if (r.GetValue(maxAge) is { } text && (age = Durations.Parse(text)) is null)
                {
                    Console.Error.WriteLine($"ferry run: --max-age {text}: expected a duration such as 0s, 15m, 2h");
                    return 2;
                }
                using var client = FerryApiClient.Connect(r.GetValue(coordinator), r.GetValue(token));
                var console = r.GetValue(json) ? AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) }) : AnsiConsole.Console;
                return await ClusterCommands.RunOnClusterAsync(client, r.GetValue(processes)!, r.GetValue(mode), r.GetValue(sweep), r.GetValue(wait),
                    console, TimeSpan.FromSeconds(1), ct, age, r.GetValue(json));
            }
            var (metadata, store) = Open(r.GetValue(metadataOption));
            var ids = ProcessSelector.Select(metadata, r.GetValue(processes)!);
            if (ids.FirstOrDefault(id => metadata.FindTable(id) is null) is { } other)
            {
                Console.Error.WriteLine($"ferry run --local: {other} is not an STG table; --local runs source-to-STG processes only (run it on the cluster)");
                return 2;
            }
            var tables = ids.Select(id => metadata.FindTable(id)!).ToList();
            var outcomes = await RunBatchAsync(metadata, store, tables, r.GetValue(mode), r.GetValue(parallel), r.GetValue(sweep), ct);
            AnsiConsole.Write(RunReport.Build($"ferry run ({r.GetValue(mode).ToString().ToLowerInvariant()})", outcomes));
            return outcomes.All(o => o.Succeeded) ? 0 : 1;
        });
        return command;
    }

    public static Command Replay()
    {
        var process = new Argument<string>("process") { Description = "One process id, e.g. stg.qvp.users" };
        var run = new Option<string?>("--run") { Description = "The run id to re-load (default: the newest complete extract)" };
        var list = new Option<bool>("--list") { Description = "List the runs whose files can be replayed" };
        var force = new Option<bool>("--force") { Description = "Replay a run older than the one STG last took in (rolls STG back to that run)" };
        var metadataOption = CommonOptions.Metadata();
        var command = new Command("replay", "Re-load an earlier run's files into STG without touching the source") { process, run, list, force, metadataOption };
        command.SetAction(async (r, ct) =>
        {
            var (metadata, store) = Open(r.GetValue(metadataOption));
            var processId = ProcessSelector.Select(metadata, [r.GetValue(process)!]).Single();
            if (metadata.FindTable(processId) is not { } table)
            {
                Console.Error.WriteLine($"ferry replay: {processId} is not an STG table (only source-to-STG runs leave files to replay)");
                return 2;
            }
            var stg = new StgProcess(metadata, store)
            {
                History = new RunHistory(metadata.Target.ToConnectionString("ferry-replay")),
                HistoryWarning = Console.Error.WriteLine,
                WaitingForWriter = (id, holder) => Console.Error.WriteLine($"{id}: waiting for the STG writer lock, held by {holder}"),
            };
            var runs = await stg.ListRunsAsync(table, ct);
            if (r.GetValue(list))
            {
                foreach (var id in runs) Console.WriteLine(id);
                return 0;
            }
            var runId = r.GetValue(run) ?? runs.LastOrDefault();
            if (runId is null)
            {
                Console.Error.WriteLine($"{table.ProcessId}: no complete extract in {store.Describe()}");
                return 1;
            }
            ProcessOutcome outcome;
            try { outcome = new ProcessOutcome(table.ProcessId, await stg.ReplayAsync(table, runId, r.GetValue(force), new LiveProgress(), ct), null); }
            catch (ReplayRefusedException e)
            {
                Console.Error.WriteLine(e.Message);
                return 2;
            }
            catch (Exception e) when (e is not OperationCanceledException) { outcome = new ProcessOutcome(table.ProcessId, null, e.Message); }
            AnsiConsole.Write(RunReport.Build($"ferry replay {runId}", [outcome]));
            return outcome.Succeeded ? 0 : 1;
        });
        return command;
    }

    public static (MigrationMetadata, IObjectStore) Open(DirectoryInfo? metadataDirectory)
    {
        var dir = CommonOptions.MetadataDirectory(metadataDirectory);
        var metadata = MetadataLoader.Load(dir);
        // Relative object-store paths are relative to the folder that holds metadata/.
        return (metadata, ObjectStoreFactory.Create(metadata.ObjectStore, metadata.ProjectFolder));
    }

    public static async Task<IReadOnlyList<ProcessOutcome>> RunBatchAsync(MigrationMetadata metadata, IObjectStore store, IReadOnlyList<SourceTable> tables,
        RunMode mode, int parallel, bool? sweep, CancellationToken ct)
    {
        var progress = new LiveProgress();
        var batch = new LocalBatch(metadata, new StgProcess(metadata, store));
        return await progress.ShowAsync($"{tables.Count} process(es), {mode.ToString().ToLowerInvariant()}",
            () => batch.RunAsync(tables, mode, parallel, sweep, progress, o =>
            {
                progress.Finished(o.ProcessId);
                if (!o.Succeeded || !AnsiConsole.Profile.Capabilities.Interactive || Console.IsOutputRedirected)
                    Console.WriteLine("  " + RunReport.Line(o));
            }, ct));
    }
}
