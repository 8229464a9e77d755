using Ferry.Cli.Local;
using Ferry.Coordinator.Pipelines;
using Ferry.Shared.Stg;
using Spectre.Console;

namespace Ferry.Cli.Rendering;

/// <summary>The per-table summary that `ferry run`, `ferry replay` and `ferry demo` print.</summary>
public static class RunReport
{
    public static Table Build(string title, IReadOnlyList<ProcessOutcome> outcomes)
    {
        var table = new Table { Title = new TableTitle(title), Border = TableBorder.Rounded };
        table.AddColumns("process", "rows read", "inserted", "updated", "deleted", "unchanged", "extract", "load+merge", "rows/s", "status");
        foreach (var i in Enumerable.Range(2, 6)) table.Columns[i].RightAligned();
        table.Columns[1].RightAligned();
        table.Columns[8].RightAligned();
        long read = 0, ins = 0, upd = 0, del = 0, same = 0;
        TimeSpan extract = TimeSpan.Zero, loadMerge = TimeSpan.Zero;
        foreach (var o in outcomes)
        {
            if (o.Result is { } r)
            {
                var c = r.Counts;
                table.AddRow(o.ProcessId, N(r.RowsExtracted), N(c.Inserted), N(c.Updated), N(c.Deleted), N(c.Unchanged),
                    Secs(r.Extract), Secs(r.Load + r.Merge), N((long)(r.RowsExtracted / Math.Max(r.Total.TotalSeconds, 0.001))), "[green]ok[/]");
                read += r.RowsExtracted; ins += c.Inserted; upd += c.Updated; del += c.Deleted; same += c.Unchanged;
                extract += r.Extract;
                loadMerge += r.Load + r.Merge;
            }
            else
                table.AddRow(new Markup(Markup.Escape(o.ProcessId)), new Text(""), new Text(""), new Text(""), new Text(""), new Text(""), new Text(""), new Text(""), new Text(""),
                    new Markup("[red]failed[/]: " + Markup.Escape(o.Error ?? "")));
        }
        table.AddEmptyRow();
        var failed = outcomes.Count(o => !o.Succeeded);
        table.AddRow("[bold]total[/]", N(read), N(ins), N(upd), N(del), N(same), Secs(extract), Secs(loadMerge), "",
            failed == 0 ? $"[green]{outcomes.Count} ok[/]" : $"[red]{failed} failed[/], {outcomes.Count - failed} ok");
        return table;
    }

    private static string N(long n) => n.ToString("N0");
    private static string Secs(TimeSpan t) => $"{t.TotalSeconds:0.0} s";

    public static string Line(ProcessOutcome o) => o.Result is { } r
        ? $"{o.ProcessId}: {r.Counts} ({r.RowsExtracted:N0} rows read in {r.Total.TotalSeconds:0.0} s, run {r.RunId}){(r.CompleteReason is { } why ? "; " + why : "")}"
        : $"{o.ProcessId}: FAILED: {o.Error}";
}
