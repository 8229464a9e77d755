namespace Ferry.Worker.Verify;

/// <summary>
/// What a table comparison compares: the key, the columns both sides have (in the source's order), the
/// source's CDC columns that say a row changed recently, and the instant after which a change is "in flight"
/// (the source's now() in its snapshot minus --max-age).
/// </summary>
internal sealed record TableShape(
    IReadOnlyList<string> Key,
    IReadOnlyList<string> Columns,
    IReadOnlyList<string> CdcColumns,
    DateTimeOffset InFlightSince)
{
    /// <summary>Where each key column sits in <see cref="Columns"/>.</summary>
    public IReadOnlyList<int> KeyIndexes { get; } = Key.Select(k => Columns.ToList().IndexOf(k)).ToList();
}
