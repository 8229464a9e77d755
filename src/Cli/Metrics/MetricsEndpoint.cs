using Akka.Actor;
using Ferry.Coordinator.Api;
using Ferry.Shared.Metadata;
using Ferry.Shared.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace Ferry.Cli.Metrics;

/// <summary>
/// The node's own HTTP port, off unless a port is given (--metrics-port / FERRY_METRICS_PORT): Prometheus's
/// <c>/metrics</c>, and <c>/healthz</c> (no token: this node is an Up cluster member, the target answers, its
/// journal can be written; 200 or 503 with the checks), so a worker, which has no HTTP API, can be scraped and
/// health-checked like the coordinator. It binds the node's own --host address, where its cluster port already is,
/// rather than every interface: in compose that is the container's address, which Prometheus reaches by service name.
/// </summary>
public static class MetricsEndpoint
{
    public static IServiceCollection AddMetricsEndpoint(this IServiceCollection services, string host, int port)
    {
        _ = FerryMetrics.Registered;
        services.TryAddTargetHealth();
        return services.AddHostedService(node => new NodeHttpServer(host, port, node));
    }

    private static void TryAddTargetHealth(this IServiceCollection services)
    {
        if (services.All(d => d.ServiceType != typeof(TargetHealth))) services.AddSingleton<TargetHealth>();
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

    /// <summary>A small Kestrel server beside the node, answering from the node's own services (its actor system, metadata).</summary>
    private sealed class NodeHttpServer(string host, int port, IServiceProvider node) : IHostedService
    {
        private WebApplication? _app;

        public async Task StartAsync(CancellationToken ct)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls($"http://{host}:{port}");
            _app = builder.Build();
            _app.MapMetrics("/metrics");
            _app.MapGet(CoordinatorApi.HealthPath, (CancellationToken token) => HealthEndpoints.LiveAsync(node.GetRequiredService<ActorSystem>(),
                node.GetRequiredService<TargetHealth>(), node.GetRequiredService<MigrationMetadata>(), token));
            await _app.StartAsync(ct);
        }

        public async Task StopAsync(CancellationToken ct)
        {
            if (_app is not null) await _app.StopAsync(ct);
        }
    }
}
