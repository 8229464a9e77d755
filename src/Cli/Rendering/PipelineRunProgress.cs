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
    public static Table Table(PipelineRunStatus run) => Table(run, new Dictionary<string, StepProgress>(), DateTimeOffset.UtcNow);

    /// <param name="progress">The running processes' latest progress, by process id: a bar, rows/s and ETA for each.</param>
    public static Table Table(PipelineRunStatus run, IReadOnlyDictionary<string, StepProgress> progress, DateTimeOffset now)
    {
        var stage = Math.Min(run.CurrentStage + 1, Math.Max(run.Stages, 1));
        var table = new Table
        {
            Border = TableBorder.Simple,
            Title = new TableTitle($"pipeline run {Markup.Escape(run.PipelineRunId)} ({Markup.Escape(run.Name)}): stage {stage}/{run.Stages}, " +
                $"{Took(DateTimeOffset.UtcNow - run.StartedAt)}"),
        };
        table.AddColumns("stage", "process", "state", "run", "progress", "result");
        foreach (var p in run.Processes.OrderBy(p => p.Stage))
            table.AddRow(Cell((p.Stage + 1).ToString()), Cell(p.ProcessId), StateMarkup(p.State), Cell(p.RunId ?? ""),
                p.State == ProcessRunState.Running && progress.TryGetValue(p.ProcessId, out var s) ? ProgressCell(s, now) : Cell(""),
                p.Error is { } e ? ErrorCell(e) : Cell(p.Result is { } r ? Short(r.Counts) : ""));
        return table;
    }

    /// <summary>A bar (when a total is known), then "loading 1,200 / 5,000 rows, 850 rows/s, ETA 5 s".</summary>
    public static Markup ProgressCell(StepProgress p, DateTimeOffset now)
    {
        const int width = 16;
        var bar = p.Fraction is { } f ? $"[green]{new string('█', (int)Math.Round(f * width))}[/][grey]{new string('░', width - (int)Math.Round(f * width))}[/] {Math.Round(f * 100):0}% " : "";
        return new Markup(bar + Markup.Escape(p.DescribeAt(now)));
    }

    /// <summary>
    /// The line that reports a process's new state: <c>[stage 1/2] stg.qvp.users: succeeded (run r-1)</c>;
    /// a skip's reason says "skipped" itself: <c>[stage 3/3] bl.unipacc.reports: skipped: bl.unipacc.users failed</c>.
    /// </summary>
    public static string Line(PipelineRunStatus run, PipelineProcess p)
    {
        var head = $"  [stage {p.Stage + 1}/{run.Stages}] {p.ProcessId}: ";
        if (p is { State: ProcessRunState.Skipped, Error: { } reason } && reason.StartsWith("skipped:", StringComparison.Ordinal)) return head + OneLine(reason);
        return head + Lower(p.State) + (p.RunId is { } id ? $" (run {id})" : "") + (p.Error is { } error ? $": {OneLine(error)}" : "");
    }
}
