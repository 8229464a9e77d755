using Ferry.Shared.Postgres;

namespace Ferry.Cli.Embedded;

/// <summary>
/// The embedded default that `ferry demo` and `ferry standalone` run on: a local PostgreSQL under
/// &lt;home&gt;/pg holding the qvp, svp and unipacc databases, a filesystem object store under
/// &lt;home&gt;/objects and the attachment buckets under &lt;home&gt;/buckets. The shipped metadata/connections.yaml reads its connection settings from the
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

    /// <summary>The demo's buckets (one folder each): the sources' attachments and the unified bucket.</summary>
    public string BucketsDirectory => Path.Combine(Home, "buckets");
    public string ConnectionString(string database) => Server.ConnectionString(database);

    /// <param name="fresh">Drop and recreate the databases and the object store (the demo); otherwise keep what is there (standalone).</param>
    public static async Task<EmbeddedEnvironment> StartAsync(string home, bool fresh, bool keepRunning = false, CancellationToken ct = default)
    {
        home = Path.GetFullPath(home);
        var server = await LocalPostgres.StartAsync(Path.Combine(home, "pg"), new LocalPostgresOptions { StopOnDispose = !keepRunning }, ct);
        var env = new EmbeddedEnvironment(server, home);
        foreach (var db in Databases)
            await server.CreateDatabaseAsync(db, dropExisting: fresh, ct);
        if (fresh)
            foreach (var dir in new[] { env.ObjectsDirectory, env.BucketsDirectory }.Where(Directory.Exists))
                Directory.Delete(dir, recursive: true);
        foreach (var prefix in new[] { "QVP", "SVP", "TARGET" })
        {
            Environment.SetEnvironmentVariable($"{prefix}_HOST", "127.0.0.1");
            Environment.SetEnvironmentVariable($"{prefix}_PORT", server.Port.ToString());
            Environment.SetEnvironmentVariable($"{prefix}_USER", server.User);
            Environment.SetEnvironmentVariable($"{prefix}_PASSWORD", server.Password);
        }
        Environment.SetEnvironmentVariable("FERRY_OBJECTS", env.ObjectsDirectory);
        Environment.SetEnvironmentVariable("FERRY_FILES", env.BucketsDirectory);
        return env;
    }

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}
