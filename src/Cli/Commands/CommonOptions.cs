using System.CommandLine;

namespace Ferry.Cli.Commands;

/// <summary>Options more than one verb takes, and where their defaults come from.</summary>
public static class CommonOptions
{
    public static Option<DirectoryInfo?> Metadata() => new("--metadata", "-m")
    {
        Description = "The metadata folder (default: $FERRY_METADATA, else ./metadata, else the one shipped beside ferry)",
    };

    public const string MetadataVariable = "FERRY_METADATA";

    /// <summary>$FERRY_METADATA, ./metadata, then the metadata folder copied beside the binary.</summary>
    public static string MetadataDirectory(DirectoryInfo? given)
    {
        if (given is not null) return given.FullName;
        if (Environment.GetEnvironmentVariable(MetadataVariable) is { Length: > 0 } env) return Path.GetFullPath(env);
        var local = Path.GetFullPath("metadata");
        if (File.Exists(Path.Combine(local, "connections.yaml"))) return local;
        return Path.Combine(AppContext.BaseDirectory, "metadata");
    }

    /// <summary>
    /// For the verbs that write and check the metadata itself (<c>ferry metadata generate | validate</c>):
    /// --metadata, else $FERRY_METADATA, else ./metadata, as typed, so messages show the paths the user
    /// wrote; never the copy beside the binary (generate would write into it).
    /// </summary>
    public static string MetadataDirectoryAsTyped(DirectoryInfo? given) =>
        given?.ToString() ?? (Environment.GetEnvironmentVariable(MetadataVariable) is { Length: > 0 } env ? env : "metadata");
}
