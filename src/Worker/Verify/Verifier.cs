using Ferry.Shared.Metadata;
using Ferry.Shared.Processes;
using Ferry.Shared.Verify;

namespace Ferry.Worker.Verify;

/// <summary>
/// Runs one verify process by its id, whichever kind it is: a source table against STG, the key indicators,
/// the target's foreign keys, or a files process's copies. The one entry point for the process entity and for
/// `ferry verify --local`.
/// </summary>
public static class Verifier
{
    public const string ApplicationName = "ferry-verify";

    public static Task<VerifyResult> RunAsync(string processId, MigrationMetadata metadata, VerifySettings settings,
        IProgress<StepProgress>? progress = null, CancellationToken ct = default)
    {
        if (processId == VerifyProcesses.Checks) return IndicatorChecks.RunAsync(metadata, ct);
        if (processId == VerifyProcesses.Orphans) return OrphanCheck.RunAsync(metadata, ct);
        if (metadata.Files.FirstOrDefault(f => VerifyProcesses.Of(f) == processId) is { } files)
            return new FilesVerifier(metadata).RunAsync(files, ct);
        if (metadata.Tables.FirstOrDefault(t => VerifyProcesses.Of(t) == processId) is { } table)
            return TableVerifier.VerifyAsync(table, metadata.Sources[table.Source].ToConnectionString(ApplicationName),
                metadata.Target.ToConnectionString(ApplicationName), metadata.Target.StgSchema, settings, progress, ct);
        throw new InvalidOperationException($"{processId} is not a verify process of this metadata");
    }

    /// <summary>"3 differences (2 missing in STG, 1 different): id=4, id=9, id=12" — the run's error when a verify process finds any.</summary>
    public static string Summary(VerifyResult result, int keys = 5)
    {
        if (result.Outcome == VerifyOutcome.Failed) return $"{result.ProcessId}: could not verify: {result.Error}";
        var errors = result.Items.Where(i => i.IsError).ToList();
        var kinds = string.Join(", ", errors.GroupBy(i => i.Kind).Select(g => $"{g.Count():N0} {VerifyWords.Of(g.Key, result.ProcessId)}"));
        var first = string.Join(", ", errors.Take(keys).Select(i => i.Item));
        var more = errors.Count > keys ? $", and {errors.Count - keys:N0} more" : "";
        var note = errors.Count == 0 && result.Note is { } n ? $" ({n})" : "";
        return $"{errors.Count:N0} difference{(errors.Count == 1 ? "" : "s")} ({kinds}){note}: {first}{more}";
    }
}
