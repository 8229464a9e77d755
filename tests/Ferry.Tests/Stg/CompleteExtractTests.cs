using Ferry.Shared.Metadata;
using Ferry.Shared.Stg;
using Ferry.Worker.Stg;

namespace Ferry.Tests.Stg;

/// <summary>The decision "is this incremental run a complete extract, and why", without a database.</summary>
public sealed class CompleteExtractTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);
    private static ColumnSpec Col(string name, string type) => new(name, type, type);
    private static readonly Dictionary<string, string> Stg = new() { ["id"] = "integer", ["n"] = "numeric(10,2)", ["s"] = "character varying(10)" };

    [Fact]
    public void An_added_column_makes_a_window_or_watermark_run_complete_and_says_which()
    {
        ColumnSpec[] source = [Col("id", "integer"), Col("n", "numeric(10,2)"), Col("s", "character varying(10)"), Col("New Col", "text")];
        foreach (var mode in new[] { CdcMode.Window, CdcMode.Watermark })
            Assert.Equal("schema drift: column \"New Col\" added; complete extract", CompleteExtract.Reason(mode, source, Stg, null, null, Now));
        Assert.Null(CompleteExtract.Reason(CdcMode.Full, source, Stg, null, null, Now));
    }

    [Fact]
    public void A_type_change_counts_only_when_it_changes_values_text_form()
    {
        ColumnSpec[] kept = [Col("id", "bigint"), Col("n", "numeric(12,2)"), Col("s", "text")];
        Assert.Null(CompleteExtract.Reason(CdcMode.Window, kept, Stg, null, null, Now));
        ColumnSpec[] scale = [Col("id", "integer"), Col("n", "numeric(10,3)"), Col("s", "character varying(10)")];
        Assert.Equal("schema drift: column \"n\" changed type from numeric(10,2) to numeric(10,3); complete extract",
            CompleteExtract.Reason(CdcMode.Window, scale, Stg, null, null, Now));
        Assert.False(CompleteExtract.KeepsTextForm("timestamp without time zone", "timestamp with time zone"));
        Assert.True(CompleteExtract.KeepsTextForm("numeric(10,2)", "numeric"));
    }

    [Fact]
    public void No_drift_and_no_STG_yet_leave_the_run_incremental()
    {
        ColumnSpec[] same = [Col("id", "integer"), Col("n", "numeric(10,2)"), Col("s", "character varying(10)")];
        Assert.Null(CompleteExtract.Reason(CdcMode.Window, same, Stg, null, null, Now));
        Assert.Null(CompleteExtract.Reason(CdcMode.Window, same, null, TimeSpan.FromDays(7), null, Now));
    }

    [Fact]
    public void Full_every_makes_a_run_complete_once_the_last_complete_extract_is_older_than_the_bound()
    {
        ColumnSpec[] same = [Col("id", "integer"), Col("n", "numeric(10,2)"), Col("s", "character varying(10)")];
        var week = TimeSpan.FromDays(7);
        Assert.Null(CompleteExtract.Reason(CdcMode.Window, same, Stg, week, Now.AddDays(-6.9), Now));
        Assert.Equal("full_every 7d: last complete extract 2026-11-25 12:00:00Z; complete extract",
            CompleteExtract.Reason(CdcMode.Window, same, Stg, week, Now.AddDays(-7), Now));
        Assert.Equal("full_every 7d: no complete extract recorded; complete extract",
            CompleteExtract.Reason(CdcMode.Watermark, same, Stg, week, null, Now));
        Assert.Null(CompleteExtract.Reason(CdcMode.Window, same, Stg, null, Now.AddDays(-70), Now));
    }
}
