using Ferry.Shared.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Prometheus;

namespace Ferry.Cli.Metrics;

/// <summary>
/// The node's Prometheus endpoint, <c>http://&lt;host&gt;:&lt;port&gt;/metrics</c>, off unless a port is given
/// (--metrics-port / FERRY_METRICS_PORT). It binds the node's own --host address, where its cluster port already is,
/// rather than every interface: in compose that is the container's address, which Prometheus reaches by service name.
/// A Kestrel server of its own (prometheus-net's), so a worker, which has no HTTP API, serves it too.
/// </summary>
public static class MetricsEndpoint
{
    public static IServiceCollection AddMetricsEndpoint(this IServiceCollection services, string host, int port)
    {
        _ = FerryMetrics.Registered;
        return services.AddMetricServer(o =>
        {
            o.Hostname = host;
            o.Port = (ushort)port;
            o.Url = "/metrics";
        });
    }

    /// <summary>--metrics-port's value, or why it is not one (null: the endpoint is off).</summary>
    public static bool TryParsePort(string? text, out int? port)
    {
        port = null;
        if (string.IsNullOrWhiteSpace(text)) return true;
        if (!int.TryParse(text.Trim(), out var p) || p is < 1 or > 65535) return false;
        port = p;
        return true;
    }
}
