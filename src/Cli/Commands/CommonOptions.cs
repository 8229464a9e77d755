using System.CommandLine;

namespace Ferry.Cli.Commands;

/// <summary>Options more than one verb takes, and where their defaults come from.</summary>
public static class CommonOptions
{
    public static Option<DirectoryInfo?> Metadata() => new("--metadata", "-m")
    {
        Description = "The metadata folder (default: $FERRY_METADATA, else ./metadata, else the one shipped beside ferry)",
    };

    /// <summary>$FERRY_METADATA, ./metadata, then the metadata folder copied beside the binary.</summary>
    public static string MetadataDirectory(DirectoryInfo? given)
    {
        if (given is not null) return given.FullName;
        if (Environment.GetEnvironmentVariable("FERRY_METADATA") is { Length: > 0 } env) return Path.GetFullPath(env);
        var local = Path.GetFullPath("metadata");
        if (File.Exists(Path.Combine(local, "connections.yaml"))) return local;
        return Path.Combine(AppContext.BaseDirectory, "metadata");
    }
}
