using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Npgsql;

namespace Ferry.Shared.Postgres;

/// <summary>
/// A PostgreSQL server that Ferry starts itself: for tests, the demo and `ferry standalone`.
/// It finds the server binaries, runs initdb (as the `postgres` user when we are root, since initdb
/// refuses root), listens on a free loopback port with its own socket folder, and stops on dispose.
/// Authentication over TCP is scram-sha-256 with a generated password kept in a 0600 file beside the
/// data folder, so the password never appears on a command line.
/// </summary>
public sealed class LocalPostgres : IAsyncDisposable
{
    private readonly string _root;
    private readonly string _binDir;
    private readonly bool _stopOnDispose;
    private readonly string _password;

    public int Port { get; }
    public string User => "ferry";
    public string DataDirectory => Path.Combine(_root, "data");
    public string LogFile => Path.Combine(_root, "postgres.log");

    private LocalPostgres(string root, string binDir, int port, string password, bool stopOnDispose)
    {
        _root = root;
        _binDir = binDir;
        Port = port;
        _password = password;
        _stopOnDispose = stopOnDispose;
    }

    public string ConnectionString(string database = "postgres") => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = User,
        Password = _password,
        Database = database,
        Pooling = true,
        MaxPoolSize = 50,
        CommandTimeout = 0,
    }.ConnectionString;

    /// <summary>The parts of <see cref="ConnectionString"/> a metadata file needs, without the password.</summary>
    public string Password => _password;

    /// <summary>
    /// Starts (initialising if needed) the server whose files live under <paramref name="root"/>.
    /// A server already running from the same folder is stopped first, since its port is unknown.
    /// </summary>
    public static async Task<LocalPostgres> StartAsync(string root, LocalPostgresOptions? options = null, CancellationToken ct = default)
    {
        options ??= new LocalPostgresOptions();
        root = Path.GetFullPath(root);
        Directory.CreateDirectory(root);
        var binDir = FindBinDirectory();
        var asPostgres = Environment.UserName == "root" || Environment.GetEnvironmentVariable("USER") == "root" || IsRoot();
        if (asPostgres)
        {
            await RunAsync("chown", ["-R", "postgres:postgres", root], ct);
            // The postgres user must be able to reach the folder through every parent.
            for (var dir = Path.GetDirectoryName(root); !string.IsNullOrEmpty(dir) && dir != "/"; dir = Path.GetDirectoryName(dir))
                await RunAsync("chmod", ["o+x", dir], ct, ignoreFailure: true);
        }

        var passwordFile = Path.Combine(root, "password");
        var dataDir = Path.Combine(root, "data");
        var socketDir = Path.Combine(root, "socket");
        Directory.CreateDirectory(socketDir);
        string password;
        if (!File.Exists(Path.Combine(dataDir, "PG_VERSION")))
        {
            password = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
            await File.WriteAllTextAsync(passwordFile, password, ct);
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(passwordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            if (asPostgres)
                await RunAsync("chown", ["-R", "postgres:postgres", root], ct);
            await RunPgAsync(asPostgres, Path.Combine(binDir, "initdb"),
                ["-D", dataDir, "-U", "ferry", "--pwfile", passwordFile, "--auth-local=trust", "--auth-host=scram-sha-256",
                 "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"], ct);
        }
        else
        {
            password = (await File.ReadAllTextAsync(passwordFile, ct)).Trim();
            if (File.Exists(Path.Combine(dataDir, "postmaster.pid")))
                await RunPgAsync(asPostgres, Path.Combine(binDir, "pg_ctl"), ["-D", dataDir, "-m", "fast", "-w", "stop"], ct, ignoreFailure: true);
        }

        var port = options.Port ?? FreeLoopbackPort();
        var settings = new List<string>
        {
            $"-p {port}", "-c listen_addresses=127.0.0.1", $"-c unix_socket_directories={socketDir}",
            $"-c max_connections={options.MaxConnections}", $"-c shared_buffers={options.SharedBuffers}", "-c max_wal_size=8GB",
            "-c checkpoint_timeout=30min", "-c logging_collector=off",
        };
        if (!options.Durable)
            settings.AddRange(["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]);
        var logFile = Path.Combine(root, "postgres.log");
        await RunPgAsync(asPostgres, Path.Combine(binDir, "pg_ctl"),
            ["-D", dataDir, "-l", logFile, "-o", string.Join(' ', settings), "-w", "-t", "60", "start"], ct);
        var server = new LocalPostgres(root, binDir, port, password, options.StopOnDispose);
        return server;
    }

    /// <summary>Creates a database (dropping an old one of the same name first when asked).</summary>
    public async Task<string> CreateDatabaseAsync(string name, bool dropExisting = true, CancellationToken ct = default)
    {
        await using var conn = new NpgsqlConnection(ConnectionString());
        await conn.OpenAsync(ct);
        var quoted = Sql.SqlText.Ident(name);
        if (dropExisting)
        {
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)", conn);
            await drop.ExecuteNonQueryAsync(ct);
        }
        await using (var create = new NpgsqlCommand($"CREATE DATABASE {quoted}", conn))
        {
            try { await create.ExecuteNonQueryAsync(ct); }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DuplicateDatabase && !dropExisting) { }
        }
        return ConnectionString(name);
    }

    public async Task StopAsync()
    {
        var asPostgres = IsRoot();
        await RunPgAsync(asPostgres, Path.Combine(_binDir, "pg_ctl"), ["-D", DataDirectory, "-m", "fast", "-w", "stop"], CancellationToken.None, ignoreFailure: true);
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (_stopOnDispose)
            await StopAsync();
    }

    /// <summary>FERRY_PG_BIN, then Debian's /usr/lib/postgresql/&lt;newest&gt;/bin, then pg_ctl on PATH.</summary>
    public static string FindBinDirectory()
    {
        var fromEnv = Environment.GetEnvironmentVariable("FERRY_PG_BIN");
        if (!string.IsNullOrEmpty(fromEnv) && File.Exists(Path.Combine(fromEnv, "pg_ctl")))
            return fromEnv;
        if (Directory.Exists("/usr/lib/postgresql"))
        {
            var newest = Directory.GetDirectories("/usr/lib/postgresql")
                .Select(d => (dir: d, ok: int.TryParse(Path.GetFileName(d), out var v), version: v))
                .Where(x => x.ok && File.Exists(Path.Combine(x.dir, "bin", "initdb")))
                .OrderByDescending(x => x.version)
                .FirstOrDefault();
            if (newest.dir is not null)
                return Path.Combine(newest.dir, "bin");
        }
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
            if (File.Exists(Path.Combine(dir, "pg_ctl")) && File.Exists(Path.Combine(dir, "initdb")))
                return dir;
        throw new InvalidOperationException(
            "PostgreSQL server binaries (initdb, pg_ctl) were not found: install them with `apt-get install postgresql` or set FERRY_PG_BIN");
    }

    public static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static bool IsRoot() => Environment.UserName == "root" || geteuid() == 0;

    [System.Runtime.InteropServices.DllImport("libc")]
    private static extern uint geteuid();

    private static Task RunPgAsync(bool asPostgres, string exe, string[] args, CancellationToken ct, bool ignoreFailure = false) =>
        asPostgres ? RunAsync("runuser", ["-u", "postgres", "--", exe, .. args], ct, ignoreFailure) : RunAsync(exe, args, ct, ignoreFailure);

    private static async Task RunAsync(string exe, string[] args, CancellationToken ct, bool ignoreFailure = false)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["LC_ALL"] = "C.UTF-8";
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {exe}");
        var stdout = p.StandardOutput.ReadToEndAsync(ct);
        var stderr = p.StandardError.ReadToEndAsync(ct);
        await p.WaitForExitAsync(ct);
        if (p.ExitCode != 0 && !ignoreFailure)
            throw new InvalidOperationException($"{Path.GetFileName(exe)} {string.Join(' ', args.Take(3))} failed ({p.ExitCode}): {(await stderr).Trim()} {(await stdout).Trim()}");
    }
}

public sealed record LocalPostgresOptions
{
    /// <summary>Fixed port; a free loopback port when null.</summary>
    public int? Port { get; init; }
    /// <summary>fsync and full-page writes on. Tests run without them; the demo and benchmarks with them.</summary>
    public bool Durable { get; init; } = true;
    public bool StopOnDispose { get; init; } = true;
    public string SharedBuffers { get; init; } = "256MB";
    public int MaxConnections { get; init; } = 200;
}
