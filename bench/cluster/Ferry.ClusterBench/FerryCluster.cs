using System.Diagnostics;
using Ferry.Cli.Api;
using Ferry.Shared.Postgres;
using Ferry.Shared.Processes;
using Ferry.Shared.Stg;

namespace Ferry.ClusterBench;

/// <summary>
/// A real Ferry cluster of `dotnet ferry.dll coordinator|worker` child processes on free loopback ports, started
/// like tests/Ferry.Tests/Cluster/FerryClusterHarness: every node lists the same seeds (the coordinator, then the
/// first two workers), connections reach the nodes only through their environment (APP_*, TARGET_*, FERRY_API_TOKEN,
/// FERRY_OBJECTS, FERRY_METADATA), and the cluster is driven through the coordinator's HTTP API. Each node's output
/// goes to &lt;root&gt;/&lt;node&gt;.log. Dispose kills every node started (SIGKILL, whole tree) and waits for it.
/// </summary>
public sealed class FerryCluster : IAsyncDisposable
{
    private readonly string _root;
    private readonly Dictionary<string, string> _env;
    private readonly List<Node> _nodes = [];

    public sealed class Node(string name, Process process, int port, StreamWriter log)
    {
        public string Name { get; } = name;
        public Process Process { get; } = process;
        public int Port { get; } = port;
        public string Address => $"akka.tcp://ferry@127.0.0.1:{Port}";
        public StreamWriter Log { get; } = log;
        public bool Exited => Process.HasExited;
    }

    public int CoordinatorPort { get; }
    public int ApiPort { get; }
    public int[] WorkerPorts { get; }
    public FerryApiClient Api { get; }
    public IReadOnlyList<Node> Nodes => _nodes;
    public string Seeds => string.Join(",", new[] { CoordinatorPort }.Concat(WorkerPorts.Take(2)).Select(p => $"127.0.0.1:{p}"));

    /// <param name="root">This cluster's folder: node homes, logs, the object store.</param>
    /// <param name="metadata">The metadata folder every node reads (FERRY_METADATA).</param>
    /// <param name="connections">Environment variables with the connections (APP_*, TARGET_*), passwords included.</param>
    public FerryCluster(string root, string metadata, IReadOnlyDictionary<string, string> connections, int workers)
    {
        _root = root;
        Directory.CreateDirectory(root);
        var token = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        _env = new Dictionary<string, string>(connections)
        {
            ["FERRY_API_TOKEN"] = token,
            ["FERRY_OBJECTS"] = Path.Combine(root, "objects"),
            ["FERRY_METADATA"] = metadata,
        };
        CoordinatorPort = LocalPostgres.FreeLoopbackPort();
        ApiPort = LocalPostgres.FreeLoopbackPort();
        WorkerPorts = Enumerable.Range(0, workers).Select(_ => LocalPostgres.FreeLoopbackPort()).ToArray();
        Api = new FerryApiClient(new Uri($"http://127.0.0.1:{ApiPort}"), token);
    }

    public static string FerryDll => Path.Combine(AppContext.BaseDirectory, "ferry.dll");

    public Node StartCoordinator() =>
        Start("coordinator", CoordinatorPort, "coordinator", "--port", CoordinatorPort.ToString(), "--api-port", ApiPort.ToString(), "--seeds", Seeds);

    public Node StartWorker(int index) =>
        Start($"worker{index}", WorkerPorts[index], "worker", "--port", WorkerPorts[index].ToString(), "--seeds", Seeds);

    private Node Start(string name, int port, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _root };
        psi.ArgumentList.Add(FerryDll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.ArgumentList.Add("--home");
        psi.ArgumentList.Add(Path.Combine(_root, name));
        foreach (var (k, v) in _env) psi.Environment[k] = v;
        var log = new StreamWriter(Path.Combine(_root, $"{name}.log")) { AutoFlush = true };
        var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {name}");
        var node = new Node(name, process, port, log);
        void Write(string? line)
        {
            if (line is null) return;
            lock (log)
            {
                try { log.WriteLine(line); }
                catch (ObjectDisposedException) { }
            }
        }
        process.OutputDataReceived += (_, e) => Write(e.Data);
        process.ErrorDataReceived += (_, e) => Write(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _nodes.Add(node);
        return node;
    }

    /// <summary>Waits until the API answers, exactly these members are Up and reachable, and every worker's shard region has registered.</summary>
    public async Task WaitForClusterAsync(Node[] nodes, Node[] workers, CancellationToken ct)
    {
        var want = nodes.Select(n => n.Address).ToHashSet();
        var last = "no answer";
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        var membersUp = false;
        while (DateTime.UtcNow < deadline)
        {
            ct.ThrowIfCancellationRequested();
            foreach (var n in _nodes.Where(n => n.Exited))
                throw new InvalidOperationException($"{n.Name} exited with {n.Process.ExitCode}\n{Logs()}");
            try
            {
                if (!membersUp)
                {
                    var cluster = await Api.GetClusterAsync(ct);
                    var up = cluster.Members.Where(m => m.Status == "up" && m.Reachable).Select(m => m.Address).ToHashSet();
                    last = string.Join(", ", cluster.Members.Select(m => $"{m.Address} {m.Status}{(m.Reachable ? "" : " unreachable")}"));
                    membersUp = up.SetEquals(want);
                }
                if (membersUp)
                {
                    // A region that registers after shards were allocated would get them only by rebalancing,
                    // which stops running entities: wait until the shard coordinator knows every worker's region.
                    var sharding = await Api.GetShardingAsync(ct);
                    var regions = sharding.Regions.SelectMany(r => r.Nodes).Select(n => n.Address).ToHashSet();
                    last = $"members up; shard regions: {string.Join(", ", regions)}";
                    if (workers.All(w => regions.Contains(w.Address))) return;
                }
            }
            catch (Exception e) when (e is FerryApiException or HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                last = e.Message;
            }
            await Task.Delay(500, ct);
        }
        throw new TimeoutException($"cluster did not settle on {string.Join(", ", want)}; last seen: {last}\n{Logs()}");
    }

    /// <summary>Starts a run of <paramref name="target"/> through the API and polls until it ends.</summary>
    public async Task<PipelineRunStatus> RunAsync(string target, RunMode mode, TimeSpan timeout, CancellationToken ct)
    {
        var start = await Api.StartRunAsync([target], mode, null, ct);
        var id = start.Accepted?.PipelineRunId ?? throw new InvalidOperationException($"run of {target} rejected: {start.Rejected?.Reason}");
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            foreach (var n in _nodes.Where(n => n.Exited))
                throw new InvalidOperationException($"{n.Name} exited with {n.Process.ExitCode} during {id}\n{Logs()}");
            try
            {
                var status = await Api.GetRunAsync(id, ct);
                if (status.State != PipelineRunState.Running) return status;
            }
            catch (FerryApiException) when (!ct.IsCancellationRequested)
            {
            }
            // The poll only decides when this program looks; the figures come from the run's own times.
            await Task.Delay(500, ct);
        }
        throw new TimeoutException($"pipeline run {id} did not finish in {timeout}\n{Logs()}");
    }

    public string Logs() => string.Join("\n", _nodes.Select(n => $"===== {n.Name} (port {n.Port}{(n.Exited ? $", exited {n.Process.ExitCode}" : "")}): {Path.Combine(_root, n.Name + ".log")}\n{Tail(n)}"));

    private string Tail(Node n)
    {
        try
        {
            lock (n.Log)
            {
                using var s = new FileStream(Path.Combine(_root, n.Name + ".log"), FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                using var r = new StreamReader(s);
                return string.Join('\n', r.ReadToEnd().Split('\n').TakeLast(40));
            }
        }
        catch (IOException e)
        {
            return e.Message;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            try { if (!node.Process.HasExited) node.Process.Kill(entireProcessTree: true); }
            catch (InvalidOperationException) { }
        }
        foreach (var node in _nodes)
        {
            await node.Process.WaitForExitAsync();
            node.Process.Dispose();
            lock (node.Log) node.Log.Dispose();
        }
        _nodes.Clear();
        Api.Dispose();
    }
}
