using System.Globalization;
using System.Text;

namespace Ferry.Bench;

/// <summary>The printed result: the machine, the data, one row per case, then the steps.</summary>
public static class Report
{
    public sealed record Setup(long Rows, long CsvBytes, long SourceBytesOnDisk, TimeSpan Generate, int WindowDays, long WindowRows,
        string Machine, string Postgres, BenchOptions Options);

    /// <param name="fullReloadRunSeconds">Ferry's in-process time for the full reload, to put a warm window run in proportion.</param>
    public static string Render(Setup s, IReadOnlyList<CaseFigures> cases, double windowProportion, double fullReloadRunSeconds)
    {
        var sb = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        sb.AppendLine(inv, $"Ferry STG benchmark: N = {s.Rows:N0} rows");
        sb.AppendLine(inv, $"  data     public.orders: {Mb(s.CsvBytes)} of CSV ({(double)s.CsvBytes / s.Rows:F0} B/row), {Mb(s.SourceBytesOnDisk)} on disk with indexes; generated in {s.Generate.TotalSeconds:F1} s");
        sb.AppendLine(inv, $"  machine  {s.Machine}");
        sb.AppendLine(inv, $"  server   {s.Postgres}");
        sb.AppendLine(inv, $"  Ferry    chunks of {s.Options.RowsPerChunk:N0} rows above {s.Options.ThresholdRows:N0}, parallelism {s.Options.Parallelism}, filesystem object store, run in a child process");
        sb.AppendLine(inv, $"  window   {s.WindowDays} days = {s.WindowRows:N0} rows ({100.0 * s.WindowRows / s.Rows:F2}% of the table)");
        sb.AppendLine();

        var header = new[] { "case", "rows", "baseline s", "Ferry s", "Ferry/base", "target", "base rows/s", "Ferry rows/s", "Ferry peak MB" };
        var rows = cases.Select(c => new[]
        {
            c.Name, c.Ferry.RowsExtracted.ToString("N0", inv), c.Baseline.Total.TotalSeconds.ToString("F2", inv), c.FerryWall.TotalSeconds.ToString("F2", inv),
            c.Ratio.ToString("F2", inv) + "x", c.Target, c.BaselineRowsPerSecond.ToString("N0", inv), c.FerryRowsPerSecond.ToString("N0", inv),
            c.FerryPeakMb.ToString("F0", inv),
        }).ToList();
        Table(sb, header, rows);
        sb.AppendLine(inv, $"  Ferry s is the child process's wall clock (start to exit, less a repeated run), like the baseline's shell pipelines; rows are the rows extracted.");
        sb.AppendLine(inv, $"  Proportion: no-change window run / full reload, Ferry = {windowProportion:P1} for a window of {100.0 * s.WindowRows / s.Rows:F2}% of rows.");
        foreach (var c in cases.Where(c => c.Ferry.WarmRunSeconds is not null))
            sb.AppendLine(inv, $"  {c.Name}: the same run again in the same process (warm JIT and pools, as in a long-lived worker) took {c.Ferry.WarmRunSeconds:F2} s = {c.Ferry.WarmRunSeconds / fullReloadRunSeconds:P1} of the full reload's in-process time.");
        sb.AppendLine();

        header = ["case (seconds)", "base extract", "base load", "base merge", "Ferry extract", "Ferry load", "Ferry merge", "Ferry in-proc", "VACUUM after: base / Ferry"];
        rows = cases.Select(c => new[]
        {
            c.Name, S(c.Baseline.Extract.TotalSeconds), S(c.Baseline.Load.TotalSeconds), S(c.Baseline.Merge.TotalSeconds),
            S(c.Ferry.ExtractSeconds), S(c.Ferry.LoadSeconds), S(c.Ferry.MergeSeconds), S(c.Ferry.RunSeconds),
            $"{S(c.BaselineVacuum.TotalSeconds)} / {S(c.FerryVacuum.TotalSeconds)}",
        }).ToList();
        Table(sb, header, rows);
        sb.AppendLine("  VACUUM after is the untimed settle step before the next run (not in either side's figures).");
        sb.AppendLine();

        header = ["case", "base file", "Ferry files", "Ferry counts (ins/upd/del/unch)", "base upserted / marked deleted", "load avg before"];
        rows = cases.Select(c => new[]
        {
            c.Name, Mb(c.Baseline.FileBytes), $"{Mb(c.Ferry.BytesStored)} in {c.Ferry.Parts}",
            $"{c.Ferry.Inserted:N0} / {c.Ferry.Updated:N0} / {c.Ferry.Deleted:N0} / {c.Ferry.Unchanged:N0}",
            $"{c.Baseline.Upserted:N0} / {c.Baseline.MarkedDeleted:N0}", c.LoadBefore,
        }).ToList();
        Table(sb, header, rows);
        return sb.ToString();

        static string S(double seconds) => seconds.ToString("F2", CultureInfo.InvariantCulture);
    }

    public static string Mb(long bytes) => (bytes / 1048576.0).ToString(bytes < 10 * 1048576 ? "F1" : "F0", CultureInfo.InvariantCulture) + " MB";

    private static void Table(StringBuilder sb, string[] header, List<string[]> rows)
    {
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        string Line(string[] cells) => "| " + string.Join(" | ", cells.Select((c, i) => i == 0 ? c.PadRight(widths[i]) : c.PadLeft(widths[i]))) + " |";
        sb.AppendLine(Line(header));
        sb.AppendLine("|" + string.Join("|", widths.Select((w, i) => i == 0 ? new string('-', w + 2) : new string('-', w + 1) + ":")) + "|");
        foreach (var r in rows) sb.AppendLine(Line(r));
    }

    /// <summary>Cores, CPU model and memory, from /proc.</summary>
    public static string Machine()
    {
        var model = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?";
        var memKb = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal))["MemTotal:".Length..].Trim().Split(' ')[0];
        return $"{Environment.ProcessorCount} cores ({model}), {long.Parse(memKb, CultureInfo.InvariantCulture) / 1048576.0:F1} GB RAM, {Environment.OSVersion}, .NET {Environment.Version}";
    }

    public static string LoadAverage() => File.ReadAllText("/proc/loadavg").Split(' ')[0];
}
