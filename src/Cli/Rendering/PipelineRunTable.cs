using Ferry.Shared.Processes;
using Spectre.Console;
using static Ferry.Cli.Rendering.Cells;

namespace Ferry.Cli.Rendering;

/// <summary>The outcome of a pipeline run, per process and in total, as `ferry run --cluster --wait` ends.</summary>
public static class PipelineRunTable
{
    public static Table Build(PipelineRunStatus run)
    {
        var took = run.FinishedAt is { } end ? $" in {Took(end - run.StartedAt)}" : "";
        var table = new Table
        {
            Border = TableBorder.Rounded,
            Title = new TableTitle($"pipeline run {Markup.Escape(run.PipelineRunId)} ({Markup.Escape(run.Name)}, {Lower(run.Mode)}): {StateText(run.State)}{took}"),
        };
        table.AddColumns("process", "stage", "state", "inserted", "updated", "deleted", "unchanged", "rows read", "took", "run", "error");
        foreach (var i in Enumerable.Range(3, 6)) table.Columns[i].RightAligned();
        long ins = 0, upd = 0, del = 0, same = 0, rows = 0;
        // In the runner's order within each stage (the plan's order).
        foreach (var p in run.Processes.OrderBy(p => p.Stage))
        {
            // A failed run's counts say nothing about STG (its merge never committed): only its error and duration are shown.
            var r = p.Result is { Succeeded: true } ok ? ok : null;
            if (p.Result?.Files is { } files)
            {
                // A files run: copied (new in the target) in "inserted", already there in "unchanged", failed in "error".
                ins += files.Copied; same += files.Skipped;
                table.AddRow(Cell(p.ProcessId), Cell((p.Stage + 1).ToString()), StateMarkup(p.State),
                    Cell(N(files.Copied)), Cell(""), Cell(""), Cell(N(files.Skipped)), Cell(""),
                    Cell(Took(p.Result.FinishedAt - p.Result.StartedAt)), Cell(p.RunId ?? ""),
                    ErrorCell(p.Result.Error));
                continue;
            }
            if (r is not null)
            {
                ins += r.Counts.Inserted; upd += r.Counts.Updated; del += r.Counts.Deleted; same += r.Counts.Unchanged; rows += r.RowsExtracted;
            }
            table.AddRow(Cell(p.ProcessId), Cell((p.Stage + 1).ToString()), StateMarkup(p.State),
                Cell(N(r?.Counts.Inserted)), Cell(N(r?.Counts.Updated)), Cell(N(r?.Counts.Deleted)), Cell(N(r?.Counts.Unchanged)),
                Cell(ProcessKinds.Of(p.ProcessId) == ProcessKind.Stg ? N(r?.RowsExtracted) : ""),   // BL reads STG, not a source
                Cell(p.Result is { } any ? Took(any.FinishedAt - any.StartedAt) : ""), Cell(p.RunId ?? ""),
                ErrorCell(p.Error ?? p.Result?.Error));
        }
        table.AddEmptyRow();
        var failed = run.Processes.Count(p => p.State == ProcessRunState.Failed);
        var succeeded = run.Processes.Count(p => p.State == ProcessRunState.Succeeded);
        var skipped = run.Processes.Count(p => p.State == ProcessRunState.Skipped);
        var notRun = run.Processes.Count - failed - succeeded - skipped;
        table.AddRow(new Markup("[bold]total[/]"), Cell(""),
            new Markup($"{succeeded} ok" + (failed > 0 ? $", [red]{failed} failed[/]" : "") + (skipped > 0 ? $", [darkorange]{skipped} skipped[/]" : "")
                + (notRun > 0 ? $", {notRun} not run" : "")),
            Cell(N(ins)), Cell(N(upd)), Cell(N(del)), Cell(N(same)), Cell(N(rows)), Cell(""), Cell(""), Cell(""));
        return table;
    }
}
