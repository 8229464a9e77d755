using Ferry.Shared.Verify;
using Npgsql;

namespace Ferry.Worker.Verify;

/// <summary>
/// Row-by-row comparison of two row streams ordered the same way (bucket, then key text under COLLATE "C"):
/// a merge join, so memory stays flat however many rows the streams hold. A key only in the source is
/// missing in STG, a key only live in STG is extra, a key on both sides with other hashes is different (the
/// differing columns and their values side by side). A difference whose source row changed since
/// <see cref="TableShape.InFlightSince"/> is in flight.
/// </summary>
internal static class TableLeafComparison
{
    private sealed record Row(long Bucket, string KeyText, long Hash, bool Live, bool InFlight, string?[] Values);

    public static async Task CompareAsync(TableShape shape, NpgsqlDataReader source, NpgsqlDataReader stg, List<VerifyDifference> into, CancellationToken ct)
    {
        var s = await NextAsync(source, shape, ct);
        var t = await NextAsync(stg, shape, ct);
        while (s is not null || t is not null)
        {
            var order = s is null ? 1 : t is null ? -1 : Compare(s, t);
            if (order < 0)
            {
                // A source row STG does not have: missing when it is live in the source, nothing when not.
                if (s!.Live) into.Add(Missing(shape, s));
                s = await NextAsync(source, shape, ct);
            }
            else if (order > 0)
            {
                into.Add(Extra(shape, t!, inFlight: false));
                t = await NextAsync(stg, shape, ct);
            }
            else
            {
                if (!s!.Live) into.Add(Extra(shape, t!, s.InFlight));
                else if (s.Hash != t!.Hash || !s.Values.SequenceEqual(t.Values)) into.Add(Different(shape, s, t));
                s = await NextAsync(source, shape, ct);
                t = await NextAsync(stg, shape, ct);
            }
        }
    }

    private static VerifyDifference Missing(TableShape shape, Row s) => Flight(s.InFlight, new VerifyDifference(
        DifferenceKind.Missing, Item(shape, s), shape.Columns, Source: All(shape, s), Detail: "missing in STG"));

    private static VerifyDifference Extra(TableShape shape, Row t, bool inFlight) => Flight(inFlight, new VerifyDifference(
        DifferenceKind.Extra, Item(shape, t), shape.Columns, Target: All(shape, t),
        Detail: inFlight ? "extra in STG: deleted in the source" : "extra in STG"));

    private static VerifyDifference Different(TableShape shape, Row s, Row t)
    {
        var columns = new List<string>();
        var source = new Dictionary<string, string?>();
        var target = new Dictionary<string, string?>();
        for (var i = 0; i < shape.Columns.Count; i++)
        {
            if (s.Values[i] == t.Values[i]) continue;
            columns.Add(shape.Columns[i]);
            source[shape.Columns[i]] = s.Values[i];
            target[shape.Columns[i]] = t.Values[i];
        }
        return Flight(s.InFlight, new VerifyDifference(DifferenceKind.Different, Item(shape, s), columns, source, target,
            columns.Count == 0 ? "different: the row hashes differ but every column's text is equal" : "different"));
    }

    /// <summary>A difference in a row the source changed within --max-age: the next incremental run takes it.</summary>
    private static VerifyDifference Flight(bool inFlight, VerifyDifference d) =>
        inFlight ? d with { Kind = DifferenceKind.InFlight, Detail = d.Detail + " (changed in the source within --max-age)" } : d;

    /// <summary><c>id=42</c>, <c>invoice_id=7, line_no=2</c>.</summary>
    private static string Item(TableShape shape, Row row) =>
        string.Join(", ", shape.Key.Select((k, i) => $"{k}={row.Values[shape.KeyIndexes[i]] ?? "NULL"}"));

    private static Dictionary<string, string?> All(TableShape shape, Row row) =>
        shape.Columns.Select((c, i) => (c, row.Values[i])).ToDictionary(x => x.c, x => x.Item2);

    private static async Task<Row?> NextAsync(NpgsqlDataReader r, TableShape shape, CancellationToken ct)
    {
        if (!await r.ReadAsync(ct)) return null;
        var bucket = r.GetInt64(0);
        var keyText = r.GetString(1);
        var hash = r.GetInt64(2);
        var live = r.GetBoolean(3);
        var inFlight = r.GetBoolean(4);
        var values = new string?[shape.Columns.Count];
        for (var i = 0; i < values.Length; i++)
            values[i] = await r.IsDBNullAsync(5 + i, ct) ? null : r.GetString(5 + i);
        return new Row(bucket, keyText, hash, live, inFlight, values);
    }

    private static int Compare(Row a, Row b)
    {
        var byBucket = a.Bucket.CompareTo(b.Bucket);
        return byBucket != 0 ? byBucket : CompareCodePoints(a.KeyText, b.KeyText);
    }

    /// <summary>
    /// The order of COLLATE "C": bytes, which for UTF-8 (and LATIN1) is code point order. Not
    /// string.CompareOrdinal, which orders UTF-16 units and so puts characters above U+FFFF before U+E000–U+FFFF.
    /// </summary>
    internal static int CompareCodePoints(string a, string b)
    {
        var ea = a.EnumerateRunes();
        var eb = b.EnumerateRunes();
        while (true)
        {
            var hasA = ea.MoveNext();
            var hasB = eb.MoveNext();
            if (!hasA || !hasB) return hasA.CompareTo(hasB);
            var c = ea.Current.Value.CompareTo(eb.Current.Value);
            if (c != 0) return c;
        }
    }
}
