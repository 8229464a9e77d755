using System.CommandLine;
using Ferry.Shared.Metadata;
using Ferry.Shared.Stg;
using Ferry.Worker.Files;
using Ferry.Worker.Stg;

namespace Ferry.Cli.Commands;

/// <summary>`ferry files failures | run`: the files that could not be copied, and a files process run inside this process.</summary>
public static class FilesCommands
{
    public static Command Build()
    {
        var command = new Command("files", "File attachments: list the files that failed to copy, or copy them here (files.qvp, files.svp …)");
        command.Subcommands.Add(Failures());
        command.Subcommands.Add(Run());
        return command;
    }

    private static Command Failures()
    {
        var process = new Option<string?>("--process") { Description = "Only this files process, e.g. files.qvp", HelpName = "ID" };
        var limit = new Option<int>("--limit") { Description = "Show at most this many files", DefaultValueFactory = _ => 50, HelpName = "N" };
        var metadataOption = CommonOptions.Metadata();
        var command = new Command("failures", "List the files whose last copy failed (from stg.file_copies on the target): key, attempts, error, last run")
            { process, limit, metadataOption };
        command.SetAction(async (r, ct) =>
        {
            var output = r.InvocationConfiguration.Output;
            var metadata = MetadataLoader.Load(CommonOptions.MetadataDirectory(r.GetValue(metadataOption)));
            var processId = r.GetValue(process);
            if (processId is not null && metadata.FindFiles(processId) is null)
                throw new ArgumentException($"files failures: {processId} is not a files process (defined: {Defined(metadata)})");
            if (r.GetValue(limit) < 1) throw new ArgumentException("files failures: --limit must be at least 1");

            var failures = await new FilesProcess(metadata).ListFailuresAsync(processId, r.GetValue(limit), ct);
            if (failures.Count == 0)
            {
                await output.WriteLineAsync($"No failed files{(processId is null ? "" : $" in {processId}")}: every file listed so far was copied and verified.");
                return 0;
            }
            var keyWidth = Math.Min(60, Math.Max("SOURCE KEY".Length, failures.Max(f => f.SourceKey.Length)));
            var processWidth = Math.Max("PROCESS".Length, failures.Max(f => f.ProcessId.Length));
            var runWidth = Math.Max("LAST RUN".Length, failures.Max(f => f.RunId.Length));
            await output.WriteLineAsync($"{"PROCESS".PadRight(processWidth)}  {"SOURCE KEY".PadRight(keyWidth)}  ATTEMPTS  {"LAST RUN".PadRight(runWidth)}  ERROR");
            foreach (var f in failures)
                await output.WriteLineAsync($"{f.ProcessId.PadRight(processWidth)}  {f.SourceKey.PadRight(keyWidth)}  {f.Attempts,8}  {f.RunId.PadRight(runWidth)}  {f.Error}");
            await output.WriteLineAsync(failures.Count == r.GetValue(limit)
                ? $"{failures.Count} failed file(s) shown (--limit {r.GetValue(limit)}); there may be more."
                : $"{failures.Count} failed file(s). They are retried by every later run, bulk or incremental.");
            return 0;
        });
        return command;
    }

    private static Command Run()
    {
        var process = new Argument<string>("process") { Description = "The files process, e.g. files.qvp" };
        var mode = new Option<RunMode>("--mode") { Description = "bulk: every file; incremental: files created in the window plus every file not yet copied", DefaultValueFactory = _ => RunMode.Incremental };
        var metadataOption = CommonOptions.Metadata();
        var command = new Command("run", "Copy a files process's objects to the target store inside this process (no cluster needed)") { process, mode, metadataOption };
        command.SetAction(async (r, ct) =>
        {
            var output = r.InvocationConfiguration.Output;
            var metadata = MetadataLoader.Load(CommonOptions.MetadataDirectory(r.GetValue(metadataOption)));
            var id = r.GetValue(process)!;
            var files = metadata.FindFiles(id) ?? throw new ArgumentException($"files run: {id} is not a files process (defined: {Defined(metadata)})");
            var runId = RunLayout.NewRunId(DateTimeOffset.UtcNow);
            var result = await new FilesProcess(metadata).RunAsync(files, r.GetValue(mode), runId, null, ct);
            var c = result.Counts;
            await output.WriteLineAsync($"{files.ProcessId} ({r.GetValue(mode).ToString().ToLowerInvariant()}, run {runId}): {c.Copied:N0} copied, {c.Skipped:N0} skipped, {c.Failed:N0} failed");
            foreach (var f in result.Failures)
                await output.WriteLineAsync($"  failed: {f.SourceKey}: {f.Error}");
            if (c.Failed > result.Failures.Count)
                await output.WriteLineAsync($"  … and {c.Failed - result.Failures.Count:N0} more: ferry files failures --process {files.ProcessId}");
            return c.Failed == 0 ? 0 : 1;
        });
        return command;
    }

    private static string Defined(MigrationMetadata metadata) =>
        metadata.Files.Count == 0 ? "none; add metadata/files/<name>.yaml" : string.Join(", ", metadata.Files.Select(f => f.ProcessId));
}
