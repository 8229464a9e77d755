using System.Diagnostics;
using Ferry.Cli.Api;

namespace Ferry.FaultBench;

/// <summary>
/// A Ferry cluster of real `dotnet ferry.dll coordinator|worker` processes, each in its own network namespace
/// (see <see cref="TestNetwork"/>) at 10.213.0.11 (the coordinator) and 10.213.0.21… (workers), all on cluster
/// port 4053, the same seeds everywhere (the coordinator, then the first two workers), started like
/// bench/cluster's FerryCluster: connections only in the environment. A node can be killed (SIGKILL, whole tree)
/// and started again at the same address and port: a new incarnation of the same node. Each node's output of
/// every incarnation goes to &lt;root&gt;/&lt;node&gt;.log, incarnations separated by a marked line.
/// </summary>
public sealed class NamespacedCluster : IAsyncDisposable
{
    public const int ClusterPort = 4053;
    public const int ApiPort = 8080;
    private readonly string _root;
    private readonly Dictionary<string, string> _env;
    private readonly Dictionary<string, Node> _nodes = new(StringComparer.Ordinal);
    private readonly Action<string> _log;
    private readonly string _ferryDll;

    public sealed class Node(string name, string host, string[] args, StreamWriter log)
    {
        public string Name { get; } = name;
        public string Host { get; } = host;
        public string[] Args { get; } = args;
        public StreamWriter Log { get; } = log;
        public Process? Process { get; set; }
        public int Incarnation { get; set; }
        public string Address => $"akka.tcp://ferry@{Host}:{ClusterPort}";
        public bool Running => Process is { HasExited: false };
        public int? ExitCode => Process is { HasExited: true } p ? p.ExitCode : null;
    }

    public FerryApiClient Api { get; }
    public Node Coordinator { get; }
    public IReadOnlyList<Node> Workers { get; }
    public IEnumerable<Node> Nodes => _nodes.Values;

    /// <param name="ferryDll">The ferry.dll the nodes run (its hocon/ folder beside it is what they read).</param>
    public NamespacedCluster(string root, string ferryDll, TestNetwork network, string metadata, IReadOnlyDictionary<string, string> connections, int workers, Action<string> log)
    {
        _root = root;
        _ferryDll = ferryDll;
        _log = log;
        Directory.CreateDirectory(root);
        var token = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        _env = new Dictionary<string, string>(connections)
        {
            ["FERRY_API_TOKEN"] = token,
            // Nodes bound to a non-loopback address refuse to start without one (FerryNode.RefuseUnsafeBinding).
            ["FERRY_CLUSTER_SECRET"] = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
            ["FERRY_OBJECTS"] = Path.Combine(root, "objects"),
            ["FERRY_METADATA"] = metadata,
        };
        var workerHosts = Enumerable.Range(0, workers).Select(i => $"10.213.0.{21 + i}").ToList();
        var seeds = string.Join(",", new[] { "10.213.0.11" }.Concat(workerHosts.Take(2)).Select(h => $"{h}:{ClusterPort}"));
        Coordinator = Add(network, "coord", 11, "coordinator", "--api-port", ApiPort.ToString(), "--api-bind", "10.213.0.11", "--seeds", seeds);
        Workers = Enumerable.Range(0, workers).Select(i => Add(network, $"w{i}", 21 + i, "worker", "--seeds", seeds)).ToList();
        Api = new FerryApiClient(new Uri($"http://10.213.0.11:{ApiPort}"), token);
    }

    public static string FerryDll => Path.Combine(AppContext.BaseDirectory, "ferry.dll");

    private Node Add(TestNetwork network, string name, int host, params string[] args)
    {
        network.AddNode(name, host);
        var log = new StreamWriter(Path.Combine(_root, $"{name}.log"), append: true) { AutoFlush = true };
        var node = new Node(name, $"10.213.0.{host}", args, log);
        _nodes[name] = node;
        return node;
    }

    public Node this[string name] => _nodes[name];

    /// <summary>Starts the node's next incarnation (it must not be running) at its address and port.</summary>
    public void Start(Node node)
    {
        if (node.Running) throw new InvalidOperationException($"{node.Name} is already running");
        node.Process?.Dispose();
        var psi = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _root };
        // `ip netns exec` execs the command: the process we hold is dotnet itself, so a SIGKILL reaches the node.
        foreach (var a in new[] { "netns", "exec", TestNetwork.Namespace(node.Name), "dotnet", _ferryDll, node.Args[0],
                     "--host", node.Host, "--port", ClusterPort.ToString() }.Concat(node.Args.Skip(1)))
            psi.ArgumentList.Add(a);
        psi.ArgumentList.Add("--home");
        psi.ArgumentList.Add(Path.Combine(_root, node.Name));
        foreach (var (k, v) in _env) psi.Environment[k] = v;
        node.Incarnation++;
        Write(node.Log, $"===== {DateTimeOffset.UtcNow:O} incarnation {node.Incarnation} of {node.Name}");
        var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {node.Name}");
        var log = node.Log;
        process.OutputDataReceived += (_, e) => Write(log, e.Data);
        process.ErrorDataReceived += (_, e) => Write(log, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        node.Process = process;
    }

    private static void Write(StreamWriter log, string? line)
    {
        if (line is null) return;
        lock (log)
        {
            try { log.WriteLine(line); }
            catch (ObjectDisposedException) { }
        }
    }

    /// <summary>SIGKILL to the node (whole tree), and waits until it is gone.</summary>
    public async Task KillAsync(Node node)
    {
        if (node.Process is not { } p) return;
        try { if (!p.HasExited) p.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { }
        await p.WaitForExitAsync();
        Write(node.Log, $"===== {DateTimeOffset.UtcNow:O} killed by the fault suite (SIGKILL)");
    }

    public void StartAll()
    {
        foreach (var n in _nodes.Values.Where(n => !n.Running)) Start(n);
    }

    /// <summary>
    /// Waits until the API answers, exactly the running nodes are Up and reachable (nobody else in the membership),
    /// and every running worker's shard region is registered. Nodes that exited are started again first and
    /// reported; returns what it had to do.
    /// </summary>
    public async Task<string> SettleAsync(TimeSpan timeout, CancellationToken ct)
    {
        var restarted = new List<string>();
        var deadline = DateTime.UtcNow + timeout;
        var last = "no answer";
        while (DateTime.UtcNow < deadline)
        {
            ct.ThrowIfCancellationRequested();
            foreach (var n in _nodes.Values.Where(n => !n.Running))
            {
                restarted.Add($"{n.Name} (exit {n.ExitCode?.ToString() ?? "-"})");
                _log($"settle: {n.Name} is not running (exit {n.ExitCode?.ToString() ?? "-"}): starting it again");
                Start(n);
            }
            try
            {
                var want = _nodes.Values.Select(n => n.Address).ToHashSet();
                var cluster = await Api.GetClusterAsync(ct);
                var up = cluster.Members.Where(m => m.Status == "up" && m.Reachable).Select(m => m.Address).ToHashSet();
                last = string.Join(", ", cluster.Members.Select(m => $"{m.Address} {m.Status}{(m.Reachable ? "" : " unreachable")}"));
                if (up.SetEquals(want) && cluster.Members.Count == want.Count)
                {
                    var sharding = await Api.GetShardingAsync(ct);
                    var regions = sharding.Regions.SelectMany(r => r.Nodes).Select(n => n.Address).ToHashSet();
                    last = $"members up; shard regions: {string.Join(", ", regions)}";
                    if (Workers.All(w => regions.Contains(w.Address)))
                        return restarted.Count == 0 ? "" : "restarted " + string.Join(", ", restarted);
                }
            }
            catch (Exception e) when (e is FerryApiException or HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                last = e.Message;
            }
            await Task.Delay(1000, ct);
        }
        throw new TimeoutException($"cluster did not settle in {timeout.TotalSeconds:F0} s; last seen: {last}");
    }

    public string LogPath(Node node) => Path.Combine(_root, node.Name + ".log");

    /// <summary>The lines of every node's log written since <paramref name="offsets"/> (file lengths taken earlier) that contain <paramref name="needle"/>.</summary>
    public IReadOnlyList<(string Node, string Line)> Grep(IReadOnlyDictionary<string, long> offsets, string needle)
    {
        var found = new List<(string, string)>();
        foreach (var n in _nodes.Values)
        {
            lock (n.Log)
            {
                using var s = new FileStream(LogPath(n), FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                s.Seek(offsets.GetValueOrDefault(n.Name), SeekOrigin.Begin);
                using var r = new StreamReader(s);
                while (r.ReadLine() is { } line)
                    if (line.Contains(needle, StringComparison.Ordinal)) found.Add((n.Name, line));
            }
        }
        return found;
    }

    public Dictionary<string, long> LogOffsets() => _nodes.Values.ToDictionary(n => n.Name, n => new FileInfo(LogPath(n)).Length);

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes.Values)
        {
            try { if (node.Running) node.Process!.Kill(entireProcessTree: true); }
            catch (InvalidOperationException) { }
        }
        foreach (var node in _nodes.Values)
        {
            if (node.Process is { } p)
            {
                await p.WaitForExitAsync();
                p.Dispose();
            }
            lock (node.Log) node.Log.Dispose();
        }
        Api.Dispose();
    }
}
