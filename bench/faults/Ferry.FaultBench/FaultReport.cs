using System.Globalization;
using System.Text;

namespace Ferry.FaultBench;

/// <summary>The report: one row per fault kind, then every iteration, then the partition timings.</summary>
public static class FaultReport
{
    public static string Render(string setup, IReadOnlyList<IterationResult> results, int skipped)
    {
        var s = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        s.AppendLine(setup);
        s.AppendLine();
        s.AppendLine("| kind | iterations | completed | failed by the fault (then re-run) | rows lost / dup / differing / extra | ran twice | left running | recovery median / max s | fault → pipeline end median s |");
        s.AppendLine("|------|-----------:|----------:|-----:|-----:|-----:|-----:|-----:|-----:|");
        foreach (var g in results.GroupBy(r => r.Kind).OrderBy(g => g.Key))
            s.AppendLine(Row(FaultKinds.Name(g.Key), g.ToList(), c));
        s.AppendLine(Row("**all**", results, c));
        if (skipped > 0) s.AppendLine($"\n{skipped} iteration(s) not started: the suite's deadline was reached.");
        s.AppendLine();
        s.AppendLine("| # | kind | mode | pipeline run | outcome | STG vs source | ran twice | retried | left running | recovery s | fault → end s | notes |");
        s.AppendLine("|--:|------|------|--------------|---------|---------------|--:|--:|--:|--:|--:|-------|");
        foreach (var r in results)
            s.AppendLine(string.Create(c, $"| {r.Index} | {FaultKinds.Name(r.Kind)} | {r.Mode.ToString().ToLowerInvariant()} | {r.PipelineRunId} | {Cell(r.Outcome)} | {(r.Difference.None ? "equal" : Cell(r.Difference.ToString()))} | {r.RanTwice} | {r.Retried} | {r.LeftRunning} | {F(r.Recovery)} | {F(r.FaultToEnd)} | {Cell(r.Notes)} |"));
        var timed = results.Where(r => r.Kind is FaultKind.Partition or FaultKind.WorkerKill).ToList();
        if (timed.Count > 0)
        {
            s.AppendLine();
            s.AppendLine("| # | kind | fault → node downed s | fault → its shards moved s | fault → interrupted processes progress s | fault → pipeline end s | heal → node rejoined s |");
            s.AppendLine("|--:|------|--:|--:|--:|--:|--:|");
            foreach (var r in timed)
                s.AppendLine(string.Create(c, $"| {r.Index} | {FaultKinds.Name(r.Kind)} | {F(r.ToDown)} | {F(r.ToShardsMoved)} | {F(r.Recovery)} | {F(r.FaultToEnd)} | {F(r.ToRejoin)} |"));
        }
        return s.ToString();
    }

    private static string Row(string name, IReadOnlyList<IterationResult> g, CultureInfo c)
    {
        var rec = g.Where(r => r.Recovery is not null).Select(r => r.Recovery!.Value).OrderBy(v => v).ToList();
        var end = g.Where(r => r.FaultToEnd is not null).Select(r => r.FaultToEnd!.Value).OrderBy(v => v).ToList();
        var unmeasured = g.Count - rec.Count;
        return string.Create(c,
            $"| {name} | {g.Count} | {g.Count(r => r.Completed)} | {g.Count(r => r.FollowUp)} | {g.Sum(r => r.Difference.Lost)} / {g.Sum(r => r.Difference.Duplicated)} / {g.Sum(r => r.Difference.Differing)} / {g.Sum(r => r.Difference.Extra)} | {g.Sum(r => r.RanTwice)} | {g.Sum(r => Math.Max(0, r.LeftRunning))} | {(rec.Count == 0 ? "-" : $"{Median(rec):F1} / {rec[^1]:F1}")}{(unmeasured > 0 ? $" ({unmeasured} unmeasured)" : "")} | {(end.Count == 0 ? "-" : $"{Median(end):F1}")} |");
    }

    public static double Median(IReadOnlyList<double> sorted) =>
        sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;

    private static string F(double? v) => v is { } x ? x.ToString("F1", CultureInfo.InvariantCulture) : "-";

    private static string Cell(string text) => text.Replace("|", "/").Replace("\n", " ");
}
