using Npgsql;

namespace Ferry.ClusterBench;

/// <summary>
/// WAL written by the whole server: the difference of pg_current_wal_lsn() between two moments (exact at once, unlike
/// pg_stat_wal, whose counters idle backends flush up to 10 s late).
/// </summary>
public static class WalPosition
{
    public static async Task<long> TakeAsync(string connectionString) =>
        await Db.ScalarAsync<long>(connectionString, "SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint");

    /// <summary>Mean time of one durable single-row commit: <paramref name="count"/> INSERTs, each its own transaction, on one connection.</summary>
    public static async Task<double> CommitLatencyAsync(string connectionString, int count = 100)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        await using (var create = new NpgsqlCommand("CREATE TABLE IF NOT EXISTS public.bench_commit_probe (id int, at timestamptz)", conn))
            await create.ExecuteNonQueryAsync();
        await using var insert = new NpgsqlCommand("INSERT INTO public.bench_commit_probe VALUES ($1, now())", conn);
        insert.Parameters.Add(new NpgsqlParameter { Value = 0 });
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            insert.Parameters[0].Value = i;
            await insert.ExecuteNonQueryAsync();
        }
        var seconds = clock.Elapsed.TotalSeconds;
        await using (var drop = new NpgsqlCommand("DROP TABLE public.bench_commit_probe", conn))
            await drop.ExecuteNonQueryAsync();
        return seconds / count;
    }
}
