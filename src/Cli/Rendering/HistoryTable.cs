using Ferry.Coordinator.Api;
using Ferry.Shared.History;
using Spectre.Console;
using Spectre.Console.Rendering;
using static Ferry.Cli.Rendering.Cells;

namespace Ferry.Cli.Rendering;

/// <summary>`ferry runs`: the run history, newest first, with what each run changed.</summary>
public static class HistoryTable
{
    public static Table Build(HistoryList history)
    {
        var withPipeline = history.Runs.Any(r => r.PipelineRunId is not null);
        var table = new Table { Border = TableBorder.Rounded };
        table.AddColumns("process", "run");
        if (withPipeline) table.AddColumn("pipeline run");
        table.AddColumns("mode", "started", "took", "status", "rows read", "inserted", "updated", "deleted", "unchanged", "node", "error");
        foreach (var i in Enumerable.Range(withPipeline ? 8 : 7, 5)) table.Columns[i].RightAligned();
        foreach (var r in history.Runs)
        {
            var cells = new List<IRenderable> { Cell(r.ProcessId), Cell(r.RunId) };
            if (withPipeline) cells.Add(Cell(r.PipelineRunId ?? ""));
            cells.AddRange([
                // A replay re-loads an earlier run's files: which one matters more than its mode; an incremental run that
                // read the whole table says why under its mode (schema drift, full_every).
                Cell((r.ReplayOf is { } of ? $"replay of {of}" : r.Mode) + (r.CompleteReason is { } why ? $"\n{why}" : "")), Cell(When(r.StartedAt)), Cell(r.FinishedAt is { } end ? Took(end - r.StartedAt) : Took(DateTimeOffset.UtcNow - r.StartedAt) + "…"),
                Status(r), Cell(N(r.RowsExtracted)),
                // A files run: copied in "inserted", already there in "unchanged" (its failures are in the error).
                Cell(N(r.Inserted ?? r.FilesCopied)), Cell(N(r.Updated)), Cell(N(r.Deleted)), Cell(N(r.Unchanged ?? r.FilesSkipped)),
                Cell(r.Node ?? ""), ErrorCell(r.Error),
            ]);
            table.AddRow(cells);
        }
        return table;
    }

    private static IRenderable Status(RunHistory.Row r) => r.Status switch
    {
        RunStatus.Succeeded => new Markup("[green]succeeded[/]"),
        RunStatus.Failed => new Markup("[red]failed[/]"),
        _ => new Markup($"[blue]running[/] ({Markup.Escape(r.Step)})"),
    };
}
