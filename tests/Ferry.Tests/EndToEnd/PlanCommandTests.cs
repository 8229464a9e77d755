namespace Ferry.Tests.EndToEnd;

public class PlanCommandTests
{
    private static string Metadata => Path.Combine(AppContext.BaseDirectory, "metadata");

    [Fact]
    public async Task Ferry_plan_prints_the_transforms_of_the_metadata_level_by_level_with_why_each_waits()
    {
        var result = await FerryCli.RunAsync(Path.GetTempPath(), null, "plan", "--no-target", "--metadata", Metadata);

        Assert.True(result.ExitCode == 0, result.Output);
        var lines = result.Output.Split('\n').Select(l => l.TrimEnd()).ToList();
        int LevelOf(string processId)
        {
            var at = lines.FindIndex(l => l.TrimStart().StartsWith(processId + " ", StringComparison.Ordinal));
            Assert.True(at >= 0, $"{processId} is not in the plan:\n{result.Output}");
            return int.Parse(lines.Take(at).Last(l => l.StartsWith("level ", StringComparison.Ordinal))["level ".Length..]);
        }
        Assert.Equal(1, LevelOf("bl.unipacc.organisations"));
        Assert.True(LevelOf("bl.unipacc.users") > LevelOf("bl.unipacc.organisations"));
        Assert.True(LevelOf("bl.unipacc.verification_requests") > LevelOf("bl.unipacc.users"));
        Assert.True(LevelOf("bl.unipacc.attachments") > LevelOf("bl.unipacc.reports"));
        Assert.Contains("after unipacc.organisations (depends)", result.Output);
    }

    [Fact]
    public async Task A_dependency_cycle_is_an_error_naming_its_tables()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"ferry-plan-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(Path.Combine(folder, "a.sql"), "-- target: unipacc.a\n-- key: id\n-- depends: b\nSELECT 1 AS id\n");
        await File.WriteAllTextAsync(Path.Combine(folder, "b.sql"), "-- target: unipacc.b\n-- key: id\n-- depends: a\nSELECT 1 AS id\n");
        try
        {
            var result = await FerryCli.RunAsync(Path.GetTempPath(), null, "plan", "--no-target", "--sql", folder);

            Assert.Equal(1, result.ExitCode);
            Assert.Contains("dependency cycle: unipacc.a → unipacc.b → unipacc.a", result.Output);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
