using System.Net;

namespace Ferry.Coordinator.Api;

/// <summary>
/// Where the coordinator's HTTP API listens and what it asks of callers. A class, not a record: a
/// record's generated ToString would print the token.
/// </summary>
public sealed class ApiOptions
{
    public const int DefaultPort = 8080;

    /// <summary>The bearer token every /api request must present (see <see cref="ApiToken"/>).</summary>
    public required string Token { get; init; }

    /// <summary>Loopback by default: widening it (e.g. 0.0.0.0) is a deliberate choice (`--api-bind`).</summary>
    public IPAddress Address { get; init; } = IPAddress.Loopback;

    /// <summary>0 picks a free port (tests).</summary>
    public int Port { get; init; } = DefaultPort;

    /// <summary>How long a request waits for the pipeline runner or a process entity.</summary>
    public TimeSpan AskTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long `GET /api/processes` waits for each process; one that is slower is listed as not answering.</summary>
    public TimeSpan ProcessStatusTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Reads `--api-bind`: an address (<c>0.0.0.0</c>, <c>::</c>, <c>10.0.0.5</c>), a port (<c>9090</c>),
    /// or both (<c>0.0.0.0:9090</c>, <c>[::]:9090</c>). Missing parts keep 127.0.0.1 and <see cref="DefaultPort"/>.
    /// </summary>
    public static (IPAddress Address, int Port) ParseBind(string? bind)
    {
        if (string.IsNullOrWhiteSpace(bind)) return (IPAddress.Loopback, DefaultPort);
        bind = bind.Trim();
        if (int.TryParse(bind, out var onlyPort)) return (IPAddress.Loopback, CheckPort(onlyPort, bind));
        if (IPEndPoint.TryParse(bind, out var endpoint))
            return (endpoint.Address, endpoint.Port == 0 ? DefaultPort : CheckPort(endpoint.Port, bind));
        if (bind.Equals("localhost", StringComparison.OrdinalIgnoreCase)) return (IPAddress.Loopback, DefaultPort);
        throw new ArgumentException($"--api-bind {bind}: expected an IP address, a port or address:port (e.g. 0.0.0.0:8080)");
    }

    private static int CheckPort(int port, string bind) => port is > 0 and <= 65535
        ? port
        : throw new ArgumentException($"--api-bind {bind}: the port must be between 1 and 65535");
}
