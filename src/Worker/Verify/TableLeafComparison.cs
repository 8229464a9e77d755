using Ferry.Shared.Verify;
using Npgsql;

namespace Ferry.Worker.Verify;

/// <summary>
/// Row-by-row comparison of two row streams ordered the same way (bucket, then key text under COLLATE "C"):
/// a merge join over keys and row hashes only, so memory stays flat however many rows the streams hold. A key
/// only in the source is missing in STG, a key only live in STG is extra, a key on both sides with other hashes
/// is different. Then, for the differing keys alone, every column's text is fetched from both sides (by primary
/// key) to name the differing columns and show their values side by side. A difference whose source row changed
/// since <see cref="TableShape.InFlightSince"/> is in flight.
/// </summary>
internal static class TableLeafComparison
{
    private sealed record Row(long Bucket, string KeyText, long Hash, bool Live, bool InFlight, string?[] Key);

    private sealed record Candidate(DifferenceKind Kind, string KeyText, string?[] Key, bool InFlight);

    /// <summary>Keys looked up per query in the second pass.</summary>
    private const int KeysPerLookup = 5_000;

    public static async Task CompareAsync(TableShape shape, TableSide sourceSide, TableSide stgSide, NpgsqlDataReader source, NpgsqlDataReader stg,
        List<VerifyDifference> into, CancellationToken ct)
    {
        var candidates = new List<Candidate>();
        await using (source)
        await using (stg)
        {
            var s = await NextAsync(source, shape, ct);
            var t = await NextAsync(stg, shape, ct);
            while (s is not null || t is not null)
            {
                var order = s is null ? 1 : t is null ? -1 : Compare(s, t);
                if (order < 0)
                {
                    // A source row STG does not have: missing when it is live in the source, nothing when not.
                    if (s!.Live) candidates.Add(new Candidate(DifferenceKind.Missing, s.KeyText, s.Key, s.InFlight));
                    s = await NextAsync(source, shape, ct);
                }
                else if (order > 0)
                {
                    candidates.Add(new Candidate(DifferenceKind.Extra, t!.KeyText, t.Key, false));
                    t = await NextAsync(stg, shape, ct);
                }
                else
                {
                    if (!s!.Live) candidates.Add(new Candidate(DifferenceKind.Extra, t!.KeyText, t.Key, s.InFlight));
                    else if (s.Hash != t!.Hash) candidates.Add(new Candidate(DifferenceKind.Different, s.KeyText, s.Key, s.InFlight));
                    s = await NextAsync(source, shape, ct);
                    t = await NextAsync(stg, shape, ct);
                }
            }
        }

        foreach (var batch in candidates.Chunk(KeysPerLookup))
        {
            var keys = shape.Key.Select((_, i) => batch.Select(c => c.Key[i]!).ToArray()).ToList();
            var sourceRows = await sourceSide.RowsByKeyAsync(shape, keys, ct);
            var stgRows = await stgSide.RowsByKeyAsync(shape, keys, ct);
            foreach (var c in batch)
                into.Add(Describe(shape, c, sourceRows.GetValueOrDefault(c.KeyText), stgRows.GetValueOrDefault(c.KeyText)));
        }
    }

    private static VerifyDifference Describe(TableShape shape, Candidate c, string?[]? source, string?[]? target)
    {
        var item = string.Join(", ", shape.Key.Select((k, i) => $"{k}={c.Key[i] ?? "NULL"}"));
        var d = c.Kind switch
        {
            DifferenceKind.Missing => new VerifyDifference(c.Kind, item, shape.Columns, Source: All(shape, source), Detail: "missing in STG"),
            DifferenceKind.Extra => new VerifyDifference(c.Kind, item, shape.Columns, Target: All(shape, target),
                Detail: c.InFlight ? "extra in STG: deleted in the source" : "extra in STG"),
            _ => Different(shape, item, source, target),
        };
        // A difference in a row the source changed within --max-age: the next incremental run takes it.
        return c.InFlight ? d with { Kind = DifferenceKind.InFlight, Detail = d.Detail + " (changed in the source within --max-age)" } : d;
    }

    private static VerifyDifference Different(TableShape shape, string item, string?[]? s, string?[]? t)
    {
        var columns = new List<string>();
        var source = new Dictionary<string, string?>();
        var target = new Dictionary<string, string?>();
        for (var i = 0; s is not null && t is not null && i < shape.Columns.Count; i++)
        {
            if (s[i] == t[i]) continue;
            columns.Add(shape.Columns[i]);
            source[shape.Columns[i]] = s[i];
            target[shape.Columns[i]] = t[i];
        }
        return new VerifyDifference(DifferenceKind.Different, item, columns, source, target,
            columns.Count == 0 ? "different: the row hashes differ but every column's text is equal" : "different");
    }

    private static Dictionary<string, string?>? All(TableShape shape, string?[]? row) =>
        row is null ? null : shape.Columns.Select((c, i) => (c, row[i])).ToDictionary(x => x.c, x => x.Item2);

    private static async Task<Row?> NextAsync(NpgsqlDataReader r, TableShape shape, CancellationToken ct)
    {
        if (!await r.ReadAsync(ct)) return null;
        var bucket = r.GetInt64(0);
        var keyText = r.GetString(1);
        var hash = r.GetInt64(2);
        var live = r.GetBoolean(3);
        var inFlight = r.GetBoolean(4);
        var key = new string?[shape.Key.Count];
        for (var i = 0; i < key.Length; i++)
            key[i] = r.IsDBNull(5 + i) ? null : r.GetString(5 + i);
        return new Row(bucket, keyText, hash, live, inFlight, key);
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
