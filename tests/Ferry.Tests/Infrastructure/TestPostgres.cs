using Ferry.Shared.Postgres;

namespace Ferry.Tests.Infrastructure;

/// <summary>
/// One real PostgreSQL server for the whole test run (started on first use, stopped when the test
/// process exits); each test class asks for its own fresh database so classes run in parallel.
/// </summary>
public static class TestPostgres
{
    private static readonly Lazy<Task<LocalPostgres>> Server = new(StartAsync);

    private static async Task<LocalPostgres> StartAsync()
    {
        RemoveLeftovers();
        var root = Path.Combine(Path.GetTempPath(), $"ferry-test-pg-{Environment.ProcessId}");
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        var server = await LocalPostgres.StartAsync(root, new LocalPostgresOptions { Durable = false, SharedBuffers = "128MB", MaxConnections = 600 });
        Environment.SetEnvironmentVariable(PasswordVariable, server.Password);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            server.StopAsync().GetAwaiter().GetResult();
            try { Directory.Delete(root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        };
        return server;
    }

    /// <summary>
    /// The servers of earlier test runs whose test process is gone and whose postmaster is not running: a test
    /// host that is killed (or runs out of time at exit) never deletes its data folder, and each holds gigabytes.
    /// </summary>
    private static void RemoveLeftovers()
    {
        foreach (var dir in Directory.GetDirectories(Path.GetTempPath(), "ferry-test-pg-*"))
        {
            if (!int.TryParse(Path.GetFileName(dir)["ferry-test-pg-".Length..], out var owner) || owner == Environment.ProcessId || IsAlive(owner))
                continue;
            var pidFile = Path.Combine(dir, "data", "postmaster.pid");
            try
            {
                if (File.Exists(pidFile) && int.TryParse(File.ReadLines(pidFile).FirstOrDefault(), out var postmaster) && IsAlive(postmaster))
                    continue;
                Directory.Delete(dir, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Another test run is cleaning up the same folder, or it is not ours to delete: leave it.
            }
        }
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    public static Task<LocalPostgres> GetAsync() => Server.Value;

    /// <summary>The environment variable that holds the test server's password, for metadata's ${...} references.</summary>
    public const string PasswordVariable = "FERRY_TEST_PG_PASSWORD";

    /// <summary>A metadata connection to one database of the test server (password by reference, as in real metadata).</summary>
    public static async Task<Ferry.Shared.Metadata.PgConnection> ConnectionAsync(string name, string connectionString)
    {
        var server = await Server.Value;
        var database = new Npgsql.NpgsqlConnectionStringBuilder(connectionString).Database!;
        return new Ferry.Shared.Metadata.PgConnection(name, "127.0.0.1", server.Port, database, server.User,
            new Ferry.Shared.Metadata.SecretRef(PasswordVariable));
    }

    /// <summary>A new, empty database named after the caller plus a random suffix; returns its connection string.</summary>
    public static async Task<string> CreateDatabaseAsync(string prefix)
    {
        var server = await Server.Value;
        var name = $"{prefix.ToLowerInvariant()}_{Guid.NewGuid():N}"[..Math.Min(63, prefix.Length + 33)];
        return await server.CreateDatabaseAsync(name);
    }
}
