using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Ferry.Shared.Metadata;
using Ferry.Shared.Postgres;
using Ferry.Shared.Storage;

namespace Ferry.Tests.Infrastructure;

/// <summary>
/// A real s3rver (the npm package pinned in tests/s3rver) on a free loopback port with one empty bucket,
/// as an xunit class fixture: one server per test class, killed when the class is done. Installs the
/// package with npm on first use if tests/s3rver/node_modules is missing.
/// Credentials are s3rver's fixed S3RVER/S3RVER, handed over through environment variables so that the
/// stores under test resolve them through <see cref="SecretRef"/> exactly as in production.
/// </summary>
public sealed class S3rver : IAsyncLifetime
{
    private const string DefaultCredential = "S3RVER";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static readonly Lazy<Task<string>> Installed = new(InstallAsync);

    private readonly string _id = Guid.NewGuid().ToString("N")[..12];
    private readonly StringBuilder _output = new();
    private Process? _process;
    private string? _directory;

    public string Bucket { get; } = "ferry-test";
    public int Port { get; private set; }
    public string Endpoint => $"http://127.0.0.1:{Port}";
    public string Region => "us-east-1";
    public SecretRef AccessKey => new($"FERRY_TEST_S3RVER_ACCESS_KEY_{_id}");
    public SecretRef SecretKey => new($"FERRY_TEST_S3RVER_SECRET_KEY_{_id}");

    /// <summary>Options for a store on this server; <paramref name="prefix"/> keeps tests apart within the bucket.</summary>
    public S3ObjectStoreOptions StoreOptions(string prefix) => new()
    {
        Endpoint = Endpoint,
        Region = Region,
        Bucket = Bucket,
        Prefix = prefix,
        AccessKey = AccessKey,
        SecretKey = SecretKey,
    };

    public async Task InitializeAsync()
    {
        var packageDir = await Installed.Value;
        Environment.SetEnvironmentVariable(AccessKey.Variable, DefaultCredential);
        Environment.SetEnvironmentVariable(SecretKey.Variable, DefaultCredential);
        _directory = Path.Combine(Path.GetTempPath(), $"ferry-test-s3rver-{_id}");
        Directory.CreateDirectory(_directory);

        // A free port can be taken between our probe and s3rver's bind; try another one then.
        for (var attempt = 1; ; attempt++)
        {
            Port = LocalPostgres.FreeLoopbackPort();
            _process = Start(packageDir, _directory, Port);
            if (await WaitUntilListeningAsync(_process, Port)) return;
            await StopAsync();
            if (attempt == 3 || !Output().Contains("EADDRINUSE"))
                throw new InvalidOperationException($"s3rver did not start on 127.0.0.1:{Port}:\n{Output()}");
        }
    }

    public async Task DisposeAsync()
    {
        await StopAsync();
        Environment.SetEnvironmentVariable(AccessKey.Variable, null);
        Environment.SetEnvironmentVariable(SecretKey.Variable, null);
        if (_directory is not null)
        {
            try { Directory.Delete(_directory, recursive: true); }
            catch (IOException) { } // a leftover temp folder is harmless
        }
    }

    private Process Start(string packageDir, string directory, int port)
    {
        var psi = new ProcessStartInfo("node")
        {
            WorkingDirectory = packageDir,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // --configure-bucket goes last: s3rver reads the arguments after the bucket name as config files.
        foreach (var arg in new[]
                 {
                     "node_modules/s3rver/bin/s3rver.js", "--directory", directory, "--address", "127.0.0.1",
                     "--port", port.ToString(), "--silent", "--configure-bucket", Bucket,
                 })
            psi.ArgumentList.Add(arg);
        // Without the legacy provider, s3rver's DES continuation tokens fail on Node 17+ (paginated ListObjectsV2 → 500).
        psi.Environment["NODE_OPTIONS"] = "--openssl-legacy-provider";
        var p = new Process { StartInfo = psi };
        lock (_output) _output.Clear();
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        if (!p.Start()) throw new InvalidOperationException("could not start node (is Node.js installed?)");
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    private static async Task<bool> WaitUntilListeningAsync(Process process, int port)
    {
        var deadline = DateTime.UtcNow + StartTimeout;
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited) return false;
            try
            {
                using var client = new TcpClient();
                using var attempt = new CancellationTokenSource(TimeSpan.FromSeconds(1));
                await client.ConnectAsync("127.0.0.1", port, attempt.Token);
                return true;
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                await Task.Delay(100);
            }
        }
        return false;
    }

    private async Task StopAsync()
    {
        if (_process is not { } p) return;
        _process = null;
        try
        {
            if (!p.HasExited) p.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException) { } // exited between the check and the kill
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await p.WaitForExitAsync(timeout.Token);
        p.Dispose();
    }

    private string Output()
    {
        lock (_output) return _output.ToString();
    }

    /// <summary>tests/s3rver with s3rver installed in it (npm install on first use).</summary>
    private static async Task<string> InstallAsync()
    {
        var packageDir = Path.Combine(RepoRoot(), "tests", "s3rver");
        if (File.Exists(Path.Combine(packageDir, "node_modules", "s3rver", "bin", "s3rver.js")))
            return packageDir;
        var psi = new ProcessStartInfo("npm")
        {
            WorkingDirectory = packageDir,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in new[] { "install", "--no-audit", "--no-fund" }) psi.ArgumentList.Add(arg);
        using var npm = Process.Start(psi) ?? throw new InvalidOperationException("could not start npm (is Node.js installed?)");
        var stdout = npm.StandardOutput.ReadToEndAsync();
        var stderr = npm.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await npm.WaitForExitAsync(timeout.Token);
        if (npm.ExitCode != 0)
            throw new InvalidOperationException($"npm install in {packageDir} failed ({npm.ExitCode}):\n{await stdout}\n{await stderr}");
        return packageDir;
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Ferry.slnx")))
                return dir.FullName;
        throw new InvalidOperationException($"no Ferry.slnx above {AppContext.BaseDirectory}");
    }
}
