using System.Diagnostics;
using System.Text;
using Ferry.Cli.Api;
using Ferry.Cli.Demo;
using Ferry.Shared.Postgres;
using Ferry.Shared.Processes;
using Ferry.Shared.Stg;
using Ferry.Tests.EndToEnd;
using Ferry.Tests.Infrastructure;

namespace Ferry.Tests.Cluster;

/// <summary>
/// A real Ferry cluster for a test: a coordinator and workers as separate `ferry` processes on free
/// loopback ports, over the demo QVP/SVP sources and a target in the test PostgreSQL. Nodes can be
/// killed (SIGKILL) and started again; every process started is killed and waited for on dispose.
/// All nodes list the same seeds (coordinator first, then the workers), so a restarted coordinator
/// rejoins the running cluster.
/// </summary>
public sealed class FerryClusterHarness : IAsyncDisposable
{
    private readonly Dictionary<string, string> _env;
    private readonly string _root;

    /// <summary>The folder the nodes run in (metadata, objects, their homes); deleted on dispose.</summary>
    public string Root => _root;
    private readonly List<Node> _nodes = [];

    public sealed class Node(string name, Process process, int port, bool tls = false)
    {
        public string Name { get; } = name;
        public Process Process { get; } = process;
        public int Port { get; } = port;
        /// <summary>Akka.NET names TLS addresses akka.ssl.tcp.</summary>
        public string Address => $"akka{(tls ? ".ssl" : "")}.tcp://ferry@127.0.0.1:{Port}";
        public StringBuilder Log { get; } = new();
        public bool Exited => Process.HasExited;
    }

    public required string QvpConnectionString { get; init; }
    public required string SvpConnectionString { get; init; }
    public required string TargetConnectionString { get; init; }
    public required string MetadataDirectory { get; init; }
    public required int CoordinatorPort { get; init; }
    public required int ApiPort { get; init; }
    public required int[] WorkerPorts { get; init; }
    public required FerryApiClient Api { get; init; }
    public string Seeds => string.Join(",", new[] { CoordinatorPort }.Concat(WorkerPorts.Take(2)).Select(p => $"127.0.0.1:{p}"));

    private FerryClusterHarness(string root, Dictionary<string, string> env)
    {
        _root = root;
        _env = env;
    }

    public static async Task<FerryClusterHarness> CreateAsync(string name, int demoScale = 1, Func<string, string, Task>? prepareSources = null)
    {
        var server = await TestPostgres.GetAsync();
        var qvp = await TestPostgres.CreateDatabaseAsync(name + "_qvp");
        var svp = await TestPostgres.CreateDatabaseAsync(name + "_svp");
        var target = await TestPostgres.CreateDatabaseAsync(name + "_tgt");
        await DemoSources.CreateAsync(qvp, svp, demoScale);
        if (prepareSources is not null) await prepareSources(qvp, svp);

        var root = Path.Combine(Path.GetTempPath(), $"ferry-cluster-{Guid.NewGuid():N}");
        var metadata = Path.Combine(root, "metadata");
        CopyDirectory(Path.Combine(AppContext.BaseDirectory, "metadata"), metadata);
        // connections.yaml finds the BL transforms at ../sql/bl and the key indicators at ../sql/checks.
        CopyDirectory(Path.Combine(AppContext.BaseDirectory, "sql", "bl"), Path.Combine(root, "sql", "bl"));
        CopyDirectory(Path.Combine(AppContext.BaseDirectory, "sql", "checks"), Path.Combine(root, "sql", "checks"));
        await Ferry.Cli.Demo.DemoTarget.ApplySchemaAsync(target);
        var token = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        var env = new Dictionary<string, string>
        {
            ["FERRY_API_TOKEN"] = token,
            ["FERRY_OBJECTS"] = Path.Combine(root, "objects"),
            ["FERRY_FILES"] = Path.Combine(root, "buckets"),
            ["FERRY_METADATA"] = metadata,
        };
        foreach (var (prefix, cs) in new[] { ("QVP", qvp), ("SVP", svp), ("TARGET", target) })
        {
            var b = new Npgsql.NpgsqlConnectionStringBuilder(cs);
            env[$"{prefix}_HOST"] = "127.0.0.1";
            env[$"{prefix}_PORT"] = b.Port.ToString();
            env[$"{prefix}_USER"] = b.Username!;
            env[$"{prefix}_PASSWORD"] = server.Password;
            env[$"{prefix}_DATABASE"] = b.Database!;
        }
        var apiPort = LocalPostgres.FreeLoopbackPort();
        var harness = new FerryClusterHarness(root, env)
        {
            QvpConnectionString = qvp,
            SvpConnectionString = svp,
            TargetConnectionString = target,
            MetadataDirectory = metadata,
            CoordinatorPort = LocalPostgres.FreeLoopbackPort(),
            ApiPort = apiPort,
            WorkerPorts = [LocalPostgres.FreeLoopbackPort(), LocalPostgres.FreeLoopbackPort(), LocalPostgres.FreeLoopbackPort()],
            Api = new FerryApiClient(new Uri($"http://127.0.0.1:{apiPort}"), token),
        };
        await harness.CreateSourceObjectsAsync();
        return harness;
    }

    /// <summary>The attachments the demo rows list, in the source buckets the files processes read (&lt;root&gt;/buckets/&lt;name&gt;); only missing ones are created.</summary>
    public async Task CreateSourceObjectsAsync()
    {
        var buckets = Path.Combine(Path.GetDirectoryName(MetadataDirectory)!, "buckets");
        foreach (var files in Ferry.Shared.Metadata.MetadataLoader.Load(MetadataDirectory).Files)
            await Ferry.Cli.Demo.DemoFiles.CreateSourceObjectsAsync(files.Source == "qvp" ? QvpConnectionString : SvpConnectionString, files,
                Ferry.Shared.Storage.ObjectStoreFactory.Create(files.SourceStore with { Path = Path.Combine(buckets, files.Name) }), CancellationToken.None);
    }

    public Node StartCoordinator() =>
        Start("coordinator", CoordinatorPort, "coordinator", "--port", CoordinatorPort.ToString(), "--api-port", ApiPort.ToString(), "--seeds", Seeds);

    /// <summary>A coordinator and workers 0 and 1, started and up in the cluster.</summary>
    public async Task<(Node Coordinator, Node W0, Node W1)> StartCoordinatorAndTwoWorkersAsync()
    {
        var nodes = (StartCoordinator(), StartWorker(0), StartWorker(1));
        await WaitForMembersAsync(nodes.Item1, nodes.Item2, nodes.Item3);
        return nodes;
    }

    public Node StartWorker(int index) =>
        Start($"worker{index}", WorkerPorts[index], "worker", "--port", WorkerPorts[index].ToString(), "--seeds", Seeds);

    /// <summary>A worker whose environment differs from the cluster's by <paramref name="env"/> (an empty value removes a variable), with extra flags.</summary>
    public Node StartWorker(int index, IReadOnlyDictionary<string, string> env, params string[] extraArgs) =>
        StartWith($"worker{index}", WorkerPorts[index], env, ["worker", "--port", WorkerPorts[index].ToString(), "--seeds", Seeds, .. extraArgs]);

    /// <summary>Sets (or, with null, removes) a variable every node started from now on gets.</summary>
    public void SetEnvironment(string name, string? value)
    {
        if (value is null) _env.Remove(name);
        else _env[name] = value;
    }

    /// <summary>Waits for a node to exit by itself and returns its exit code.</summary>
    public static async Task<int> WaitForExitAsync(Node node, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try { await node.Process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException) { throw new TimeoutException($"{node.Name} did not exit in {timeout}:\n{node.Log}"); }
        node.Process.WaitForExit(); // flushes the redirected output
        return node.Process.ExitCode;
    }

    private Node Start(string name, int port, params string[] args) => StartWith(name, port, new Dictionary<string, string>(), args);

    private Node StartWith(string name, int port, IReadOnlyDictionary<string, string> overrides, string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _root };
        psi.ArgumentList.Add(FerryCli.Dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.ArgumentList.Add("--home");
        psi.ArgumentList.Add(Path.Combine(_root, name));
        foreach (var (k, v) in _env) psi.Environment[k] = v;
        foreach (var (k, v) in overrides)
        {
            if (v.Length == 0) psi.Environment.Remove(k);
            else psi.Environment[k] = v;
        }
        Directory.CreateDirectory(_root);
        var process = Process.Start(psi)!;
        var node = new Node(name, process, port, tls: psi.Environment.TryGetValue("FERRY_TLS_CERT", out var cert) && !string.IsNullOrEmpty(cert));
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (node.Log) node.Log.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (node.Log) node.Log.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _nodes.Add(node);
        return node;
    }

    /// <summary>SIGKILL: no goodbye to the cluster, as when a machine dies.</summary>
    public static async Task KillAsync(Node node)
    {
        node.Process.Kill(entireProcessTree: true);
        await node.Process.WaitForExitAsync();
    }

    /// <summary>Waits until the coordinator's API answers and the cluster has exactly these members Up.</summary>
    public async Task WaitForMembersAsync(params Node[] nodes)
    {
        var want = nodes.Select(n => n.Address).ToHashSet();
        string last = "no answer";
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while (DateTime.UtcNow < deadline)
        {
            foreach (var n in nodes.Where(n => n.Exited))
                throw new InvalidOperationException($"{n.Name} exited with {n.Process.ExitCode}:\n{n.Log}");
            try
            {
                var cluster = await Api.GetClusterAsync(CancellationToken.None);
                var up = cluster.Members.Where(m => m.Status == "up" && m.Reachable).Select(m => m.Address).ToHashSet();
                last = string.Join(", ", cluster.Members.Select(m => $"{m.Address} {m.Status}{(m.Reachable ? "" : " unreachable")}"));
                if (up.SetEquals(want)) return;
            }
            catch (Exception e) when (e is FerryApiException or HttpRequestException or TaskCanceledException)
            {
                last = e.Message;
            }
            await Task.Delay(500);
        }
        throw new TimeoutException($"cluster did not settle on {string.Join(", ", want)}; last seen: {last}\n{Logs()}");
    }

    /// <summary>Starts a run through the API and waits for it to end.</summary>
    public async Task<PipelineRunStatus> RunAsync(string[] targets, RunMode mode, TimeSpan timeout, Func<PipelineRunStatus, Task>? whileRunning = null)
    {
        var start = await Api.StartRunAsync(targets, mode, null, CancellationToken.None);
        var id = start.Accepted?.PipelineRunId ?? throw new InvalidOperationException($"run rejected: {start.Rejected?.Reason}");
        return await WaitForRunAsync(id, timeout, whileRunning);
    }

    public async Task<PipelineRunStatus> WaitForRunAsync(string pipelineRunId, TimeSpan timeout, Func<PipelineRunStatus, Task>? whileRunning = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                var status = await Api.GetRunAsync(pipelineRunId, CancellationToken.None);
                if (status.State != PipelineRunState.Running) return status;
                if (whileRunning is not null) await whileRunning(status);
            }
            catch (Exception e) when (e is FerryApiException or HttpRequestException or TaskCanceledException)
            {
                // The coordinator may be down on purpose; keep asking.
            }
            await Task.Delay(500);
        }
        throw new TimeoutException($"pipeline run {pipelineRunId} did not finish in {timeout}\n{Logs()}");
    }

    /// <summary>The cluster members the coordinator's API reports Up and reachable.</summary>
    public async Task<HashSet<string>> UpMembersAsync()
    {
        var cluster = await Api.GetClusterAsync(CancellationToken.None);
        return cluster.Members.Where(m => m.Status == "up" && m.Reachable).Select(m => m.Address).ToHashSet();
    }

    public string Logs() => string.Join("\n", _nodes.Select(n => $"===== {n.Name} (port {n.Port}{(n.Exited ? $", exited {n.Process.ExitCode}" : "")})\n{Tail(n)}"));

    private static string Tail(Node n)
    {
        lock (n.Log)
        {
            var lines = n.Log.ToString().Split('\n');
            return string.Join('\n', lines.TakeLast(60));
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes.Where(n => !n.Exited))
        {
            try { node.Process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        }
        foreach (var node in _nodes)
        {
            await node.Process.WaitForExitAsync();
            node.Process.Dispose();
        }
        Api.Dispose();
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(dir.Replace(from, to));
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
            File.Copy(file, file.Replace(from, to), overwrite: true);
    }
}
