namespace Ferry.Shared.Verify;

/// <summary>The words every report (terminal, JSON readers, HTML, run errors) uses for a difference and an outcome.</summary>
public static class VerifyWords
{
    /// <summary>What a difference of <paramref name="kind"/> is called in a report of <paramref name="processId"/>: a table's target is STG.</summary>
    public static string Of(DifferenceKind kind, string processId) => kind switch
    {
        DifferenceKind.Missing => VerifyProcesses.IsTable(processId) ? "missing in STG" : "missing in target",
        DifferenceKind.Extra => VerifyProcesses.IsTable(processId) ? "extra in STG" : "extra in target",
        DifferenceKind.Different => "different",
        DifferenceKind.InFlight => "in flight",
        DifferenceKind.Orphan => "orphan",
        DifferenceKind.Indicator => "indicator off",
        _ => kind.ToString().ToLowerInvariant(),
    };

    public static string Of(VerifyOutcome outcome) => outcome switch
    {
        VerifyOutcome.Equal => "equal",
        VerifyOutcome.Differs => "differs",
        _ => "failed",
    };
}
