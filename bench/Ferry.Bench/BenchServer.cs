using System.Diagnostics;
using Ferry.Shared.Postgres;
using Npgsql;

namespace Ferry.Bench;

/// <summary>
/// One durable local PostgreSQL (fsync on, full-page writes on) with the databases `source` and `target`,
/// shared by the baseline and Ferry. Between timed runs it is settled the same way for both: the tables
/// just written are vacuumed, then a CHECKPOINT and a sync, so no run pays for the previous one's dirty pages.
/// </summary>
public sealed class BenchServer : IAsyncDisposable
{
    public const string PasswordVariable = "FERRY_BENCH_PG_PASSWORD";

    private readonly LocalPostgres _pg;

    private BenchServer(LocalPostgres pg) => _pg = pg;

    public int Port => _pg.Port;
    public string User => _pg.User;
    public string Source => _pg.ConnectionString("source");
    public string Target => _pg.ConnectionString("target");

    public string LogFile => _pg.LogFile;

    public static async Task<BenchServer> StartAsync(string folder, string sharedBuffers, int? logMinDurationMs = null, int? explainMinDurationMs = null)
    {
        var pg = await LocalPostgres.StartAsync(folder, new LocalPostgresOptions { Durable = true, SharedBuffers = sharedBuffers });
        // Diagnosis only: settings that show where the server spends the time, in its log.
        var settings = new List<string>();
        if (logMinDurationMs is { } ms)
            settings.Add($"log_min_duration_statement = {ms}");
        if (explainMinDurationMs is { } explainMs)
            settings.AddRange(["session_preload_libraries = 'auto_explain'", $"auto_explain.log_min_duration = {explainMs}",
                "auto_explain.log_analyze = on", "auto_explain.log_timing = off", "auto_explain.log_buffers = on"]);
        if (settings.Count > 0)
        {
            await using var conn = new NpgsqlConnection(pg.ConnectionString());
            await conn.OpenAsync();
            // ALTER SYSTEM knows auto_explain's settings only once the module is loaded in this session.
            foreach (var sql in (explainMinDurationMs is null ? [] : new[] { "LOAD 'auto_explain'" })
                     .Concat(settings.Select(s => $"ALTER SYSTEM SET {s}")).Append("SELECT pg_reload_conf()"))
            {
                await using var cmd = new NpgsqlCommand(sql, conn);
                await cmd.ExecuteNonQueryAsync();
            }
        }
        await pg.CreateDatabaseAsync("source");
        await pg.CreateDatabaseAsync("target");
        return new BenchServer(pg);
    }

    /// <summary>The environment a child (psql or the Ferry child) gets: where to connect, and the password, which is never on a command line.</summary>
    public IReadOnlyDictionary<string, string> ChildEnvironment => new Dictionary<string, string>
    {
        ["PGHOST"] = "127.0.0.1",
        ["PGPORT"] = Port.ToString(),
        ["PGUSER"] = User,
        ["PGPASSWORD"] = _pg.Password,
        [PasswordVariable] = _pg.Password,
    };

    public static async Task ExecAsync(string connectionString, string sql)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }

    public static async Task<T> ScalarAsync<T>(string connectionString, string sql)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        return (T)Convert.ChangeType((await cmd.ExecuteScalarAsync())!, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Vacuums what a run wrote (untimed, reported apart), then checkpoints and syncs. Returns the vacuum time.</summary>
    public async Task<TimeSpan> SettleAsync(string connectionString, params string[] tables)
    {
        var clock = Stopwatch.StartNew();
        foreach (var table in tables)
            await ExecAsync(connectionString, $"VACUUM (ANALYZE) {table}");
        var vacuum = clock.Elapsed;
        await CheckpointAsync();
        return vacuum;
    }

    public async Task CheckpointAsync()
    {
        await ExecAsync(_pg.ConnectionString(), "CHECKPOINT");
        using var sync = Process.Start("sync") ?? throw new InvalidOperationException("could not run sync");
        await sync.WaitForExitAsync();
    }

    public async Task<string> VersionAsync() => await ScalarAsync<string>(_pg.ConnectionString(), "SHOW server_version");

    public async ValueTask DisposeAsync() => await _pg.DisposeAsync();
}
