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
    public void The_shared_helpers_are_the_same_text_in_the_four_generate_and_mutate_scripts()
    {
        // The scripts must run as whole files, so each carries its own copy of the helpers
        // (people, tricky text, file contents); the same person must have the same email everywhere.
        var blocks = Scripts.Select(name =>
        {
            var text = File.ReadAllText(SqlFolder.File(Path.Combine("demo", name))).ReplaceLineEndings("\n");
            var start = text.IndexOf("-- >>> shared helpers", StringComparison.Ordinal);
            var end = text.IndexOf("-- <<< shared helpers <<<", StringComparison.Ordinal);
            Assert.True(start >= 0 && end > start, $"{name} has no shared helpers block");
            return (name, block: text[start..end]);
        }).ToList();
        foreach (var (name, block) in blocks.Skip(1))
            Assert.True(block == blocks[0].block, $"the shared helpers of {name} differ from those of {blocks[0].name}");
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
