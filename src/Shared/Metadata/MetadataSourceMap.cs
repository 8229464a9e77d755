namespace Ferry.Shared.Metadata;

/// <summary>
/// Where each loaded value was written, so later checks (such as <c>ferry metadata validate</c>)
/// can point at the line. Paths: in a table file <c>table</c>, <c>name</c>, <c>key[0]</c>,
/// <c>cdc.columns[1]</c>, <c>cdc.column</c>, <c>soft_delete_column</c>; in connections.yaml
/// <c>sources.qvp</c>, <c>target</c>, <c>object_store</c>.
/// </summary>
public sealed class MetadataSourceMap
{
    private readonly Dictionary<(string File, string Path), (int Line, int Column)> _positions = new();

    public static MetadataSourceMap Empty { get; } = new();

    internal void Add(string file, string path, int line, int column) => _positions[(file, path)] = (line, column);

    public (int Line, int Column)? Find(string file, string path) =>
        _positions.TryGetValue((file, path), out var p) ? p : null;

    /// <summary>An error at <paramref name="path"/> in <paramref name="file"/>, or at the file when the path is unknown.</summary>
    public MetadataError Error(string file, string path, string message) =>
        Find(file, path) is { } p ? new MetadataError(file, p.Line, p.Column, message) : new MetadataError(file, null, null, message);
}
