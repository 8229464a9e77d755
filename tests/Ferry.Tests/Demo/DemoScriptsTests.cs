using Ferry.Cli.Demo;

namespace Ferry.Tests.Demo;

public class DemoScriptsTests
{
    private static readonly string[] Scripts = ["qvp_generate.sql", "svp_generate.sql", "qvp_mutate.sql", "svp_mutate.sql"];

    [Fact]
    public void The_sql_folder_is_found_and_holds_the_six_demo_scripts()
    {
        var folder = SqlFolder.Locate();
        foreach (var name in new[] { "qvp_schema.sql", "svp_schema.sql" }.Concat(Scripts))
            Assert.True(File.Exists(Path.Combine(folder, "demo", name)), $"{name} is missing from {folder}");
    }

    [Fact]
    public async Task The_four_generate_and_mutate_scripts_include_the_shared_helpers_once()
    {
        // The same person must have the same email everywhere: one helpers file serves all four scripts.
        foreach (var source in new[] { DemoSource.Qvp, DemoSource.Svp })
            foreach (var kind in new[] { "generate", "mutate" })
            {
                var script = await DemoSources.ScriptAsync(source, kind, default);
                Assert.DoesNotContain(script.Split('\n'), line => line.StartsWith("\\ir ", StringComparison.Ordinal));
                Assert.Single(System.Text.RegularExpressions.Regex.Matches(script, @"FUNCTION pg_temp\.rnd\("));
            }
    }

    [Fact]
    public void Demo_file_content_is_the_key_and_a_newline_repeated_up_to_the_size()
    {
        using var content = DemoFiles.OpenContent("ab/ü", 13);
        using var copy = new MemoryStream();
        content.CopyTo(copy);
        Assert.Equal("ab/ü\nab/ü\na"u8.ToArray(), copy.ToArray()); // ü is two bytes
        Assert.Equal(0, DemoFiles.OpenContent("x", 0).Length);
    }
}
