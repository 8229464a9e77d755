namespace Ferry.Worker.Verify;

/// <summary>
/// A half-open range of the first key column, [<see cref="Lo"/>, <see cref="Hi"/>), bounds in their text
/// form (null: unbounded). Bounds are bound as parameters and cast to each side's own column type, so a
/// source integer and an STG bigint take the same bounds.
/// </summary>
internal sealed record KeyRange(string? Lo, string? Hi)
{
    public static KeyRange All { get; } = new(null, null);

    /// <summary>
    /// Bucket <paramref name="bucket"/> of <c>width_bucket(k, thresholds)</c> within this range: 0 is below the
    /// first threshold, n (the count of thresholds) at or above the last.
    /// </summary>
    public KeyRange Bucket(IReadOnlyList<string> thresholds, int bucket) => new(
        bucket == 0 ? Lo : thresholds[bucket - 1],
        bucket >= thresholds.Count ? Hi : thresholds[bucket]);

    /// <summary>For a person and a log: <c>id in [1000, 2000)</c>.</summary>
    public string Describe(string column) => $"{column} in [{Lo ?? "-inf"}, {Hi ?? "+inf"})";
}
