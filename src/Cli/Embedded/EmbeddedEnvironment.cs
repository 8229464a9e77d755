using Ferry.Shared.Postgres;

namespace Ferry.Cli.Embedded;

/// <summary>
/// The embedded default that `ferry demo` and `ferry standalone` run on: a local PostgreSQL under
/// &lt;home&gt;/pg holding the qvp, svp and unipacc databases, and a filesystem object store under
/// &lt;home&gt;/objects. The shipped metadata/connections.yaml reads its connection settings from the
/// environment, so this sets those variables for this process only (the password never leaves it).
/// </summary>
public sealed class EmbeddedEnvironment : IAsyncDisposable
{
    public static readonly string[] Databases = ["qvp", "svp", "unipacc"];

    private EmbeddedEnvironment(LocalPostgres server, string home)
    {
        Server = server;
        Home = home;
    }

    public LocalPostgres Server { get; }
    public string Home { get; }
    public string ObjectsDirectory => Path.Combine(Home, "objects");
    public string ConnectionString(string database) => Server.ConnectionString(database);

    /// <param name="fresh">Drop and recreate the databases and the object store (the demo); otherwise keep what is there (standalone).</param>
    public static async Task<EmbeddedEnvironment> StartAsync(string home, bool fresh, bool keepRunning = false, CancellationToken ct = default)
    {
        home = Path.GetFullPath(home);
        var server = await LocalPostgres.StartAsync(Path.Combine(home, "pg"), new LocalPostgresOptions { StopOnDispose = !keepRunning }, ct);
        var env = new EmbeddedEnvironment(server, home);
        foreach (var db in Databases)
            await server.CreateDatabaseAsync(db, dropExisting: fresh, ct);
        if (fresh && Directory.Exists(env.ObjectsDirectory))
            Directory.Delete(env.ObjectsDirectory, recursive: true);
        foreach (var prefix in new[] { "QVP", "SVP", "TARGET" })
        {
            Environment.SetEnvironmentVariable($"{prefix}_HOST", "127.0.0.1");
            Environment.SetEnvironmentVariable($"{prefix}_PORT", server.Port.ToString());
            Environment.SetEnvironmentVariable($"{prefix}_USER", server.User);
            Environment.SetEnvironmentVariable($"{prefix}_PASSWORD", server.Password);
        }
        Environment.SetEnvironmentVariable("FERRY_OBJECTS", env.ObjectsDirectory);
        return env;
    }

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}
