namespace Ferry.Shared.Metadata;

/// <summary>
/// The metadata cannot be used. Carries every error found (across all files), each naming its file,
/// line and column; the message lists them one per line.
/// </summary>
public sealed class MetadataException : Exception
{
    public IReadOnlyList<MetadataError> Errors { get; }

    public MetadataException(IReadOnlyList<MetadataError> errors)
        : base(Describe(errors))
    {
        if (errors.Count == 0) throw new ArgumentException("a metadata exception needs at least one error", nameof(errors));
        Errors = errors;
    }

    public MetadataException(MetadataError error) : this([error]) { }

    private static string Describe(IReadOnlyList<MetadataError> errors) =>
        errors.Count == 1
            ? errors[0].ToString()
            : $"{errors.Count} metadata errors:{Environment.NewLine}" + string.Join(Environment.NewLine, errors.Select(e => "  " + e));
}
