using System.Data;
using Ferry.Shared.Metadata;
using Ferry.Shared.Sql;
using Ferry.Worker.Stg;
using Npgsql;

namespace Ferry.Worker.Verify;

/// <summary>
/// One side of a table comparison: the source table or its STG table, read on one connection in one
/// REPEATABLE READ READ ONLY transaction (one snapshot for every query of the verify), with the extract's
/// session settings pinned so that every value's text is the extract's. It knows which rows are live
/// (source: the soft-delete column is NULL; STG: stg_deleted_at is NULL) and builds this side's queries.
/// </summary>
internal sealed class TableSide : IAsyncDisposable
{
    private readonly NpgsqlConnection _conn;
    private readonly NpgsqlTransaction _tx;

    private TableSide(NpgsqlConnection conn, NpgsqlTransaction tx, string schema, string table, string live, bool isSource)
    {
        _conn = conn;
        _tx = tx;
        Schema = schema;
        Table = table;
        Live = live;
        IsSource = isSource;
    }

    public string Schema { get; }
    public string Table { get; }
    public string From => SqlText.Qualified(Schema, Table);

    /// <summary>The predicate of a live row on this side.</summary>
    public string Live { get; }

    public bool IsSource { get; }

    /// <summary>"source public.users" / "STG stg.qvp_users", for messages.</summary>
    public string Label => $"{(IsSource ? "source" : "STG")} {Schema}.{Table}";

    /// <summary>Column name → the type to cast bounds to (the STG type of a source column: domains as their base type).</summary>
    public IReadOnlyDictionary<string, string> Types { get; private set; } = new Dictionary<string, string>();

    /// <summary>Column name → its own type on this side (an enum's name, a domain's), for values compared with the column itself.</summary>
    public IReadOnlyDictionary<string, string> OwnTypes { get; private set; } = new Dictionary<string, string>();

    /// <summary>Column names in table order.</summary>
    public IReadOnlyList<string> Columns { get; private set; } = [];

    public static async Task<TableSide> OpenSourceAsync(SourceTable table, string connectionString, CancellationToken ct)
    {
        var live = table.SoftDeleteColumn is { } s ? $"{SqlText.Ident(s)} IS NULL" : "true";
        var side = await OpenAsync(connectionString, table.Schema, table.Table, live, isSource: true, ct);
        var columns = await SourceSchema.ReadColumnsAsync(side._conn, table.Schema, table.Table, ct);
        side.Columns = columns.Select(c => c.Name).ToList();
        side.Types = columns.ToDictionary(c => c.Name, c => c.StgType);
        side.OwnTypes = columns.ToDictionary(c => c.Name, c => c.SourceType);
        return side;
    }

    /// <summary>The STG side, or null when the STG table does not exist.</summary>
    public static async Task<TableSide?> OpenStgAsync(string connectionString, string stgSchema, string stgTable, CancellationToken ct)
    {
        var side = await OpenAsync(connectionString, stgSchema, stgTable, "stg_deleted_at IS NULL", isSource: false, ct);
        if (!await StgSchemaManager.TableExistsAsync(side._conn, stgSchema, stgTable, ct))
        {
            await side.DisposeAsync();
            return null;
        }
        var columns = (await StgSchemaManager.ReadColumnsAsync(side._conn, stgSchema, stgTable, ct))
            .Where(c => !StgSchemaManager.IsReservedName(c.Name)).ToList();
        side.Columns = columns.Select(c => c.Name).ToList();
        side.Types = columns.ToDictionary(c => c.Name, c => c.Type);
        side.OwnTypes = side.Types;
        return side;
    }

    private static async Task<TableSide> OpenAsync(string connectionString, string schema, string table, string live, bool isSource, CancellationToken ct)
    {
        var conn = await PgConnect.OpenAsync(connectionString, ct);
        try
        {
            await PgCopy.PinSessionAsync(conn, ct);
            var tx = await conn.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);
            await conn.ExecAsync("SET TRANSACTION READ ONLY", ct);
            return new TableSide(conn, tx, schema, table, live, isSource);
        }
        catch
        {
            await conn.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// The histogram bounds of an STG column (pg_stats), as text; ANALYZE first when the table has none.
    /// Runs on its own connection: ANALYZE cannot run in the read-only snapshot, and the bounds only shape buckets.
    /// </summary>
    public static async Task<IReadOnlyList<string>> HistogramAsync(string connectionString, string schema, string table, string column, string type,
        CancellationToken ct)
    {
        await using var conn = await PgConnect.OpenAsync(connectionString, ct);
        await PgCopy.PinSessionAsync(conn, ct);
        var sql = $"SELECT (histogram_bounds::text::{type}[])::text[] FROM pg_stats WHERE schemaname = $1 AND tablename = $2 AND attname = $3";
        for (var attempt = 0; attempt < 2; attempt++)
        {
            await using (var cmd = new NpgsqlCommand(sql, conn) { Parameters = { new() { Value = schema }, new() { Value = table }, new() { Value = column } } })
                if (await cmd.ExecuteScalarAsync(ct) is string[] bounds && bounds.Length > 0)
                    return bounds;
            if (attempt > 0) break;
            try { await conn.ExecAsync($"ANALYZE {SqlText.Qualified(schema, table)} ({SqlText.Ident(column)})", ct); }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege) { break; }
        }
        return [];
    }

    /// <summary>now() of this side's transaction: the instant of its snapshot.</summary>
    public async Task<DateTimeOffset> NowAsync(CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT now()", _conn);
        return await cmd.ExecuteScalarAsync(ct) is DateTime t ? new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)) : DateTimeOffset.UtcNow;
    }

    /// <summary>Rows estimated by the catalog (reltuples; -1 when never analysed).</summary>
    public Task<long> EstimateRowsAsync(CancellationToken ct) => SourceSchema.EstimateRowsAsync(_conn, Schema, Table, ct);

    /// <summary>min and max of a column over all rows (live or not): two index lookups on a key column.</summary>
    public async Task<(string? Min, string? Max)> MinMaxAsync(string column, CancellationToken ct)
    {
        var c = SqlText.Ident(column);
        await using var cmd = new NpgsqlCommand($"SELECT min({c})::text, max({c})::text FROM {From}", _conn);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        await r.ReadAsync(ct);
        return (r.IsDBNull(0) ? null : r.GetString(0), r.IsDBNull(1) ? null : r.GetString(1));
    }

    /// <summary>Count and digest of the live rows in <paramref name="range"/> (null: the whole table).</summary>
    public async Task<RowDigest> DigestAsync(IReadOnlyList<string> columns, string? rangeColumn, KeyRange? range, CancellationToken ct)
    {
        var (where, parameters) = Where(rangeColumn, range, 1, live: true);
        await using var cmd = new NpgsqlCommand($"SELECT {RowDigest.AggregateSql(RowDigest.HashSql(columns))} FROM {From} WHERE {where}", _conn);
        cmd.Parameters.AddRange(parameters);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        await r.ReadAsync(ct);
        return new RowDigest(r.GetInt64(0), r.GetString(1));
    }

    /// <summary>
    /// Count and digest of the live rows of <paramref name="range"/> per <c>width_bucket(column, thresholds)</c>:
    /// one scan (an index range scan within a range), few groups.
    /// </summary>
    public async Task<Dictionary<long, RowDigest>> RangeBucketsAsync(IReadOnlyList<string> columns, string column, KeyRange range,
        IReadOnlyList<string> thresholds, CancellationToken ct)
    {
        var (where, parameters) = Where(column, range, 2, live: true);
        var bucket = thresholds.Count == 0 ? "0" : $"width_bucket({SqlText.Ident(column)}, $1::{Types[column]}[])";
        var sql = $"SELECT {bucket}, {RowDigest.AggregateSql(RowDigest.HashSql(columns))} FROM {From} WHERE {where} GROUP BY 1";
        await using var cmd = new NpgsqlCommand(sql, _conn);
        cmd.Parameters.Add(new NpgsqlParameter { Value = thresholds.ToArray(), NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text });
        cmd.Parameters.AddRange(parameters);
        return await ReadBucketsAsync(cmd, ct);
    }

    /// <summary>Count and digest of the live rows per <c>(column - min) / width</c>: the first level of an integer key, one scan.</summary>
    public async Task<Dictionary<long, RowDigest>> GridBucketsAsync(IReadOnlyList<string> columns, string column, long min, long width, CancellationToken ct)
    {
        var sql = $"SELECT ({SqlText.Ident(column)}::bigint - $1) / $2, {RowDigest.AggregateSql(RowDigest.HashSql(columns))} FROM {From} WHERE {Live} GROUP BY 1";
        await using var cmd = new NpgsqlCommand(sql, _conn) { Parameters = { new() { Value = min }, new() { Value = width } } };
        return await ReadBucketsAsync(cmd, ct);
    }

    /// <summary>Count and digest of the live rows per hash bucket of the key's text: for keys whose order depends on a collation.</summary>
    public async Task<Dictionary<long, RowDigest>> HashBucketsAsync(IReadOnlyList<string> columns, IReadOnlyList<string> key, long buckets, CancellationToken ct)
    {
        var sql = $"SELECT {HashBucketSql(key)}, {RowDigest.AggregateSql(RowDigest.HashSql(columns))} FROM {From} WHERE {Live} GROUP BY 1";
        await using var cmd = new NpgsqlCommand(sql, _conn) { Parameters = { new() { Value = buckets } } };
        return await ReadBucketsAsync(cmd, ct);
    }

    /// <summary>
    /// The percentiles of <paramref name="column"/> over the live rows of <paramref name="range"/>: split points
    /// of about equal row counts, ascending, without repeats (sorts the range's keys, which a differing range bounds).
    /// </summary>
    public async Task<IReadOnlyList<string>> SplitPointsAsync(string column, KeyRange range, int parts, CancellationToken ct)
    {
        var (where, parameters) = Where(column, range, 2, live: true);
        var sql = $"SELECT (percentile_disc($1::float8[]) WITHIN GROUP (ORDER BY {SqlText.Ident(column)}))::text[] FROM {From} WHERE {where}";
        await using var cmd = new NpgsqlCommand(sql, _conn);
        cmd.Parameters.Add(new NpgsqlParameter { Value = Enumerable.Range(1, parts - 1).Select(i => (double)i / parts).ToArray() });
        cmd.Parameters.AddRange(parameters);
        var points = await cmd.ExecuteScalarAsync(ct) as string?[] ?? [];
        return points.OfType<string>().Distinct(StringComparer.Ordinal).Where(p => p != range.Lo).ToList();
    }

    /// <summary>
    /// The rows of several disjoint ranges (given in ascending order) in one query, ordered by the range they fall
    /// in, then by their key's text under COLLATE "C": the same order on both sides, whatever each database's
    /// collation. Columns: range number, key text, row hash, live, in flight, then every column's text. The source
    /// reads non-live rows too, so that a key live only in STG can be told "in flight" (soft-deleted moments ago)
    /// from "extra".
    /// </summary>
    public Task<NpgsqlDataReader> RangeRowsAsync(TableShape shape, string column, IReadOnlyList<KeyRange> ranges, CancellationToken ct)
    {
        var c = SqlText.Ident(column);
        var type = Types[column];
        var parameters = new List<NpgsqlParameter>
        {
            new() { Value = shape.InFlightSince },
            new() { Value = ranges.Select(r => r.Lo).OfType<string>().ToArray(), NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text },
        };
        string Bound(string op, string value)
        {
            parameters.Add(new NpgsqlParameter { Value = value });
            return $"{c} {op} ${parameters.Count}::{type}";
        }
        var any = ranges.Select(r => "(" + string.Join(" AND ", new[] { r.Lo is null ? null : Bound(">=", r.Lo), r.Hi is null ? null : Bound("<", r.Hi) }
            .OfType<string>().DefaultIfEmpty("true")) + ")").ToList();
        // The ranges are disjoint and ascending, so the bucket of a key among their lower bounds numbers its range.
        var sql = $"SELECT width_bucket({c}, $2::{type}[])::bigint AS b, {RowColumnsSql(shape)} FROM {From} " +
                  $"WHERE ({string.Join(" OR ", any)}){(IsSource ? "" : " AND " + Live)} ORDER BY 1, 2";
        var cmd = new NpgsqlCommand(sql, _conn);
        cmd.Parameters.AddRange(parameters.ToArray());
        return ExecuteOwnedAsync(cmd, ct);
    }

    /// <summary>The rows of the given hash buckets, ordered by (bucket, key text COLLATE "C"); columns as <see cref="RangeRowsAsync"/>.</summary>
    public Task<NpgsqlDataReader> HashRowsAsync(TableShape shape, long buckets, long[] which, CancellationToken ct)
    {
        var sql = $"""
            SELECT * FROM (SELECT {HashBucketSql(shape.Key, "$2")} AS b, {RowColumnsSql(shape)} FROM {From}{(IsSource ? "" : " WHERE " + Live)}) x
            WHERE x.b = ANY($3) ORDER BY 1, 2
            """;
        var cmd = new NpgsqlCommand(sql, _conn)
        { Parameters = { new() { Value = shape.InFlightSince }, new() { Value = buckets }, new() { Value = which } } };
        return ExecuteOwnedAsync(cmd, ct);
    }

    /// <summary>
    /// Every column's text of the rows with the given keys (key column texts, one array per key column), looked up
    /// through the primary key: kt, then the columns' texts. Only for rows already known to differ.
    /// </summary>
    public async Task<Dictionary<string, string?[]>> RowsByKeyAsync(TableShape shape, IReadOnlyList<string[]> keyValues, CancellationToken ct)
    {
        var unnest = string.Join(", ", shape.Key.Select((k, i) => $"${i + 1}::{OwnTypes[k]}[]"));
        var join = string.Join(" AND ", shape.Key.Select(k => $"t.{SqlText.Ident(k)} = u.{SqlText.Ident(k)}"));
        var sql = $"SELECT (ROW({SqlText.IdentList(shape.Key, "t")})::text) COLLATE \"C\", {string.Join(", ", shape.Columns.Select(c => "t." + SqlText.Ident(c) + "::text"))} " +
                  $"FROM {From} t JOIN unnest({unnest}) AS u({SqlText.IdentList(shape.Key)}) ON {join}";
        await using var cmd = new NpgsqlCommand(sql, _conn);
        foreach (var values in keyValues)
            cmd.Parameters.Add(new NpgsqlParameter { Value = values, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text });
        var rows = new Dictionary<string, string?[]>(StringComparer.Ordinal);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            var texts = new string?[shape.Columns.Count];
            for (var i = 0; i < texts.Length; i++)
                texts[i] = r.IsDBNull(i + 1) ? null : r.GetString(i + 1);
            rows[r.GetString(0)] = texts;
        }
        return rows;
    }

    /// <summary>What the row streams carry: bucket, key text, hash, live, in flight, the key columns' texts (not the other columns': those only for rows that differ).</summary>
    private string RowColumnsSql(TableShape shape)
    {
        var inFlight = IsSource && shape.CdcColumns.Count > 0
            ? $"coalesce(greatest({string.Join(", ", shape.CdcColumns.Select(c => SqlText.Ident(c) + "::timestamptz"))}) >= $1, false)"
            : "$1::timestamptz IS NULL";
        return string.Join(", ", [
            $"(ROW({SqlText.IdentList(shape.Key)})::text) COLLATE \"C\" AS kt",
            RowDigest.HashSql(shape.Columns),
            Live,
            inFlight,
            .. shape.Key.Select(c => SqlText.Ident(c) + "::text"),
        ]);
    }

    /// <summary>The hash bucket of a row by its key's text; <paramref name="bucketsParameter"/> holds the bucket count.</summary>
    private static string HashBucketSql(IReadOnlyList<string> key, string bucketsParameter = "$1") =>
        $"mod(mod(hashtextextended(ROW({SqlText.IdentList(key)})::text, 0), {bucketsParameter}::bigint) + {bucketsParameter}::bigint, {bucketsParameter}::bigint)";

    private (string Where, NpgsqlParameter[] Parameters) Where(string? column, KeyRange? range, int firstParameter, bool live)
    {
        var conditions = new List<string>();
        var parameters = new List<NpgsqlParameter>();
        if (live) conditions.Add(Live);
        if (column is not null && range is not null)
        {
            var c = SqlText.Ident(column);
            if (range.Lo is not null)
            {
                conditions.Add($"{c} >= ${firstParameter + parameters.Count}::{Types[column]}");
                parameters.Add(new NpgsqlParameter { Value = range.Lo });
            }
            if (range.Hi is not null)
            {
                conditions.Add($"{c} < ${firstParameter + parameters.Count}::{Types[column]}");
                parameters.Add(new NpgsqlParameter { Value = range.Hi });
            }
        }
        return (conditions.Count == 0 ? "true" : string.Join(" AND ", conditions), [.. parameters]);
    }

    private async Task<Dictionary<long, RowDigest>> ReadBucketsAsync(NpgsqlCommand cmd, CancellationToken ct)
    {
        // A digest's GROUP BY has few groups (buckets), but the planner cannot know how few and sorts every row
        // instead of hashing them; only for this query, since other plans go astray without sorts.
        await _conn.ExecAsync("SET LOCAL enable_sort = off", ct);
        var result = new Dictionary<long, RowDigest>();
        await using (var r = await cmd.ExecuteReaderAsync(ct))
            while (await r.ReadAsync(ct))
                result[Convert.ToInt64(r.GetValue(0))] = new RowDigest(r.GetInt64(1), r.GetString(2));
        await _conn.ExecAsync("SET LOCAL enable_sort = on", ct);
        return result;
    }

    /// <summary>A reader that disposes its command with it.</summary>
    private static async Task<NpgsqlDataReader> ExecuteOwnedAsync(NpgsqlCommand cmd, CancellationToken ct)
    {
        try
        {
            return await cmd.ExecuteReaderAsync(CommandBehavior.SequentialAccess, ct);
        }
        catch
        {
            await cmd.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try { await _tx.RollbackAsync(); }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or ObjectDisposedException) { }
        await _tx.DisposeAsync();
        await _conn.DisposeAsync();
    }
}
