namespace Ferry.Shared.Processes;

/// <summary>
/// How far the running step of a process is: the one progress record that the workers report and the
/// status query, the CLI, the dashboard and the metrics read. <see cref="RowsDone"/> is exact: the sum over
/// every chunk of an extract, the running total over the checked parts of a load. <see cref="RowsExpected"/>
/// is what is known without extra work, null when nothing is: the catalog's estimate (reltuples) for a full
/// extract, the manifest's total for a load and a merge, the listing's count for a bulk copy; a step's
/// last report sets it to the exact count. A files process counts files as rows (Listing: files listed;
/// Copying: files looked at, skipped ones included). <see cref="Bytes"/> is compressed bytes written
/// (extract), read (load) or copied (files; a skipped file copies none).
/// </summary>
/// <remarks>Not a message of its own: it travels inside <see cref="ProcessStatus"/>.</remarks>
public sealed record StepProgress(string ProcessId, ProcessStep Step, long RowsDone, long? RowsExpected, long Bytes)
{
    /// <summary>The step has started and done nothing yet.</summary>
    public static StepProgress Start(string processId, ProcessStep step, long? rowsExpected = null) => new(processId, step, 0, rowsExpected, 0);

    /// <summary>The step is done: what it did is what was expected.</summary>
    public StepProgress Finished() => this with { RowsExpected = RowsDone };

    /// <summary>"1,200,000 / 5,000,000 rows", "1,200 files" when nothing is expected: for a person.</summary>
    public string Counted(IFormatProvider? culture = null)
    {
        var unit = ProcessKinds.Of(ProcessId) == ProcessKind.Files ? "files" : "rows";
        return RowsExpected is { } expected
            ? string.Create(culture, $"{RowsDone:N0} / {expected:N0} {unit}")
            : string.Create(culture, $"{RowsDone:N0} {unit}");
    }

    /// <summary>"loading 1,200,000 / 5,000,000 rows", as `ferry status` and the CLI's progress lines show it.</summary>
    public string Describe(IFormatProvider? culture = null) => $"{Step.ToString().ToLowerInvariant()} {Counted(culture)}";
}
