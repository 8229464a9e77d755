using Ferry.Shared.Metadata;
using Ferry.Shared.Stg;

namespace Ferry.Worker.Stg;

/// <summary>
/// Whether an incremental run of a window or watermark table must read the whole table, and why.
/// A CDC predicate finds only rows whose change column moved; two changes leave it still:
/// <list type="bullet">
/// <item>schema drift: a column added with a default (or a rewrite that changes values' text form)
/// fills every existing row without touching updated_at, so only a complete extract brings STG level;</item>
/// <item>silent updates (a bulk UPDATE that leaves updated_at alone): caught only by a periodic complete
/// extract, <c>full_every</c>.</item>
/// </list>
/// Type changes that keep every value's text form (integer widening, longer varchar or text, numeric
/// precision with the same scale, numeric(p,s) to unbounded numeric) need no complete extract; any other
/// type change does (numeric scale, timestamp to timestamptz, …). A complete extract also deletes in STG
/// the rows gone from the source, as a full-mode run does.
/// </summary>
public static class CompleteExtract
{
    /// <param name="stgColumns">STG's columns (name → type), or null when STG does not exist yet.</param>
    /// <param name="lastComplete">When the newest complete extract of this table was taken, or null for none known.</param>
    /// <returns>Null when the run may stay incremental; otherwise the reason, ending "; complete extract".</returns>
    public static string? Reason(CdcMode mode, IReadOnlyList<ColumnSpec> source, IReadOnlyDictionary<string, string>? stgColumns,
        TimeSpan? fullEvery, DateTimeOffset? lastComplete, DateTimeOffset now)
    {
        if (mode == CdcMode.Full) return null;
        var drift = Drift(source, stgColumns);
        if (drift.Count > 0) return $"schema drift: {string.Join(", ", drift)}; complete extract";
        if (fullEvery is { } every && stgColumns is not null)
        {
            if (lastComplete is null)
                return $"full_every {Format(every)}: no complete extract recorded; complete extract";
            if (now - lastComplete.Value >= every)
                return $"full_every {Format(every)}: last complete extract {lastComplete.Value.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z; complete extract";
        }
        return null;
    }

    /// <summary>A duration as metadata writes it: 7d, 12h, 30m, 45s.</summary>
    public static string Format(TimeSpan t) =>
        t.TotalDays >= 1 && t.Ticks % TimeSpan.TicksPerDay == 0 ? $"{(long)t.TotalDays}d"
        : t.Ticks % TimeSpan.TicksPerHour == 0 ? $"{(long)t.TotalHours}h"
        : t.Ticks % TimeSpan.TicksPerMinute == 0 ? $"{(long)t.TotalMinutes}m" : $"{(long)t.TotalSeconds}s";

    /// <summary>The changes between the source's columns and STG's that a CDC predicate would not carry into existing rows.</summary>
    public static IReadOnlyList<string> Drift(IReadOnlyList<ColumnSpec> source, IReadOnlyDictionary<string, string>? stgColumns)
    {
        if (stgColumns is null) return [];
        var result = new List<string>();
        foreach (var c in source)
        {
            if (!stgColumns.TryGetValue(c.Name, out var stgType))
                result.Add($"column \"{c.Name}\" added");
            else if (!string.Equals(stgType, c.StgType, StringComparison.Ordinal) && !KeepsTextForm(stgType, c.StgType))
                result.Add($"column \"{c.Name}\" changed type from {stgType} to {c.StgType}");
        }
        return result;
    }

    /// <summary>True when every value of type <paramref name="from"/> prints the same after a change to <paramref name="to"/>.</summary>
    public static bool KeepsTextForm(string from, string to)
    {
        int Rank(string t) => t switch { "smallint" => 1, "integer" => 2, "bigint" => 3, _ => 0 };
        if (Rank(from) > 0 && (Rank(to) > Rank(from) || to == "numeric")) return true;
        if (from.StartsWith("character varying", StringComparison.Ordinal) && (to == "text" || to.StartsWith("character varying", StringComparison.Ordinal))) return true;
        if (from.StartsWith("numeric(", StringComparison.Ordinal) && to == "numeric") return true;
        if (from.StartsWith("numeric(", StringComparison.Ordinal) && to.StartsWith("numeric(", StringComparison.Ordinal))
            return Scale(from) == Scale(to);
        return false;

        static int Scale(string t)
        {
            var inner = t[(t.IndexOf('(') + 1)..t.IndexOf(')')].Split(',');
            return inner.Length > 1 ? int.Parse(inner[1]) : 0;
        }
    }
}
