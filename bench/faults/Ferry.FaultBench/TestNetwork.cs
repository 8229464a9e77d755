using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Ferry.FaultBench;

/// <summary>
/// A private network that exists only on this machine: a bridge <c>ffb0</c> in the root namespace with
/// 10.213.0.1/24, and one network namespace per node (<c>ffb-&lt;node&gt;</c>) joined to it by a veth pair
/// (<c>ffbv-&lt;node&gt;</c> on the bridge, <c>eth0</c> inside). Nothing is routed out of 10.213.0.0/24.
/// A partition is the host-side veth set down: the node then reaches neither the other nodes nor PostgreSQL.
/// Dispose (and the constructor, for leftovers of an earlier run that was killed) removes every namespace
/// and link with the ffb prefix.
/// </summary>
public sealed class TestNetwork : IDisposable
{
    public const string Bridge = "ffb0";
    public const string Gateway = "10.213.0.1";
    private const string Prefix = "ffb-";
    private readonly List<string> _namespaces = [];

    private TestNetwork() { }

    public static TestNetwork Create()
    {
        if (Environment.UserName != "root" && !File.Exists("/proc/self/ns/net"))
            throw new InvalidOperationException("network namespaces need root (ip netns)");
        RemoveLeftovers();
        Ip("link", "add", Bridge, "type", "bridge");
        Ip("addr", "add", $"{Gateway}/24", "dev", Bridge);
        Ip("link", "set", Bridge, "up");
        return new TestNetwork();
    }

    /// <summary>Creates the namespace of one node with address 10.213.0.<paramref name="host"/>.</summary>
    public string AddNode(string node, int host)
    {
        var ns = Prefix + node;
        var veth = Veth(node);
        Ip("netns", "add", ns);
        _namespaces.Add(ns);
        Ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns);
        Ip("link", "set", veth, "master", Bridge, "up");
        Ip("-n", ns, "addr", "add", $"10.213.0.{host}/24", "dev", "eth0");
        Ip("-n", ns, "link", "set", "eth0", "up");
        Ip("-n", ns, "link", "set", "lo", "up");
        return ns;
    }

    public static string Namespace(string node) => Prefix + node;

    private static string Veth(string node) => $"ffbv-{node}"[..Math.Min(15, 5 + node.Length)];

    public void Partition(string node) => Ip("link", "set", Veth(node), "down");

    /// <summary>Link up again; a veth on a bridge forwards once the bridge port is back to forwarding (no STP here: at once).</summary>
    public void Heal(string node) => Ip("link", "set", Veth(node), "up");

    public void Dispose()
    {
        foreach (var ns in _namespaces) Ip(ignoreFailure: true, "netns", "del", ns);
        _namespaces.Clear();
        RemoveLeftovers();
    }

    private static void RemoveLeftovers()
    {
        foreach (var ns in Run("ip", ["netns", "list"], ignoreFailure: true).Split('\n')
                     .Select(l => l.Split(' ')[0].Trim()).Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
            Ip(ignoreFailure: true, "netns", "del", ns);
        foreach (var link in Run("ip", ["-o", "link", "show"], ignoreFailure: true).Split('\n')
                     .Select(l => l.Split(':', 3) is { Length: 3 } p ? p[1].Trim().Split('@')[0] : "")
                     .Where(n => n.StartsWith("ffbv-", StringComparison.Ordinal) || n == Bridge))
            Ip(ignoreFailure: true, "link", "del", link);
    }

    private static void Ip(params string[] args) => Run("ip", args, ignoreFailure: false);

    private static void Ip(bool ignoreFailure, params string[] args) => Run("ip", args, ignoreFailure);

    private static string Run(string exe, string[] args, bool ignoreFailure)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {exe}");
        var stdout = p.StandardOutput.ReadToEnd();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0 && !ignoreFailure)
            throw new InvalidOperationException($"{exe} {string.Join(' ', args)} failed ({p.ExitCode}): {stderr.Trim()}");
        return stdout;
    }
}

/// <summary>
/// Forwards TCP from <see cref="TestNetwork.Gateway"/>:port to a PostgreSQL on 127.0.0.1:port. LocalPostgres
/// listens on loopback only (its command line sets listen_addresses, which no config file can override), and the
/// nodes live in their own namespaces: this relay is their way to the server. When the server stops or
/// terminates a backend, the relay closes the client's side too, so the node sees what it would see directly.
/// </summary>
public sealed class PostgresRelay : IAsyncDisposable
{
    private readonly int _upstreamPort;
    private readonly CancellationTokenSource _stop = new();
    private TcpListener _listener;
    private Task _accepting;

    public int Port { get; }

    public PostgresRelay(int upstreamPort)
    {
        _upstreamPort = upstreamPort;
        Port = upstreamPort;
        (_listener, _accepting) = Listen();
    }

    private (TcpListener, Task) Listen()
    {
        var listener = new TcpListener(IPAddress.Parse(TestNetwork.Gateway), _upstreamPort);
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start(512);
        return (listener, AcceptAsync(listener));
    }

    /// <summary>
    /// While the server is stopped, the relay stops listening too, so a node's connect is refused as it would be by a
    /// stopped server (not accepted and then closed). Open connections are ended by the server's own shutdown.
    /// </summary>
    public async Task PauseAsync()
    {
        _listener.Stop();
        try { await _accepting; } catch (OperationCanceledException) { }
    }

    public void Resume() => (_listener, _accepting) = Listen();

    private async Task AcceptAsync(TcpListener listener)
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception) when (_stop.IsCancellationRequested) { return; }
            catch (ObjectDisposedException) { return; }
            catch (SocketException) when (!listener.Server.IsBound) { return; }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.OperationAborted or SocketError.Interrupted or SocketError.NotSocket) { return; }
            catch (SocketException) { continue; }
            _ = PipeAsync(client);
        }
    }

    private async Task PipeAsync(TcpClient client)
    {
        using (client)
        using (var upstream = new TcpClient())
        {
            try
            {
                client.NoDelay = true;
                upstream.NoDelay = true;
                await upstream.ConnectAsync(IPAddress.Loopback, _upstreamPort, _stop.Token);
                var a = client.GetStream();
                var b = upstream.GetStream();
                // Whichever side ends first ends both: a terminated backend is a closed connection for the node too.
                await Task.WhenAny(a.CopyToAsync(b, _stop.Token), b.CopyToAsync(a, _stop.Token));
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        try { await _accepting; } catch (OperationCanceledException) { }
        _stop.Dispose();
    }
}
