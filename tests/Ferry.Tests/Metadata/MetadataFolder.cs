namespace Ferry.Tests.Metadata;

/// <summary>A throwaway project folder with a metadata/ folder inside, deleted on dispose.</summary>
public sealed class MetadataFolder : IDisposable
{
    public const string Connections = """
        sources:
          qvp: { host: 127.0.0.1, port: 5432, database: qvp, user: ferry, password: "${QVP_PASSWORD}" }
          svp: { host: 127.0.0.1, database: svp, user: ferry, password: "${SVP_PASSWORD}" }
        target: { host: 127.0.0.1, database: unipacc, user: ferry, password: "${TARGET_PASSWORD}" }
        object_store: { kind: filesystem, path: .ferry/objects }
        """;

    public string Project { get; } = Path.Combine(Path.GetTempPath(), $"ferry-metadata-{Guid.NewGuid():N}");
    public string Root => Path.Combine(Project, "metadata");

    public MetadataFolder(string? connections = Connections)
    {
        Directory.CreateDirectory(Root);
        if (connections is not null) Write("connections.yaml", connections);
    }

    /// <summary>Writes a file under metadata/ and returns its path as the loader names it.</summary>
    public string Write(string relativePath, string content)
    {
        var path = Path.Combine(Root, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content.ReplaceLineEndings("\n"));
        return path;
    }

    public string PathOf(string relativePath) => Path.Combine(Root, relativePath);

    public void Dispose()
    {
        try { Directory.Delete(Project, recursive: true); } catch (IOException) { }
    }
}
