using System.Net;
using Ferry.Shared.Metadata;
using Ferry.Shared.History;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Ferry.Coordinator.Api;

/// <summary>
/// The coordinator's HTTP API (what the `ferry` CLI and the dashboard speak), served by Kestrel in the
/// coordinator node's own process, next to its ActorSystem. Plug it into the node's host builder:
/// <code>
/// var hb = FerryNode.CreateBuilder(nodeOptions, (akka, sp) => { /* runner singleton + proxy, process region proxy */ }, services =>
/// {
///     services.AddSingleton(metadata);                                   // MigrationMetadata: which processes exist
///     services.AddSingleton(new RunHistory(targetConnectionString));     // the run history (ferry.run_history)
///     services.AddSingleton(new RunLog(targetConnectionString));         // the runs' kept log lines (ferry.run_log)
///     services.AddSingleton(new VerifyStore(targetConnectionString));    // what verify processes found (ferry.verify_results)
/// });
/// var (address, port) = ApiOptions.ParseBind(apiBind);                   // --api-bind; default 127.0.0.1:8080
/// hb.AddCoordinatorApi(new ApiOptions { Token = ApiToken.ForCoordinator(ApiToken.Home()).Value, Address = address, Port = port });
/// </code>
/// The actors come from Akka.Hosting's registry: <see cref="Ferry.Shared.Cluster.PipelineRunnerProxy"/> and
/// <see cref="Ferry.Shared.Cluster.ProcessRegion"/>. Every path except /healthz and /readyz needs `Authorization: Bearer &lt;token&gt;`.
/// </summary>
public static class CoordinatorApi
{
    public const string HealthPath = "/healthz";

    public static IHostBuilder AddCoordinatorApi(this IHostBuilder hb, ApiOptions options)
    {
        hb.ConfigureWebHostDefaults(web =>
        {
            web.ConfigureKestrel(k =>
            {
                k.AddServerHeader = false;
                k.Limits.MaxRequestBodySize = 1024 * 1024;
                k.Listen(options.Address, options.Port);
            });
            web.ConfigureServices(services =>
            {
                services.AddSingleton(options);
                services.AddSingleton<ActorQueries>();
                services.AddSingleton<TargetHealth>();
                services.AddSingleton<MemberUpTimes>();
                services.AddHostedService(sp => sp.GetRequiredService<MemberUpTimes>());
                services.AddRouting();
                // Binding failures (limit=abc) throw, so they are answered as JSON like every other error.
                services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
            });
            web.Configure(app =>
            {
                CheckRegistrations(app.ApplicationServices);
                var log = app.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger("Ferry.Coordinator.Api");
                app.ApplicationServices.GetRequiredService<IHostApplicationLifetime>().ApplicationStarted
                    .Register(() => LogListening(log, app.ApplicationServices, options));
                app.Use((context, next) => AnswerErrorsAsJsonAsync(context, next, log));
                app.Use((context, next) => RequireTokenAsync(context, next, options));
                app.UseRouting();
                app.UseEndpoints(endpoints =>
                {
                    endpoints.MapHealthEndpoints();
                    var api = endpoints.MapGroup("/api");
                    api.MapRunEndpoints();
                    api.MapProcessEndpoints();
                    api.MapClusterEndpoints();
                    api.MapLogEndpoints();
                    api.MapVerificationEndpoints();
                    endpoints.MapFallback((HttpContext c) =>
                        ApiResults.Error(StatusCodes.Status404NotFound, $"no such endpoint: {c.Request.Method} {c.Request.Path}"));
                });
            });
        });
        return hb;
    }

    /// <summary>Where the API really listens (with port 0, the port Kestrel picked), e.g. http://127.0.0.1:8080.</summary>
    public static Uri ListeningUri(IServiceProvider services)
    {
        var address = services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            ?? throw new InvalidOperationException("the HTTP API is not listening (yet)");
        return new Uri(address);
    }

    /// <summary>Everything except the health probe needs the token: a path that matches no endpoint is refused before it is looked up.</summary>
    private static Task RequireTokenAsync(HttpContext context, RequestDelegate next, ApiOptions options)
    {
        if (context.Request.Path.Equals(HealthPath, StringComparison.OrdinalIgnoreCase)
            || context.Request.Path.Equals(HealthEndpoints.ReadyPath, StringComparison.OrdinalIgnoreCase)) return next(context);
        var header = context.Request.Headers.Authorization.ToString();
        var presented = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
        if (ApiToken.Matches(options.Token, presented)) return next(context);
        context.Response.Headers.WWWAuthenticate = "Bearer";
        var message = presented is null
            ? "this API needs a token: send Authorization: Bearer <token> (ferry reads --token, $FERRY_API_TOKEN or <ferry home>/api-token)"
            : "wrong API token";
        return ApiResults.Error(StatusCodes.Status401Unauthorized, message).ExecuteAsync(context);
    }

    /// <summary>Failures become one-line JSON errors; the details (never a secret: requests carry none but the token) go to the log.</summary>
    private static async Task AnswerErrorsAsJsonAsync(HttpContext context, RequestDelegate next, ILogger log)
    {
        try
        {
            await next(context);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The caller went away; there is no one to answer.
        }
        catch (Exception e) when (!context.Response.HasStarted)
        {
            var (status, message) = e switch
            {
                ClusterUnavailableException u => (StatusCodes.Status503ServiceUnavailable, u.Message),
                BadHttpRequestException b => (StatusCodes.Status400BadRequest, ApiResults.OneLine(b.Message)),
                _ => (StatusCodes.Status500InternalServerError, $"internal error ({e.GetType().Name}); see the coordinator's log"),
            };
            if (status == StatusCodes.Status500InternalServerError)
                log.LogError(e, "{Method} {Path} failed", context.Request.Method, context.Request.Path);
            else
                log.LogWarning("{Method} {Path}: {Status} {Message}", context.Request.Method, context.Request.Path, status, message);
            context.Response.Clear();
            await ApiResults.Error(status, message).ExecuteAsync(context);
        }
    }

    /// <summary>What the node must register besides Akka.Hosting's own services; said at start-up, not at the first request.</summary>
    private static void CheckRegistrations(IServiceProvider services)
    {
        var registered = services.GetRequiredService<IServiceProviderIsService>();
        var missing = new[] { typeof(MigrationMetadata), typeof(RunHistory), typeof(Ferry.Shared.Logging.RunLog), typeof(Ferry.Shared.Verify.VerifyStore), typeof(Akka.Hosting.IReadOnlyActorRegistry), typeof(Akka.Actor.ActorSystem) }
            .Where(t => !registered.IsService(t)).Select(t => t.Name).ToList();
        if (missing.Count > 0)
            throw new InvalidOperationException($"the coordinator's HTTP API needs {string.Join(" and ", missing)} registered in the node's services");
    }

    private static void LogListening(ILogger log, IServiceProvider services, ApiOptions options)
    {
        var uri = ListeningUri(services);
        log.LogInformation("HTTP API on {Uri} (every path but {Health} and {Ready} needs the bearer token)", uri, HealthPath, HealthEndpoints.ReadyPath);
        if (!IPAddress.IsLoopback(options.Address))
            log.LogWarning("HTTP API listens beyond this machine ({Address}): it speaks plain HTTP, so put it behind TLS or a private network", options.Address);
    }
}
