using System.Security.Cryptography;
using System.Text;
using Ferry.Shared.Metadata;
using Ferry.Shared.Postgres;
using Npgsql;

namespace Ferry.Worker.Stg;

/// <summary>
/// One writer per STG table at a time, whoever starts it (the process entity, a replay, a `--local` run):
/// a PostgreSQL session advisory lock on the target, keyed from the STG table's identity, held on a
/// connection of its own (not pooled, so a crashed writer's lock ends with its session) around load and merge.
/// Waiting is cancellable; a writer that gives up names who holds the lock (pid and application name).
/// </summary>
public sealed class StgWriterLock : IAsyncDisposable
{
    private readonly NpgsqlConnection _conn;
    private readonly long _key;

    private StgWriterLock(NpgsqlConnection conn, long key) => (_conn, _key) = (conn, key);

    /// <summary>The lock key of one STG table: the first 8 bytes of SHA-256 over "ferry-stg:&lt;schema&gt;.&lt;table&gt;".</summary>
    public static long KeyOf(string stgSchema, string stgTable) =>
        BitConverter.ToInt64(SHA256.HashData(Encoding.UTF8.GetBytes($"ferry-stg:{stgSchema}.{stgTable}")), 0);

    /// <summary>Takes the lock, waiting for the writer that holds it.</summary>
    /// <param name="holder">Who asks, e.g. "stg.qvp.users run 20261202T…": the lock connection's application name, so a waiting writer can name it.</param>
    /// <param name="waiting">Called once, with the holder's description, when the lock is taken and this writer starts to wait.</param>
    /// <param name="waitLimit">Give up after this long (null: wait until cancelled).</param>
    public static async Task<StgWriterLock> AcquireAsync(string targetConnectionString, string stgSchema, string stgTable, string holder,
        Action<string>? waiting = null, TimeSpan? waitLimit = null, CancellationToken ct = default)
    {
        var key = KeyOf(stgSchema, stgTable);
        var builder = new NpgsqlConnectionStringBuilder(targetConnectionString)
        {
            Pooling = false,
            ApplicationName = PgSession.WithinNameLimit("ferry " + holder),
            CommandTimeout = 0,
        };
        var conn = new NpgsqlConnection(builder.ConnectionString);
        try
        {
            try
            {
                await conn.OpenAsync(ct);
            }
            catch (Exception e) when (e is NpgsqlException or System.Net.Sockets.SocketException or IOException or TimeoutException && !ct.IsCancellationRequested)
            {
                // Named as the target is everywhere else, not by this connection's own settings.
                throw new ConnectionFailedException(PgConnect.LabelOf(targetConnectionString), e);
            }
            if (await TryLockAsync(conn, key, ct)) return new StgWriterLock(conn, key);
            waiting?.Invoke(await HolderAsync(targetConnectionString, key, ct));
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
            if (waitLimit is { } l) limit.CancelAfter(l);
            try
            {
                await using var cmd = new NpgsqlCommand("SELECT pg_advisory_lock($1)", conn) { Parameters = { new() { Value = key } } };
                await cmd.ExecuteNonQueryAsync(limit.Token);
                return new StgWriterLock(conn, key);
            }
            catch (Exception e) when (limit.IsCancellationRequested && e is OperationCanceledException or NpgsqlException)
            {
                var who = await HolderAsync(targetConnectionString, key, CancellationToken.None);
                const string rule = "one writer per STG table at a time";
                if (ct.IsCancellationRequested)
                    throw new OperationCanceledException($"{stgSchema}.{stgTable}: cancelled while waiting for the STG writer lock, held by {who}; {rule}", e, ct);
                throw new StgWriterBusyException(
                    $"{stgSchema}.{stgTable}: gave up after {waitLimit!.Value.TotalSeconds:N0} s waiting for the STG writer lock, held by {who}; {rule}", who);
            }
        }
        catch
        {
            await conn.DisposeAsync();
            throw;
        }
    }

    private static async Task<bool> TryLockAsync(NpgsqlConnection conn, long key, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT pg_try_advisory_lock($1)", conn) { Parameters = { new() { Value = key } } };
        return (bool)(await cmd.ExecuteScalarAsync(ct))!;
    }

    /// <summary>"pid 1234 (ferry stg.qvp.users run …)", or "no session" when the lock was let go meanwhile.</summary>
    public static async Task<string> HolderAsync(string targetConnectionString, long key, CancellationToken ct)
    {
        // A bigint advisory key shows in pg_locks as classid = high 32 bits, objid = low 32 bits, objsubid = 1.
        await using var conn = await PgConnect.OpenAsync(targetConnectionString, ct);
        await using var cmd = new NpgsqlCommand("""
            SELECT l.pid, coalesce(a.application_name, '')
            FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND l.classid::bigint = ($1 >> 32) & 4294967295 AND l.objid::bigint = $1 & 4294967295 AND l.objsubid = 1
            """, conn) { Parameters = { new() { Value = key } } };
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct) ? $"pid {r.GetInt32(0)} ({r.GetString(1)})" : "no session (it was just let go)";
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await using var cmd = new NpgsqlCommand("SELECT pg_advisory_unlock($1)", _conn) { Parameters = { new() { Value = _key } } };
            await cmd.ExecuteNonQueryAsync();
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            // The session is gone: its lock went with it.
        }
        await _conn.DisposeAsync();
    }
}

/// <summary>Another writer holds an STG table's writer lock and this one stopped waiting.</summary>
public sealed class StgWriterBusyException(string message, string holder) : Exception(message)
{
    public string Holder { get; } = holder;
}
