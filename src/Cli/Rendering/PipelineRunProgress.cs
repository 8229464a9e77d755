using Ferry.Shared.Processes;
using Spectre.Console;
using static Ferry.Cli.Rendering.Cells;

namespace Ferry.Cli.Rendering;

/// <summary>
/// A pipeline run while it runs: on a terminal, a live table redrawn at every poll; otherwise one line per
/// process state change, so a log reads as the run went.
/// </summary>
public static class PipelineRunProgress
{
    public static Table Table(PipelineRunStatus run)
    {
        var group = Math.Min(run.CurrentGroup + 1, Math.Max(run.Groups, 1));
        var table = new Table
        {
            Border = TableBorder.Simple,
            Title = new TableTitle($"pipeline run {Markup.Escape(run.PipelineRunId)} ({Markup.Escape(run.Name)}): group {group}/{run.Groups}, " +
                $"{Took(DateTimeOffset.UtcNow - run.StartedAt)}"),
        };
        table.AddColumns("group", "process", "state", "run", "result");
        foreach (var p in run.Processes.OrderBy(p => p.Group))
            table.AddRow(Cell((p.Group + 1).ToString()), Cell(p.ProcessId), StateMarkup(p.State), Cell(p.RunId ?? ""),
                p.Error is { } e ? ErrorCell(e) : Cell(p.Result is { } r ? Short(r.Counts) : ""));
        return table;
    }

    /// <summary>The line that reports a process's new state: <c>[group 1/2] stg.qvp.users: succeeded (run r-1)</c>.</summary>
    public static string Line(PipelineRunStatus run, PipelineProcess p) =>
        $"  [group {p.Group + 1}/{run.Groups}] {p.ProcessId}: {Lower(p.State)}" +
        (p.RunId is { } id ? $" (run {id})" : "") + (p.Error is { } error ? $": {OneLine(error)}" : "");
}
