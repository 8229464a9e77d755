using System.Security.Cryptography;
using Ferry.Shared.Metadata;

namespace Ferry.Worker.Stg;

/// <summary>
/// Where a run's files live in the object store: &lt;source&gt;/&lt;table&gt;/&lt;run-id&gt;/part-00000.csv.gz, under the
/// store's own &lt;prefix&gt;/&lt;env&gt;/. Run ids sort by time, so the newest run is the last one listed.
/// </summary>
public static class RunLayout
{
    public static string NewRunId(DateTimeOffset now) =>
        $"{now.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}-{Convert.ToHexString(RandomNumberGenerator.GetBytes(3)).ToLowerInvariant()}";

    public static string TableFolder(SourceTable table) => $"{table.Source}/{table.Name}/";

    public static string RunFolder(SourceTable table, string runId) => $"{TableFolder(table)}{runId}/";

    public static string PartName(int index) => $"part-{index:D5}.csv.gz";

    public const string KeysPartName = "keys.csv.gz";
}
