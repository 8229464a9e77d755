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
/// <remarks>
/// Not a message of its own: it travels inside <see cref="ProcessStatus"/>. <see cref="Since"/> is when the step's
/// attempt started (set by the worker that runs it), from which the rate and the ETA follow.
/// </remarks>
public sealed record StepProgress(string ProcessId, ProcessStep Step, long RowsDone, long? RowsExpected, long Bytes, DateTimeOffset? Since = null)
{
    /// <summary>Rows (or files) per second since the step started; null before a second of work or without a start.</summary>
    public double? RowsPerSecond(DateTimeOffset now) =>
        Since is { } since && now - since >= TimeSpan.FromSeconds(1) ? RowsDone / (now - since).TotalSeconds : null;

    /// <summary>Time left at the rate so far: null when nothing is expected, nothing is done yet, or the rate is unknown; zero once done.</summary>
    public TimeSpan? Eta(DateTimeOffset now)
    {
        if (RowsExpected is not { } expected || RowsPerSecond(now) is not { } rate || rate <= 0) return null;
        return TimeSpan.FromSeconds(Math.Max(0, expected - RowsDone) / rate);
    }

    /// <summary>Done of expected, 0–1 (capped: an estimate can be low); null when nothing is expected.</summary>
    public double? Fraction => RowsExpected is { } expected && expected > 0 ? Math.Min(1.0, (double)RowsDone / expected) : null;

    /// <summary>"extracting 1,200,000 / 5,000,000 rows, 85,000 rows/s, ETA 45 s": <see cref="Describe"/> with the rate and what is left.</summary>
    public string DescribeAt(DateTimeOffset now, IFormatProvider? culture = null)
    {
        var text = Describe(culture);
        if (RowsPerSecond(now) is { } rate)
            text += string.Create(culture, $", {rate:N0} {(ProcessKinds.Of(ProcessId) == ProcessKind.Files ? "files" : "rows")}/s");
        if (Eta(now) is { } eta) text += ", ETA " + Left(eta);
        return text;
    }

    /// <summary>"45 s", "3 min 05 s", "2 h 10 min".</summary>
    public static string Left(TimeSpan t) => t.TotalSeconds < 60 ? $"{(int)Math.Ceiling(t.TotalSeconds)} s"
        : t.TotalMinutes < 60 ? $"{(int)t.TotalMinutes} min {t.Seconds:00} s"
        : $"{(int)t.TotalHours} h {t.Minutes:00} min";

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
