namespace Ferry.Shared.Metadata;

/// <summary>
/// metadata/connections.yaml on its own: what <c>ferry metadata generate</c> needs before any
/// table file exists. <see cref="MigrationMetadata"/> carries the same three parts.
/// </summary>
public sealed record MigrationConnections(
    string Root,
    IReadOnlyDictionary<string, PgConnection> Sources,
    PgConnection Target,
    ObjectStoreConfig ObjectStore)
{
    /// <summary>target.transforms: the folder of BL transform files (absolute), or null when the migration has no business layer.</summary>
    public string? TransformsFolder { get; init; }

    /// <summary>target.checks: the folder of key indicator files (sql/checks, absolute), or null when the migration has none.</summary>
    public string? ChecksFolder { get; init; }

    public PgConnection Source(string name) =>
        Sources.TryGetValue(name, out var c) ? c
        : throw new MetadataException(new MetadataError(Path.Combine(Root, MetadataLoader.ConnectionsFileName), null, null,
            $"unknown source '{name}' (defined: {string.Join(", ", Sources.Keys)})"));
}
