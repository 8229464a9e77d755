using System.Diagnostics;
using System.Globalization;
using Ferry.Shared.Metadata;
using Ferry.Shared.Processes;
using Ferry.Shared.Verify;

namespace Ferry.Worker.Verify;

/// <summary>
/// Compares a source table with its STG table (verify.&lt;source&gt;.&lt;table&gt;): live-row counts and an
/// order-independent digest per key range, computed by each server from one snapshot per side, then the
/// differing ranges bisected (data-diff style) down to ranges of at most <see cref="VerifySettings.LeafRows"/>
/// rows, which are compared row by row. Keys whose first column has a collation-free order (integers,
/// numeric, dates, timestamps, uuid) are ranged on that column through the primary key's index; keys with
/// text in them are bucketed by a hash of their text instead, since a text range means something else under
/// each database's collation. A table without a usable key is compared by count and digest alone.
/// </summary>
public static class TableVerifier
{
    /// <summary>Bounds the bisection on data it cannot split (one key value holding many rows of a composite key).</summary>
    private const int MaxDepth = 24;

    /// <summary>First-level buckets at most: one group each in a single aggregate, a few MB of results at worst.</summary>
    private const long MaxFirstBuckets = 100_000;

    /// <summary>Differing leaves read in one query (two bound values each, far below PostgreSQL's 65,535).</summary>
    private const int LeavesPerQuery = 500;

    public const string NoKeyNote = "no usable key: compared by count and digest only";

    public static async Task<VerifyResult> VerifyAsync(SourceTable table, string sourceConnectionString, string targetConnectionString,
        string stgSchema, VerifySettings settings, IProgress<StepProgress>? progress = null, CancellationToken ct = default)
    {
        var processId = VerifyProcesses.Of(table);
        var clock = Stopwatch.StartNew();
        try
        {
            var run = new Run(table, processId, settings, clock);
            return await run.ExecuteAsync(sourceConnectionString, targetConnectionString, stgSchema, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException and not TableVerifyException)
        {
            throw new TableVerifyException($"{processId}: verify failed: {e.Message.Split('\n', 2)[0].Trim()}", e);
        }
    }

    /// <summary>Whether ranges on a column of this type mean the same on both sides: ordered, and no collation.</summary>
    internal static bool IsRangeType(string type) =>
        type is "smallint" or "integer" or "bigint" or "date" or "uuid"
        || type.StartsWith("numeric", StringComparison.Ordinal) || type.StartsWith("timestamp", StringComparison.Ordinal);

    /// <summary>First-level buckets of an integer key: bucket b holds [Min + b·Width, Min + (b+1)·Width).</summary>
    private sealed record IntegerGrid(long Min, long Width)
    {
        public KeyRange Range(long bucket) => new(
            bucket == 0 ? null : ((decimal)Min + bucket * (decimal)Width).ToString(CultureInfo.InvariantCulture),
            (decimal)Min + (bucket + 1) * (decimal)Width is var hi && hi <= long.MaxValue ? hi.ToString(CultureInfo.InvariantCulture) : null);
    }

    private sealed class Run(SourceTable table, string processId, VerifySettings settings, Stopwatch clock)
    {
        private readonly List<VerifyDifference> _items = [];
        private readonly List<string> _notes = [];
        private long _ranges, _sourceRows, _targetRows;
        private TableSide _source = null!, _stg = null!;
        private TableShape _shape = null!;

        private string Subject(string stgSchema) => $"{table.Schema}.{table.Table} → {stgSchema}.{table.StgTable}";

        public async Task<VerifyResult> ExecuteAsync(string sourceConnectionString, string targetConnectionString, string stgSchema, CancellationToken ct)
        {
            await using var source = await TableSide.OpenSourceAsync(table, sourceConnectionString, ct);
            await using var stg = await TableSide.OpenStgAsync(targetConnectionString, stgSchema, table.StgTable, ct)
                ?? throw new TableVerifyException(
                    $"{processId}: verify failed: the STG table {stgSchema}.{table.StgTable} does not exist; run {table.ProcessId} first");
            (_source, _stg) = (source, stg);

            var compared = CompareColumns();
            var cdc = table.Cdc.Columns.Concat(table.Cdc.WatermarkColumn is { } w ? [w] : [])
                .Where(source.Columns.Contains).Distinct().ToList();
            var now = await source.NowAsync(ct);
            var key = table.Key.Count > 0 && table.Key.All(compared.Contains) ? table.Key : [];
            _shape = new TableShape(key, compared, cdc, now - settings.MaxAge);

            if (compared.Count == 0)
                throw new TableVerifyException($"{processId}: verify failed: {source.Label} and {stg.Label} have no column in common");
            if (key.Count == 0)
                await CompareWholeAsync(ct);
            else if (IsRangeType(source.Types[key[0]]) && IsRangeType(stg.Types[key[0]]))
                await CompareByRangesAsync(targetConnectionString, ct);
            else
                await CompareByHashAsync(ct);

            return new VerifyResult(processId, Subject(stgSchema), VerifyResult.OutcomeOf(_items), _sourceRows, _targetRows, _items,
                clock.Elapsed, _notes.Count == 0 ? null : string.Join("; ", _notes), Ranges: _ranges);
        }

        /// <summary>The source's columns that STG has too; a column on one side only is a difference of the table itself.</summary>
        private List<string> CompareColumns()
        {
            var compared = _source.Columns.Where(_stg.Columns.Contains).ToList();
            foreach (var c in _source.Columns.Where(c => !_stg.Columns.Contains(c)))
            {
                _items.Add(new VerifyDifference(DifferenceKind.Missing, $"column {c}", [c],
                    Detail: $"column {c} is in {_source.Label} but not in {_stg.Label}: rows compared without it"));
                _notes.Add($"column {c} missing in STG");
            }
            foreach (var c in _stg.Columns.Where(c => !_source.Columns.Contains(c)))
            {
                _items.Add(new VerifyDifference(DifferenceKind.Extra, $"column {c}", [c],
                    Detail: $"column {c} is in {_stg.Label} but no longer in {_source.Label}: rows compared without it"));
                _notes.Add($"column {c} not in the source");
            }
            var missingKey = table.Key.Where(k => !compared.Contains(k)).ToList();
            if (table.Key.Count > 0 && missingKey.Count > 0)
                _notes.Add($"key column(s) {string.Join(", ", missingKey)} missing on one side");
            return compared;
        }

        private async Task CompareWholeAsync(CancellationToken ct)
        {
            _notes.Insert(0, NoKeyNote);
            var (s, t) = await BothAsync(_source.DigestAsync(_shape.Columns, null, null, ct), _stg.DigestAsync(_shape.Columns, null, null, ct));
            (_sourceRows, _targetRows, _ranges) = (s.Rows, t.Rows, 1);
            if (s != t)
                _items.Add(new VerifyDifference(DifferenceKind.Different, "whole table", ["count", "digest"],
                    new Dictionary<string, string?> { ["count"] = s.Rows.ToString(CultureInfo.InvariantCulture), ["digest"] = s.Sum },
                    new Dictionary<string, string?> { ["count"] = t.Rows.ToString(CultureInfo.InvariantCulture), ["digest"] = t.Sum },
                    s.Rows != t.Rows ? "the live row counts differ" : "the same live row count, other contents"));
        }

        private async Task CompareByRangesAsync(string targetConnectionString, CancellationToken ct)
        {
            var column = _shape.Key[0];
            var leaves = new List<KeyRange>();
            if (SourceSchemaIsInteger(column))
            {
                if (await GridAsync(column, ct) is { } grid)
                    await CompareRangeAsync(column, KeyRange.All, [], long.MaxValue, 0, leaves, ct, grid);
            }
            else
            {
                // Equal-frequency bounds for free: the planner's histogram of the STG column (STG is ours to ANALYZE; the source is not).
                var thresholds = await TableSide.HistogramAsync(targetConnectionString, _stg.Schema, _stg.Table, column, _stg.Types[column], ct);
                await CompareRangeAsync(column, KeyRange.All, thresholds, long.MaxValue, 0, leaves, ct);
            }
            // The differing leaves row by row, many per query: one round trip and one index pass per side, not one per leaf.
            foreach (var batch in leaves.Chunk(LeavesPerQuery))
                await CompareRowsAsync(column, batch, ct);
        }

        private bool SourceSchemaIsInteger(string column) =>
            Ferry.Worker.Stg.SourceSchema.IsIntegerType(_source.Types[column]) && Ferry.Worker.Stg.SourceSchema.IsIntegerType(_stg.Types[column]);

        /// <summary>
        /// Integer keys: equal-width buckets over [min, max] of both sides, about LeafRows rows each when the ids are
        /// dense (serial keys are). Exact and needs no statistics; gaps only make some buckets smaller, skew is bisected.
        /// The bucket is an integer division, cheaper per row than a search among bounds. Null for an empty table.
        /// </summary>
        private async Task<IntegerGrid?> GridAsync(string column, CancellationToken ct)
        {
            var (a, b) = await BothAsync(_source.MinMaxAsync(column, ct), _stg.MinMaxAsync(column, ct));
            var values = new[] { a.Min, a.Max, b.Min, b.Max }.OfType<string>().Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToList();
            if (values.Count == 0) return null;
            decimal min = values.Min(), max = values.Max(), span = max - min + 1;
            var (es, et) = await BothAsync(_source.EstimateRowsAsync(ct), _stg.EstimateRowsAsync(ct));
            var rows = Math.Max(es, et) is var e and >= 0 ? e : (decimal)Math.Min(span, long.MaxValue);
            var buckets = Math.Clamp(Math.Ceiling(rows / Math.Max(1, settings.LeafRows)), 1, Math.Min(MaxFirstBuckets, span));
            var width = Math.Ceiling(span / buckets);
            // k - min must fit a bigint: beyond 2^62 of span, one bucket and bisection by percentiles do instead.
            return span < (decimal)(1L << 62) ? new IntegerGrid((long)min, (long)width) : new IntegerGrid((long)min, long.MaxValue);
        }

        /// <summary>
        /// One level of the bisection: digests per bucket of <paramref name="range"/> on both sides; a differing bucket
        /// small enough (or that cannot be split further) becomes a leaf to compare row by row, a bigger one is split into Fanout parts.
        /// Leaves are collected in ascending key order.
        /// </summary>
        private async Task CompareRangeAsync(string column, KeyRange range, IReadOnlyList<string> thresholds, long parentRows, int depth,
            List<KeyRange> leaves, CancellationToken ct, IntegerGrid? grid = null)
        {
            var (sb, tb) = grid is not null
                ? await BothAsync(_source.GridBucketsAsync(_shape.Columns, column, grid.Min, grid.Width, ct), _stg.GridBucketsAsync(_shape.Columns, column, grid.Min, grid.Width, ct))
                : await BothAsync(
                    _source.RangeBucketsAsync(_shape.Columns, column, range, thresholds, ct),
                    _stg.RangeBucketsAsync(_shape.Columns, column, range, thresholds, ct));
            if (depth == 0)
                (_sourceRows, _targetRows) = (sb.Values.Sum(d => d.Rows), tb.Values.Sum(d => d.Rows));
            foreach (var bucket in sb.Keys.Union(tb.Keys).Order())
            {
                _ranges++;
                var s = sb.GetValueOrDefault(bucket, RowDigest.Empty);
                var t = tb.GetValueOrDefault(bucket, RowDigest.Empty);
                if (s == t) continue;
                var sub = grid?.Range(bucket) ?? range.Bucket(thresholds, (int)bucket);
                var rows = Math.Max(s.Rows, t.Rows);
                IReadOnlyList<string> splits = [];
                // rows >= parentRows: the split made no progress (one key value holds them all), so stop splitting.
                if (rows > settings.LeafRows && depth < MaxDepth && rows < parentRows)
                    splits = await (s.Rows >= t.Rows ? _source : _stg).SplitPointsAsync(column, sub, Math.Max(2, settings.Fanout), ct);
                if (splits.Count == 0)
                    leaves.Add(sub);
                else
                    await CompareRangeAsync(column, sub, splits, rows, depth + 1, leaves, ct);
            }
        }

        private async Task CompareRowsAsync(string column, IReadOnlyList<KeyRange> ranges, CancellationToken ct)
        {
            var (s, t) = await BothAsync(_source.RangeRowsAsync(_shape, column, ranges, ct), _stg.RangeRowsAsync(_shape, column, ranges, ct));
            await TableLeafComparison.CompareAsync(_shape, _source, _stg, s, t, _items, ct);
        }

        /// <summary>
        /// Keys with text in them: buckets by a hash of the key's text (about LeafRows rows each), then the rows of every
        /// differing bucket in one more pass per side, ordered by (bucket, key text COLLATE "C") on both.
        /// </summary>
        private async Task CompareByHashAsync(CancellationToken ct)
        {
            var (es, et) = await BothAsync(_source.EstimateRowsAsync(ct), _stg.EstimateRowsAsync(ct));
            var estimate = Math.Max(es, et);
            // Never analysed: a guess that keeps a second pass small on tables up to a few million rows.
            var buckets = estimate < 0 ? 1024 : Math.Clamp((estimate + settings.LeafRows - 1) / Math.Max(1, settings.LeafRows), 1, MaxFirstBuckets);
            var (sb, tb) = await BothAsync(_source.HashBucketsAsync(_shape.Columns, _shape.Key, buckets, ct), _stg.HashBucketsAsync(_shape.Columns, _shape.Key, buckets, ct));
            (_sourceRows, _targetRows) = (sb.Values.Sum(d => d.Rows), tb.Values.Sum(d => d.Rows));
            var all = sb.Keys.Union(tb.Keys).ToList();
            _ranges += all.Count;
            var differing = all.Where(b => sb.GetValueOrDefault(b, RowDigest.Empty) != tb.GetValueOrDefault(b, RowDigest.Empty)).Order().ToArray();
            if (differing.Length == 0) return;
            var (s, t) = await BothAsync(_source.HashRowsAsync(_shape, buckets, differing, ct), _stg.HashRowsAsync(_shape, buckets, differing, ct));
            await TableLeafComparison.CompareAsync(_shape, _source, _stg, s, t, _items, ct);
        }

        private static async Task<(TA, TB)> BothAsync<TA, TB>(Task<TA> a, Task<TB> b)
        {
            try { await Task.WhenAll(a, b); }
            catch
            {
                // Surface the first failure, but let the other finish so that no command is left running on a connection.
                try { await Task.WhenAll(a, b); } catch { }
                if (a.IsCompletedSuccessfully && a.Result is IAsyncDisposable da) await da.DisposeAsync();
                if (b.IsCompletedSuccessfully && b.Result is IAsyncDisposable db) await db.DisposeAsync();
                throw;
            }
            return (a.Result, b.Result);
        }
    }
}
