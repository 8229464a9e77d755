using Ferry.Shared.Metadata;
using Ferry.Shared.Sql;
using Ferry.Shared.Stg;

namespace Ferry.Worker.Stg;

/// <summary>
/// The WHERE clause an extract uses. COPY's query cannot take parameters, so bounds are bound into
/// session settings with set_config($1, $2) and read back with current_setting(): values stay parameters.
/// </summary>
public sealed record CdcPlan(CdcBounds Bounds, bool Complete, string? Predicate, IReadOnlyDictionary<string, string> Settings)
{
    public static CdcPlan Everything(string mode) => new(new CdcBounds(mode, null, [], null), true, null, new Dictionary<string, string>());

    /// <param name="stgWatermark">The newest watermark-column value already in STG (null when STG is empty or absent).</param>
    /// <param name="completeReason">Why this incremental run must read the whole table (<see cref="CompleteExtract"/>), or null.</param>
    public static CdcPlan For(SourceTable table, RunMode mode, DateTimeOffset snapshotTime, DateTimeOffset? stgWatermark, string? completeReason = null)
    {
        if (mode == RunMode.Bulk)
            return Everything("bulk");
        if (completeReason is not null && table.Cdc.Mode != CdcMode.Full)
            return Everything(table.Cdc.Mode.ToString().ToLowerInvariant());
        switch (table.Cdc.Mode)
        {
            case CdcMode.Full:
                return Everything("full");
            case CdcMode.Window:
            {
                var since = snapshotTime - TimeSpan.FromDays(table.Cdc.Days);
                var predicate = string.Join(" OR ", table.Cdc.Columns.Select(c => $"{SqlText.Ident(c)} >= current_setting('ferry.since')::timestamptz"));
                return new CdcPlan(new CdcBounds("window", since, table.Cdc.Columns, null), false, predicate,
                    new Dictionary<string, string> { ["ferry.since"] = since.ToString("O") });
            }
            case CdcMode.Watermark:
            {
                var column = table.Cdc.WatermarkColumn ?? throw new InvalidOperationException($"{table.ProcessId}: watermark mode needs a column");
                if (stgWatermark is null)
                    return Everything("watermark") with { Bounds = new CdcBounds("watermark", null, [column], null) };
                var since = stgWatermark.Value - table.Cdc.Overlap;
                return new CdcPlan(new CdcBounds("watermark", since, [column], stgWatermark.Value.ToString("O")), false,
                    $"{SqlText.Ident(column)} >= current_setting('ferry.since')::timestamptz",
                    new Dictionary<string, string> { ["ferry.since"] = since.ToString("O") });
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(table), table.Cdc.Mode, "unknown CDC mode");
        }
    }
}
