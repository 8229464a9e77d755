using Npgsql;

namespace Ferry.Bench;

/// <summary>
/// An order-independent digest of a table's rows: the count and the sum of the first 60 bits of each
/// row's md5 (over every source column, as text in UTC). Equal digests on source and STG (live rows)
/// mean STG holds the same rows; a benchmark that loads wrong data is worthless.
/// </summary>
public sealed record TableDigest(long Rows, decimal Sum)
{
    public static async Task<TableDigest> OfAsync(string connectionString, string table, string? where = null)
    {
        var row = string.Join(", ", ShopSource.Columns);
        var sql = $"SELECT count(*), coalesce(sum(('x' || left(md5(ROW({row})::text), 15))::bit(60)::bigint), 0) FROM {table}"
                  + (where is null ? "" : " WHERE " + where);
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        await using (var tz = new NpgsqlCommand("SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'", conn))
            await tz.ExecuteNonQueryAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        await using var r = await cmd.ExecuteReaderAsync();
        await r.ReadAsync();
        return new TableDigest(r.GetInt64(0), r.GetDecimal(1));
    }

    /// <summary>Throws, naming who loaded what, when STG does not hold exactly the source's rows.</summary>
    public void MustEqual(TableDigest source, string what)
    {
        if (this != source)
            throw new InvalidOperationException(
                $"{what}: STG does not match the source: {Rows:N0} live rows (digest {Sum}) vs {source.Rows:N0} source rows (digest {source.Sum})");
    }
}
