using Ferry.Shared.Verify;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Ferry.Cli.Rendering;

/// <summary>
/// What `ferry verify` prints: one row per verify process (status, counts on each side, differences, the
/// first differing keys), then, under it, the first <c>keys</c> differences of each process that has any,
/// with the values side by side.
/// </summary>
public static class VerifyTable
{
    public static IRenderable Build(Verification verification, int keys)
    {
        var table = new Table { Title = new TableTitle($"ferry verify {verification.VerificationId}"), Border = TableBorder.Rounded };
        table.AddColumns("process", "status", "source", "target", "differences", "in flight", "first differing keys", "time");
        foreach (var i in new[] { 2, 3, 4, 5 }) table.Columns[i].RightAligned();
        foreach (var r in verification.Results)
        {
            var first = string.Join(", ", r.Items.Where(i => i.IsError).Take(Math.Min(keys, 3)).Select(i => i.Item));
            table.AddRow(Cells.Cell(r.ProcessId), Status(r), Cells.Cell(Cells.N(r.SourceRows)), Cells.Cell(Cells.N(r.TargetRows)),
                Cells.Cell(Cells.N(r.Differences)), Cells.Cell(r.InFlight == 0 ? "" : Cells.N(r.InFlight)),
                r.Outcome == VerifyOutcome.Failed ? Cells.ErrorCell(r.Error) : Cells.Cell(first.Length > 0 ? first : r.Note ?? ""), Cells.Cell(Cells.Took(r.Took)));
        }
        var rows = new List<IRenderable> { table };
        foreach (var r in verification.Results.Where(r => r.Items.Count > 0))
            rows.Add(Details(r, keys));
        rows.Add(new Markup(Summary(verification)));
        return new Rows(rows);
    }

    /// <summary>The last line: the verdict a cutover decision reads.</summary>
    public static string Summary(Verification v)
    {
        var differs = v.Results.Count(r => r.Outcome == VerifyOutcome.Differs);
        var failed = v.Results.Count(r => r.Outcome == VerifyOutcome.Failed);
        var inFlight = v.Results.Sum(r => r.InFlight);
        var flight = inFlight > 0 ? $"; {inFlight:N0} row(s) in flight (changed within --max-age: the next incremental run takes them)" : "";
        return v.Outcome == VerifyOutcome.Equal
            ? $"[green]equal[/]: all {v.Results.Count} verify processes found source and target the same{Markup.Escape(flight)}"
            : $"[red]{(failed > 0 ? "not verified" : "differs")}[/]: {differs} process(es) found differences ({v.Results.Sum(r => r.Differences):N0} in all), " +
              $"{failed} could not compare{Markup.Escape(flight)}";
    }

    private static Markup Status(VerifyResult r) => new(r.Outcome switch
    {
        VerifyOutcome.Equal => r.InFlight > 0 ? "[green]equal[/] [yellow](in flight)[/]" : "[green]equal[/]",
        VerifyOutcome.Differs => "[red]differs[/]",
        _ => "[red]failed[/]",
    });

    private static IRenderable Details(VerifyResult r, int keys)
    {
        var shown = r.Items.OrderBy(i => i.IsError ? 0 : 1).Take(keys).ToList();
        var table = new Table { Border = TableBorder.Simple, Title = new TableTitle($"{r.ProcessId}: {r.Subject}") };
        table.AddColumns("", "key", "column", "source", "target");
        foreach (var d in shown)
        {
            if (d.Source is null || d.Target is null)
            {
                // One side has no such row (or object): one line, the other side's row in short.
                table.AddRow(Cells.Cell(VerifyWords.Of(d.Kind, r.ProcessId)), Cells.Cell(d.Item), Cells.Cell(d.Source is null && d.Target is null ? d.Detail ?? "" : ""),
                    Cells.Cell(Compact(d.Source) ?? "—"), Cells.Cell(Compact(d.Target) ?? "—"));
                continue;
            }
            var columns = d.Columns.Count > 0 ? d.Columns : [""];
            foreach (var (column, i) in columns.Select((c, i) => (c, i)))
                table.AddRow(Cells.Cell(i == 0 ? VerifyWords.Of(d.Kind, r.ProcessId) : ""), Cells.Cell(i == 0 ? d.Item : ""), Cells.Cell(column),
                    Cells.Cell(Value(d.Source, column, d.Detail)), Cells.Cell(Value(d.Target, column, null)));
        }
        if (r.Items.Count > shown.Count)
            table.Caption = new TableTitle($"{r.Items.Count - shown.Count:N0} more: --keys N shows more, --json FILE has them all");
        return table;
    }

    /// <summary>A whole row in short: <c>name=Ann, amount=1.50, …</c>, at most 60 characters; null when there is none.</summary>
    private static string? Compact(IReadOnlyDictionary<string, string?>? values)
    {
        if (values is null) return null;
        var line = Cells.OneLine(string.Join(", ", values.Select(kv => $"{kv.Key}={kv.Value ?? "NULL"}")));
        return line.Length > 60 ? line[..57] + "…" : line;
    }

    /// <summary>A value as the report shows it: NULL for SQL NULL, text at most 60 characters.</summary>
    public static string Value(IReadOnlyDictionary<string, string?>? values, string column, string? fallback)
    {
        if (values is null) return fallback ?? "";
        var key = column.Length > 0 ? column : values.Keys.FirstOrDefault() ?? "";
        if (!values.TryGetValue(key, out var v)) return fallback ?? "";
        if (v is null) return "NULL";
        var line = Cells.OneLine(v);
        return line.Length > 60 ? line[..57] + "…" : line;
    }
}
