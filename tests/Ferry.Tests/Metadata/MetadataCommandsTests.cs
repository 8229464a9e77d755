using System.CommandLine;
using Ferry.Cli.Commands;

namespace Ferry.Tests.Metadata;

/// <summary>`ferry metadata validate | generate` find their folder like every other command.</summary>
public sealed class MetadataCommandsTests
{
    private static async Task<(int Exit, string Output)> RunWithVariableAsync(string folder, params string[] args)
    {
        var before = Environment.GetEnvironmentVariable(CommonOptions.MetadataVariable);
        Environment.SetEnvironmentVariable(CommonOptions.MetadataVariable, folder);
        try
        {
            var output = new StringWriter();
            var exit = await MetadataCommands.Build().Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = output });
            return (exit, output.ToString());
        }
        finally
        {
            Environment.SetEnvironmentVariable(CommonOptions.MetadataVariable, before);
        }
    }

    [Fact]
    public async Task Validate_without_metadata_reads_the_folder_named_by_FERRY_METADATA()
    {
        using var folder = new MetadataFolder("sources: {}\n");

        var (exit, output) = await RunWithVariableAsync(folder.Root, "validate");

        Assert.Equal(1, exit);
        Assert.Contains(folder.PathOf("connections.yaml") + ":", output);
    }

    [Fact]
    public async Task Generate_without_metadata_reads_the_folder_named_by_FERRY_METADATA()
    {
        using var folder = new MetadataFolder();

        var (exit, output) = await RunWithVariableAsync(folder.Root, "generate", "--source", "nope");

        Assert.Equal(1, exit);
        Assert.Contains($"{folder.PathOf("connections.yaml")}: unknown source 'nope'", output);
    }
}
