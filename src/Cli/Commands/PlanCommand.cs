using System.CommandLine;
using Ferry.Cli.Demo;
using Ferry.Shared.Metadata;
using Ferry.Shared.Bl;
using Spectre.Console;

namespace Ferry.Cli.Commands;

/// <summary>`ferry plan`: the order of the BL transforms, level by level, and why each table waits.</summary>
public static class PlanCommand
{
    public static Command Build()
    {
        var sql = new Option<DirectoryInfo?>("--sql") { Description = "The folder of BL transforms (default: target.transforms of the metadata, else the bl folder of the sql folder)" };
        var target = new Option<string?>("--target") { Description = "Target connection string to read foreign keys from (default: the target of the metadata)" };
        var noTarget = new Option<bool>("--no-target") { Description = "Order by declared depends only, without reading the target's foreign keys" };
        var metadataOption = CommonOptions.Metadata();
        var command = new Command("plan", "Print the order of the business-layer transforms: declared depends and the target's foreign keys") { sql, target, noTarget, metadataOption };
        command.SetAction(async (r, ct) =>
        {
            try
            {
                // The transforms: --sql, else the metadata's target.transforms, else the bl folder of the sql folder.
                var metadata = r.GetValue(sql) is null || (!r.GetValue(noTarget) && r.GetValue(target) is null)
                    ? MetadataLoader.LoadConnections(CommonOptions.MetadataDirectory(r.GetValue(metadataOption)))
                    : null;
                var folder = r.GetValue(sql)?.FullName ?? metadata?.TransformsFolder ?? Path.Combine(SqlFolder.Locate(), "bl");
                var files = TransformFile.LoadFolder(folder);
                TransformPlan plan;
                if (r.GetValue(noTarget))
                    plan = TransformPlan.Build(files, []);
                else
                {
                    var cs = r.GetValue(target) ?? metadata!.Target.ToConnectionString("ferry plan");
                    plan = await TransformPlan.BuildAsync(files, cs, ct);
                }
                Print(plan);
                return 0;
            }
            catch (TransformFileException e)
            {
                Console.Error.WriteLine($"ferry plan: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    private static void Print(TransformPlan plan)
    {
        for (var i = 0; i < plan.Levels.Count; i++)
        {
            AnsiConsole.MarkupLine($"[bold]level {i + 1}[/]");
            foreach (var file in plan.Levels[i])
            {
                var after = plan.Dependencies.Where(d => d.Table == file.Target)
                    .GroupBy(d => d.DependsOn).Select(g => $"{TransformPlan.Show(g.Key)} ({string.Join(", ", g.Select(d => d.Reason))})");
                var line = $"  {file.ProcessId,-40} {file.FileName} · {file.Mode.ToString().ToLowerInvariant()}";
                AnsiConsole.WriteLine(line);
                foreach (var a in after) AnsiConsole.WriteLine($"      after {a}");
            }
        }
    }
}
