using System.Text.Json.Serialization;

namespace Ferry.Shared.Verify;

/// <summary>How one verify process ended: the two sides agree, they differ, or the comparison itself could not be made.</summary>
public enum VerifyOutcome { Equal, Differs, Failed }

/// <summary>What one difference is. The words are the report's: "missing in STG", "extra in STG", "different", "in flight", …</summary>
public enum DifferenceKind
{
    /// <summary>In the source (or its file listing), not in the target: a row missing in STG, a live file without a verified copy.</summary>
    Missing,
    /// <summary>In the target, not in the source: a row live in STG that the source does not have live, a BL attachment pointing at no object.</summary>
    Extra,
    /// <summary>On both sides with other values: <see cref="VerifyDifference.Columns"/> names the columns (or size, checksum of a copy).</summary>
    Different,
    /// <summary>Changed in the source within --max-age (by its CDC columns): the next incremental run takes it; not an error.</summary>
    InFlight,
    /// <summary>A target row whose parent (by a foreign key of the target schema) is missing.</summary>
    Orphan,
    /// <summary>A key indicator (sql/checks/) whose source and target values differ by more than its tolerance.</summary>
    Indicator,
}

/// <summary>
/// One thing that differs. <see cref="Item"/> identifies it for a person: a row's key as
/// <c>id=42</c> or <c>invoice_id=7, line_no=2</c>, an indicator's name and key, a file's key.
/// <see cref="Source"/> and <see cref="Target"/> hold the values side by side (column → text, null for SQL NULL):
/// for a row, the differing columns (all columns when one side is missing); for an indicator, "value".
/// </summary>
public sealed record VerifyDifference(
    DifferenceKind Kind,
    string Item,
    IReadOnlyList<string> Columns,
    IReadOnlyDictionary<string, string?>? Source = null,
    IReadOnlyDictionary<string, string?>? Target = null,
    string? Detail = null)
{
    /// <summary>In-flight differences are reported, but they are not errors.</summary>
    [JsonIgnore]
    public bool IsError => Kind != DifferenceKind.InFlight;
}

/// <summary>
/// What one verify process found (verify.qvp.users, verify.checks, verify.orphans, verify.files.qvp).
/// <see cref="SourceRows"/> and <see cref="TargetRows"/> are what each side counted: live rows for a table,
/// indicator rows for checks, live files for a files check. <see cref="Items"/> holds every difference
/// found, in-flight ones included; reports may show only the first few. <see cref="Ranges"/> says how
/// many key ranges were compared (digests) and <see cref="Note"/> anything a reader must know
/// ("no usable key: compared by count and digest only").
/// </summary>
public sealed record VerifyResult(
    string ProcessId,
    string Subject,
    VerifyOutcome Outcome,
    long SourceRows,
    long TargetRows,
    IReadOnlyList<VerifyDifference> Items,
    TimeSpan Took,
    string? Note = null,
    string? Error = null,
    long Ranges = 0)
{
    /// <summary>Differences that count against cutover (everything but in flight).</summary>
    public long Differences => Items.Count(i => i.IsError);

    public long InFlight => Items.Count(i => i.Kind == DifferenceKind.InFlight);

    /// <summary>The outcome the items imply: Differs when any is an error, else Equal.</summary>
    public static VerifyOutcome OutcomeOf(IEnumerable<VerifyDifference> items) =>
        items.Any(i => i.IsError) ? VerifyOutcome.Differs : VerifyOutcome.Equal;

    /// <summary>A comparison that could not be made (a source down, a check whose SQL fails): the message says why.</summary>
    public static VerifyResult Failure(string processId, string subject, string error, TimeSpan took) =>
        new(processId, subject, VerifyOutcome.Failed, 0, 0, [], took, Error: error);
}

/// <summary>
/// What a verify run takes from the operator. <see cref="MaxAge"/>: a difference in a row whose CDC
/// columns are newer than now − MaxAge (on the source's clock) is "in flight". <see cref="LeafRows"/>:
/// a differing key range of at most this many rows is compared row by row, a larger one is split
/// (bisection). <see cref="Fanout"/>: how many sub-ranges a differing range splits into.
/// </summary>
public sealed record VerifySettings(TimeSpan MaxAge, int LeafRows = 2_000, int Fanout = 16)
{
    public static VerifySettings Default { get; } = new(TimeSpan.FromMinutes(15));
}
