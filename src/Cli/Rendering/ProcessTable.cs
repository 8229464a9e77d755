using Ferry.Coordinator.Api;
using Ferry.Shared.Processes;
using Spectre.Console;
using static Ferry.Cli.Rendering.Cells;

namespace Ferry.Cli.Rendering;

/// <summary>`ferry status`: one row per process, what it is doing now and how its last runs ended.</summary>
public static class ProcessTable
{
    public static Table Build(IReadOnlyList<ProcessEntry> processes)
    {
        var table = new Table { Border = TableBorder.Rounded };
        table.AddColumns("process", "step", "active run", "since", "attempt", "last success", "last failure", "node");
        foreach (var p in processes)
        {
            if (p.Status is not { } s)
            {
                table.AddRow(Cell(p.ProcessId), new Markup("[yellow]no answer[/]"), Cell(""), Cell(""), Cell(""), Cell(""), Cell(""), Cell(""));
                continue;
            }
            var step = s.Step == ProcessStep.Idle ? new Markup("idle")
                : new Markup($"[blue]{Lower(s.Step)}[/]" + (s.Progress is { } done ? " " + Markup.Escape(done.Counted()) : ""));
            table.AddRow(Cell(p.ProcessId), step,
                Cell(s.ActiveRunId is { } run ? $"{run} ({Lower(s.ActiveMode)})" : ""),
                Cell(When(s.ActiveSince)),
                Cell(s.ActiveRunId is null ? "" : s.Attempt.ToString()),
                Cell(s.LastSuccess is { } ok ? $"{When(ok.FinishedAt)}  {Short(ok.Counts)}" : "never"),
                s.LastFailure is { } failed
                    ? new Markup($"{Markup.Escape(When(failed.FinishedAt))}  [red]{Markup.Escape(OneLine(failed.Error))}[/]")
                    : Cell(""),
                Cell(s.Node ?? ""));
        }
        return table;
    }
}
