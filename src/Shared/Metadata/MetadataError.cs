namespace Ferry.Shared.Metadata;

/// <summary>
/// One thing wrong with the metadata, where it is: <c>metadata/tables/qvp/users.yaml:7:3: unknown key 'colums'</c>.
/// Line and column are 1-based; either may be unknown (a missing file has neither).
/// </summary>
public sealed record MetadataError(string File, int? Line, int? Column, string Message)
{
    public override string ToString() =>
        Line is null ? $"{File}: {Message}"
        : Column is null ? $"{File}:{Line}: {Message}"
        : $"{File}:{Line}:{Column}: {Message}";
}
