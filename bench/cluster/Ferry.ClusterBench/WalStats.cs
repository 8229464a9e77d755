using Npgsql;

namespace Ferry.ClusterBench;

/// <summary>
/// The server's WAL activity so far (pg_stat_wal, PostgreSQL 14+; server-wide): records, bytes, and the WAL flushes to
/// disk (wal_sync: on this durable server every commit that writes waits for one, several commits can share it) with
/// their time (track_wal_io_timing is switched on by the benchmark).
/// </summary>
public sealed record WalStats(long Records, long Bytes, long Syncs, double SyncSeconds)
{
    public static async Task<WalStats> TakeAsync(string connectionString)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        // Backends flush their statistics at most once a second when idle, and the snapshot is cached per transaction.
        await using var cmd = new NpgsqlCommand(
            "SELECT pg_stat_clear_snapshot(); SELECT wal_records, wal_bytes::bigint, wal_sync, wal_sync_time FROM pg_stat_wal", conn);
        await using var r = await cmd.ExecuteReaderAsync();
        await r.NextResultAsync();
        await r.ReadAsync();
        return new WalStats(r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), r.GetDouble(3) / 1000.0);
    }

    public WalStats Since(WalStats before) => new(Records - before.Records, Bytes - before.Bytes, Syncs - before.Syncs, SyncSeconds - before.SyncSeconds);

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
