using System.Diagnostics;
using System.Net.Sockets;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Ferry.Shared.Postgres;

namespace Ferry.FilesBench;

public sealed record BenchArgs(int Files, int MinKb, int MaxKb, int Parallelism)
{
    public static BenchArgs Parse(string[] args)
    {
        var a = new BenchArgs(10_000, 10, 200, 16);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            var v = int.Parse(args[i + 1]);
            a = args[i] switch
            {
                "--files" => a with { Files = v },
                "--min-kb" => a with { MinKb = v },
                "--max-kb" => a with { MaxKb = v },
                "--parallelism" => a with { Parallelism = v },
                _ => throw new ArgumentException($"unknown option {args[i]} (--files N --min-kb N --max-kb N --parallelism N)"),
            };
        }
        return a;
    }
}

/// <summary>s3rver from tests/s3rver (npm install there on first use), on a free loopback port.</summary>
public sealed class LocalS3rver : IAsyncDisposable
{
    public const string Credential = "S3RVER";
    public const string Region = "us-east-1";

    private readonly Process _process;
    private readonly AmazonS3Client _client;

    private LocalS3rver(Process process, int port)
    {
        _process = process;
        Endpoint = $"http://127.0.0.1:{port}";
        _client = new AmazonS3Client(new BasicAWSCredentials(Credential, Credential),
            new AmazonS3Config { ServiceURL = Endpoint, ForcePathStyle = true, AuthenticationRegion = Region });
    }

    public string Endpoint { get; }

    public static async Task<LocalS3rver> StartAsync(string directory)
    {
        var package = Path.Combine(RepoRoot(), "tests", "s3rver");
        if (!File.Exists(Path.Combine(package, "node_modules", "s3rver", "bin", "s3rver.js")))
            await RunAsync("npm", package, "install", "--no-audit", "--no-fund");
        Directory.CreateDirectory(directory);
        var port = LocalPostgres.FreeLoopbackPort();
        var psi = new ProcessStartInfo("node") { WorkingDirectory = package, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "node_modules/s3rver/bin/s3rver.js", "--directory", directory, "--address", "127.0.0.1", "--port", port.ToString(), "--silent" })
            psi.ArgumentList.Add(arg);
        psi.Environment["NODE_OPTIONS"] = "--openssl-legacy-provider";
        var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start node");
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine("s3rver: " + e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        for (var i = 0; i < 300; i++)
        {
            try
            {
                using var c = new TcpClient();
                await c.ConnectAsync("127.0.0.1", port);
                return new LocalS3rver(p, port);
            }
            catch (SocketException) { await Task.Delay(100); }
        }
        throw new InvalidOperationException($"s3rver did not start on port {port}");
    }

    public Task CreateBucketAsync(string name) => _client.PutBucketAsync(name);

    public async Task<long> CountAsync(string bucket)
    {
        long n = 0;
        var request = new ListObjectsV2Request { BucketName = bucket };
        while (true)
        {
            var page = await _client.ListObjectsV2Async(request);
            n += page.S3Objects?.Count ?? 0;
            if (page.IsTruncated != true) return n;
            request.ContinuationToken = page.NextContinuationToken;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
    }

    internal static async Task RunAsync(string file, string directory, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { WorkingDirectory = directory, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {file}");
        await p.WaitForExitAsync();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited with {p.ExitCode}");
    }

    private static string RepoRoot()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Ferry.slnx"))) return dir.FullName;
        throw new InvalidOperationException("no Ferry.slnx above the benchmark");
    }
}

/// <summary>`rclone copy` between two buckets of one S3 remote configured from the environment (path-style, provider Other).</summary>
public static class Rclone
{
    public static async Task CopyAsync(string endpoint, string from, string to, int transfers)
    {
        var psi = new ProcessStartInfo("rclone") { UseShellExecute = false, RedirectStandardError = true };
        // --fast-list: one recursive listing (s3rver answers a delimited listing of nested keys without CommonPrefixes,
        // so rclone's default folder-by-folder walk would see an empty bucket).
        foreach (var a in new[] { "copy", $"bench:{from}", $"bench:{to}", "--fast-list", "--transfers", transfers.ToString(), "--checkers", transfers.ToString(), "--stats-one-line", "-v" })
            psi.ArgumentList.Add(a);
        // The endpoint is plain http on loopback; an inherited AWS_CA_BUNDLE only makes rclone's S3 client refuse to start.
        psi.Environment.Remove("AWS_CA_BUNDLE");
        psi.Environment["RCLONE_CONFIG_BENCH_TYPE"] = "s3";
        psi.Environment["RCLONE_CONFIG_BENCH_PROVIDER"] = "Other";
        psi.Environment["RCLONE_CONFIG_BENCH_ENDPOINT"] = endpoint;
        psi.Environment["RCLONE_CONFIG_BENCH_REGION"] = LocalS3rver.Region;
        psi.Environment["RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE"] = "true";
        psi.Environment["RCLONE_CONFIG_BENCH_ACCESS_KEY_ID"] = LocalS3rver.Credential;
        psi.Environment["RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY"] = LocalS3rver.Credential;
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start rclone (apt-get install -y rclone)");
        var errors = await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0) throw new InvalidOperationException($"rclone copy exited with {p.ExitCode}: {errors}");
        // rclone's summary (transferred, errors, elapsed), for the record.
        foreach (var line in errors.Split('\n').Where(l => l.Contains("Transferred") || l.Contains("ERROR") || l.Contains(" / ")).TakeLast(3))
            Console.Error.WriteLine("rclone: " + line.Trim());
    }
}
