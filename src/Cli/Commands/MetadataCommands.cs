using System.CommandLine;
using Ferry.Shared.Metadata;
using Ferry.Worker.Introspection;
using Npgsql;

namespace Ferry.Cli.Commands;

/// <summary>`ferry metadata generate | validate`: write the table files from a source, check them against the sources.</summary>
public static class MetadataCommands
{
    public const string DefaultMetadataDirectory = "metadata";

    public static Command Build()
    {
        var command = new Command("metadata", "Write and check the YAML that says which tables move and how (metadata/).");
        command.Subcommands.Add(BuildGenerate());
        command.Subcommands.Add(BuildValidate());
        return command;
    }

    private static Option<DirectoryInfo?> MetadataOption() => new("--metadata", "-m")
    {
        Description = $"The metadata folder, holding connections.yaml and tables/ (default: ${CommonOptions.MetadataVariable}, else ./{DefaultMetadataDirectory})",
        HelpName = "DIR",
    };

    private static Command BuildGenerate()
    {
        var source = new Option<string>("--source") { Description = "The source to describe, as named in connections.yaml", Required = true, HelpName = "NAME" };
        var metadata = MetadataOption();
        var threshold = new Option<long>("--window-threshold")
        {
            Description = "Tables with at least this many rows get cdc mode window instead of full",
            DefaultValueFactory = _ => new GenerateOptions().WindowThresholdRows,
            HelpName = "ROWS",
        };
        var days = new Option<int>("--window-days") { Description = "Length of the window for window tables", DefaultValueFactory = _ => new GenerateOptions().WindowDays, HelpName = "DAYS" };
        var force = new Option<bool>("--force") { Description = "Overwrite table files that already exist" };

        var command = new Command("generate", "Describe every table of a source and write metadata/tables/<source>/<table>.yaml for each");
        command.Options.Add(source);
        command.Options.Add(metadata);
        command.Options.Add(threshold);
        command.Options.Add(days);
        command.Options.Add(force);
        command.SetAction(async (ParseResult r, CancellationToken ct) =>
        {
            var output = r.InvocationConfiguration.Output;
            var error = r.InvocationConfiguration.Error;
            var sourceName = r.GetValue(source)!;
            var directory = CommonOptions.MetadataDirectoryAsTyped(r.GetValue(metadata));
            var thresholdRows = r.GetValue(threshold);
            var windowDays = r.GetValue(days);
            if (thresholdRows < 0 || windowDays < 1)
            {
                await error.WriteLineAsync("metadata generate: --window-threshold must be 0 or more and --window-days at least 1");
                return 2;
            }

            GenerateReport report;
            try
            {
                report = await MetadataGenerator.GenerateAsync(directory, sourceName, new GenerateOptions(thresholdRows, windowDays, r.GetValue(force)), ct);
            }
            catch (MetadataException e)
            {
                await error.WriteLineAsync(e.Message);
                return 1;
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
            {
                await error.WriteLineAsync($"metadata generate: cannot read source {sourceName}: {e.Message}");
                return 1;
            }

            await PrintAsync(output, report);

            // What was written must load: say so now, not at the first run.
            try
            {
                var loaded = MetadataLoader.Load(directory);
                await output.WriteLineAsync($"{loaded.Tables.Count} table file(s) under {Path.Combine(directory, MetadataLoader.TablesFolder)} load cleanly; next: ferry metadata validate");
                return 0;
            }
            catch (MetadataException e)
            {
                await error.WriteLineAsync(e.Message);
                return 1;
            }
        });
        return command;
    }

    private static Command BuildValidate()
    {
        var metadata = MetadataOption();
        var command = new Command("validate", "Load every metadata file, then check each table, key and CDC column against its source, each BL transform against the target (EXPLAIN, nothing written) and each files process's listing and stores");
        command.Options.Add(metadata);
        command.SetAction(async (ParseResult r, CancellationToken ct) =>
        {
            var output = r.InvocationConfiguration.Output;
            var directory = CommonOptions.MetadataDirectoryAsTyped(r.GetValue(metadata));
            MigrationMetadata loaded;
            MetadataSourceMap positions;
            try
            {
                loaded = MetadataLoader.Load(directory, out positions);
            }
            catch (MetadataException e)
            {
                foreach (var problem in e.Errors)
                    await output.WriteLineAsync(problem.ToString());
                await output.WriteLineAsync($"{e.Errors.Count} problem(s): the metadata does not load");
                return 1;
            }

            var report = await MetadataValidator.ValidateAsync(loaded, positions, ct);
            foreach (var problem in report.Problems)
                await output.WriteLineAsync(problem.ToString());
            foreach (var warning in report.Warnings)
                await output.WriteLineAsync($"warning: {warning}");
            var summary = $"{report.TablesChecked} table(s) on {report.SourcesChecked} of {loaded.Sources.Count} source(s)" +
                (loaded.Transforms.Count > 0 ? $", {report.TransformsChecked} transform(s)" : "") +
                (loaded.Files.Count > 0 ? $", {report.FilesChecked} files process(es)" : "");
            if (report.Ok)
            {
                await output.WriteLineAsync($"OK: {summary} match their metadata{(report.Warnings.Count > 0 ? $" ({report.Warnings.Count} warning(s))" : "")}");
                return 0;
            }
            await output.WriteLineAsync($"{report.Problems.Count} problem(s) found checking {summary}");
            return 1;
        });
        return command;
    }

    private static async Task PrintAsync(TextWriter output, GenerateReport report)
    {
        foreach (var warning in report.Warnings)
            await output.WriteLineAsync($"warning: {warning}");
        var counts = report.Tables.GroupBy(t => t.Outcome).OrderBy(g => g.Key).Select(g => $"{g.Count()} {Describe(g.Key)}");
        await output.WriteLineAsync($"source {report.Source}: {report.Tables.Count} table(s): {string.Join(", ", counts)}");
        if (report.Tables.Count == 0) return;
        await output.WriteLineAsync();

        var rows = new List<string[]> { new[] { "TABLE", "ROWS", "MODE", "KEY", "RESULT", "FILE", "NOTE" } };
        rows.AddRange(report.Tables.Select(t => new[]
        {
            t.Source.Name.ToString(),
            t.Source.Rows is { } n ? (n.Exact ? $"{n.Rows:N0}" : $"~{n.Rows:N0}") : "?",
            t.Table?.Cdc.Mode.ToString().ToLowerInvariant() ?? "-",
            t.Table is null ? "-" : string.Join(", ", t.Table.Key),
            Describe(t.Outcome),
            t.File ?? "-",
            t.Note ?? "",
        }));
        var widths = Enumerable.Range(0, rows[0].Length).Select(i => rows.Max(r => r[i].Length)).ToArray();
        foreach (var row in rows)
            await output.WriteLineAsync(string.Join("  ", row.Select((cell, i) => i == 1 ? cell.PadLeft(widths[i]) : cell.PadRight(widths[i]))).TrimEnd());
        await output.WriteLineAsync();
    }

    private static string Describe(GenerateOutcome outcome) => outcome switch
    {
        GenerateOutcome.Written => "written",
        GenerateOutcome.Overwritten => "overwritten",
        GenerateOutcome.Exists => "exists",
        GenerateOutcome.Covered => "covered",
        _ => "no key",
    };
}
