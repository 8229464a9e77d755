using Ferry.Shared.Metadata;

namespace Ferry.Shared.Verify;

/// <summary>
/// The verify processes of a migration and their ids: one per STG table (verify.&lt;source&gt;.&lt;table&gt;, comparing the
/// source table with its STG table), one per files process (verify.files.&lt;name&gt;), and one each for the key
/// indicators (verify.checks) and the target's foreign keys (verify.orphans).
/// </summary>
public static class VerifyProcesses
{
    public const string Prefix = "verify.";
    public const string Checks = "verify.checks";
    public const string Orphans = "verify.orphans";

    /// <summary>stg.qvp.users → verify.qvp.users.</summary>
    public static string Of(SourceTable table) => Prefix + table.Source + "." + table.Name;

    /// <summary>files.qvp → verify.files.qvp.</summary>
    public static string Of(FilesDefinition files) => Prefix + files.ProcessId;

    public static bool IsVerify(string processId) => processId.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>Whether a verify process compares a source table with STG (verify.qvp.users), rather than checks, orphans or files.</summary>
    public static bool IsTable(string processId) =>
        IsVerify(processId) && processId is not Checks and not Orphans && !processId.StartsWith(Prefix + "files.", StringComparison.Ordinal);

    /// <summary>Every verify process of <paramref name="metadata"/>: tables, files, then checks (when there are any) and orphans (when there is a business layer).</summary>
    public static IReadOnlyList<string> All(MigrationMetadata metadata) =>
        All(metadata.Tables, metadata.Files, metadata.Checks.Count > 0, metadata.Transforms.Count > 0);

    /// <summary>The same, from the parts of a migration (the loader needs them before the whole exists).</summary>
    public static IReadOnlyList<string> All(IEnumerable<SourceTable> tables, IEnumerable<FilesDefinition> files, bool hasChecks, bool hasTransforms) =>
    [
        .. tables.Select(Of),
        .. files.Select(Of),
        .. hasChecks ? new[] { Checks } : [],
        .. hasTransforms ? new[] { Orphans } : [],
    ];
}
