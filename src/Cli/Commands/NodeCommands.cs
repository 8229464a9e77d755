using System.CommandLine;
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using Ferry.Cli.Embedded;
using Ferry.Cli.Metrics;
using Ferry.Coordinator.Api;
using Ferry.Coordinator.Pipelines;
using Ferry.Shared.Cluster;
using Ferry.Shared.History;
using Ferry.Shared.Logging;
using Ferry.Shared.Verify;
using Ferry.Shared.Metadata;
using Ferry.Shared.Storage;
using Ferry.Worker.Processes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Ferry.Cli.Commands;

/// <summary>
/// `ferry coordinator`, `ferry worker` and `ferry standalone`: the cluster's nodes. Every setting has a
/// flag and an environment variable (FERRY_HOST, FERRY_PORT, FERRY_SEEDS, FERRY_API_PORT, FERRY_METRICS_PORT, FERRY_METADATA),
/// so the same image runs every role in docker-compose. Secrets (FERRY_CLUSTER_SECRET, FERRY_TLS_CERT_PASSWORD)
/// come from the environment only, never from argv. Exit codes: 2 the node could not start (one line
/// says why), 3 downed by the cluster, 4 refused by the cluster, 5 no seed node answered.
/// </summary>
public static class NodeCommands
{
    public static Command Coordinator() => Build("coordinator", "Start a coordinator node: pipeline runner, scheduler, HTTP API", [FerryNode.CoordinatorRole], 4053);

    public static Command Worker() => Build("worker", "Start a worker node: hosts the process entities (one per table), sharded across workers", [FerryNode.WorkerRole], 0);

    public static Command Standalone() => Build("standalone", "Both roles in one process, on the embedded default (a local PostgreSQL under .ferry/) unless --no-embedded",
        [FerryNode.CoordinatorRole, FerryNode.WorkerRole], 4053, standalone: true);

    private static Command Build(string name, string description, string[] roles, int defaultPort, bool standalone = false)
    {
        var host = new Option<string>("--host") { Description = "Address to bind and advertise; auto = this machine's first non-loopback IPv4 ($FERRY_HOST)", DefaultValueFactory = _ => Env("FERRY_HOST") ?? "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "Cluster port; 0 picks a free one ($FERRY_PORT)", DefaultValueFactory = _ => int.TryParse(Env("FERRY_PORT"), out var p) ? p : defaultPort };
        var seeds = new Option<string>("--seeds")
        {
            Description = "Seed nodes, host:port[,host:port] ($FERRY_SEEDS; default: the coordinator on 127.0.0.1:4053, or this node). " +
                          "List the same nodes in the same order everywhere, workers too: a restarted coordinator then rejoins the running cluster instead of starting a new one",
        };
        var apiPort = new Option<int>("--api-port") { Description = "HTTP API port on the coordinator ($FERRY_API_PORT)", DefaultValueFactory = _ => int.TryParse(Env("FERRY_API_PORT"), out var p) ? p : 8080 };
        var apiBind = new Option<string>("--api-bind") { Description = "Address the HTTP API binds to ($FERRY_API_BIND)", DefaultValueFactory = _ => Env("FERRY_API_BIND") ?? "127.0.0.1" };
        var home = new Option<DirectoryInfo>("--home") { Description = "Ferry's own folder: the API token, and for standalone the embedded PostgreSQL and objects", DefaultValueFactory = _ => new DirectoryInfo(Env("FERRY_HOME") ?? ".ferry") };
        var noEmbedded = new Option<bool>("--no-embedded") { Description = "standalone: use the connections in metadata instead of the embedded PostgreSQL" };
        var demoScale = new Option<int?>("--demo") { Description = "standalone: fill the embedded qvp and svp databases with the demo sources at this scale when they are empty" };
        var tlsCert = new Option<string?>("--tls-cert")
        {
            Description = "PFX file with this node's certificate: TLS on the cluster port, mutual; peers must show the same certificate or one from a CA in the file ($FERRY_TLS_CERT; password in $FERRY_TLS_CERT_PASSWORD)",
            DefaultValueFactory = _ => Env("FERRY_TLS_CERT"),
        };
        var waitForDatabase = new Option<string>("--wait-for-database")
        {
            Description = "How long to wait at start for a target database that is not up yet, e.g. 120s, 5m, 0 ($FERRY_WAIT_FOR_DATABASE)",
            DefaultValueFactory = _ => Env("FERRY_WAIT_FOR_DATABASE") ?? "120s",
        };
        var metadataOption = CommonOptions.Metadata();
        var onDowned = new Option<string>("--on-downed")
        {
            Description = "What a node the cluster downed does: rejoin (a new actor system in this process, the default) or exit (code 3, for a service manager) ($FERRY_ON_DOWNED)",
            DefaultValueFactory = _ => Env("FERRY_ON_DOWNED") ?? "rejoin",
        };
        var logFormat = new Option<string>("--log-format") { Description = "text (for people, the default) or json (compact JSON lines, for machines) ($FERRY_LOG_FORMAT)", DefaultValueFactory = _ => Env("FERRY_LOG_FORMAT") ?? "text" };
        var logLevel = new Option<string>("--log-level") { Description = "Least severe level logged: debug, info, warning, error ($FERRY_LOG_LEVEL)", DefaultValueFactory = _ => Env("FERRY_LOG_LEVEL") ?? "info" };
        var logFile = new Option<string?>("--log-file") { Description = "Also log to this file as compact JSON, a new file each day, 14 kept ($FERRY_LOG_FILE)", DefaultValueFactory = _ => Env("FERRY_LOG_FILE") };
        var metricsPort = new Option<string?>("--metrics-port")
        {
            Description = "Serve Prometheus metrics at http://<host>:<port>/metrics on this node's --host address; off unless given ($FERRY_METRICS_PORT)",
            DefaultValueFactory = _ => Env("FERRY_METRICS_PORT"),
        };
        var command = new Command(name, description) { host, port, seeds, metadataOption, home, tlsCert, waitForDatabase, onDowned, logFormat, logLevel, logFile, metricsPort };
        if (roles.Contains(FerryNode.CoordinatorRole)) { command.Options.Add(apiPort); command.Options.Add(apiBind); }
        if (standalone) { command.Options.Add(noEmbedded); command.Options.Add(demoScale); }
        command.SetAction(async (r, ct) =>
        {
            var homeDir = r.GetValue(home)!.FullName;
            EmbeddedEnvironment? embedded = null;
            if (standalone && !r.GetValue(noEmbedded))
            {
                embedded = await EmbeddedEnvironment.StartAsync(homeDir, fresh: false, ct: ct);
                Console.WriteLine($"ferry: embedded PostgreSQL on 127.0.0.1:{embedded.Server.Port}, objects in {embedded.ObjectsDirectory}");
                if (r.GetValue(demoScale) is { } scale && !await HasTablesAsync(embedded.ConnectionString("qvp"), ct))
                {
                    await Demo.DemoSources.CreateAsync(embedded.ConnectionString("qvp"), embedded.ConnectionString("svp"), scale, ct);
                    await Demo.DemoTarget.ApplySchemaAsync(embedded.ConnectionString("unipacc"), ct);
                    await Demo.DemoFiles.CreateSourceObjectsAsync(MetadataLoader.Load(CommonOptions.MetadataDirectory(r.GetValue(metadataOption))), ct);
                    Console.WriteLine($"ferry: demo sources created in the embedded qvp and svp databases (scale {scale})");
                }
            }
            try
            {
                var hostName = r.GetValue(host) == "auto" ? OwnAddress() : r.GetValue(host)!;
                var selfPort = r.GetValue(port);
                if (selfPort == 0) selfPort = Shared.Postgres.LocalPostgres.FreeLoopbackPort();
                var self = $"{hostName}:{selfPort}";
                var seedList = (r.GetValue(seeds) ?? Env("FERRY_SEEDS") ?? (roles.Contains(FerryNode.CoordinatorRole) ? self : "127.0.0.1:4053"))
                    .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                ApiOptions? api = null;
                if (roles.Contains(FerryNode.CoordinatorRole))
                {
                    var (apiAddress, boundPort) = ApiOptions.ParseBind($"{r.GetValue(apiBind)}:{r.GetValue(apiPort)}");
                    api = new ApiOptions { Token = ApiToken.ForCoordinator(homeDir).Value, Address = apiAddress, Port = boundPort };
                }
                if (!TryParseWait(r.GetValue(waitForDatabase)!, out var wait))
                {
                    Console.Error.WriteLine($"ferry: {name}: --wait-for-database '{r.GetValue(waitForDatabase)}' is not a duration (120s, 5m, 0)");
                    return 2;
                }
                if (!LogSettings.TryParseFormat(r.GetValue(logFormat), out var format) || !LogSettings.TryParseLevel(r.GetValue(logLevel), out var level))
                {
                    Console.Error.WriteLine($"ferry: {name}: --log-format must be text or json and --log-level debug, info, warning or error");
                    return 2;
                }
                if (!MetricsEndpoint.TryParsePort(r.GetValue(metricsPort), out var metrics))
                {
                    Console.Error.WriteLine($"ferry: {name}: --metrics-port '{r.GetValue(metricsPort)}' is not a port (1-65535)");
                    return 2;
                }
                var logging = new LogSettings { Format = format, Level = level, File = r.GetValue(logFile) };
                var rejoin = OnDowned(r.GetValue(onDowned));
                if (rejoin is null)
                {
                    Console.Error.WriteLine($"ferry: {name}: --on-downed '{r.GetValue(onDowned)}' is not rejoin or exit");
                    return 2;
                }
                var downs = new List<DateTime>();
                while (true)
                {
                    IHost node;
                    try
                    {
                        var tls = r.GetValue(tlsCert) is { Length: > 0 } pfx ? ClusterTls.Load(pfx, Env("FERRY_TLS_CERT_PASSWORD")) : null;
                        var options = new RoleOptions(roles, CommonOptions.MetadataDirectory(r.GetValue(metadataOption)), hostName, selfPort, seedList, api,
                            Logging: logging, ClusterSecret: Env("FERRY_CLUSTER_SECRET"), Tls: tls, WaitForDatabase: wait, MetricsPort: metrics);
                        node = BuildHost(options);
                    }
                    catch (NodeStartException e)
                    {
                        Console.Error.WriteLine($"ferry: {name} node {self} cannot start: {e.Message}");
                        return 2;
                    }
                    Akka.Actor.CoordinatedShutdown.Reason? reason;
                    using (node)
                    {
                        Console.WriteLine($"ferry: {name} node {self} ({string.Join(", ", roles)}), seeds {string.Join(", ", seedList)}");
                        await node.StartAsync(ct);
                        await node.WaitForShutdownAsync(ct);
                        reason = Akka.Actor.CoordinatedShutdown.Get(node.Services.GetRequiredService<ActorSystem>()).ShutdownReason;
                    }
                    // A node the cluster downed or refused stops too, but that is a failure, not a clean exit.
                    switch (reason)
                    {
                        case Akka.Actor.CoordinatedShutdown.ClusterDowningReason when rejoin.Value && !ct.IsCancellationRequested:
                            downs.Add(DateTime.UtcNow);
                            downs.RemoveAll(at => DateTime.UtcNow - at > DownsWindow);
                            if (downs.Count > MaxDownsInWindow)
                            {
                                Console.Error.WriteLine($"ferry: {name} node {self} was downed by the cluster {downs.Count} times within {DownsWindow.TotalMinutes:0} minutes; giving up");
                                return 3;
                            }
                            // A new actor system on the same address is a new incarnation: the cluster removes the downed one as it joins.
                            Console.Error.WriteLine($"ferry: {name} node {self} was downed by the cluster; rejoining as a new incarnation in {RejoinDelay.TotalSeconds:0} s");
                            await Task.Delay(RejoinDelay, ct);
                            continue;
                        case Akka.Actor.CoordinatedShutdown.ClusterDowningReason:
                            Console.Error.WriteLine($"ferry: {name} node {self} was downed by the cluster");
                            return 3;
                        case TrustRefusedReason refused:
                            Console.Error.WriteLine($"ferry: {name} node {self} {refused.Refusal}");
                            return 4;
                        case Akka.Actor.CoordinatedShutdown.ClusterJoinUnsuccessfulReason:
                            Console.Error.WriteLine($"ferry: {name} node {self} could not join: no seed node answered ({string.Join(", ", seedList)})");
                            return 5;
                    }
                    return 0;
                }
            }
            finally
            {
                if (embedded is not null) await embedded.DisposeAsync();
            }
        });
        return command;
    }

    /// <summary>A downed node waits this long before it rejoins: the cluster has removed the downed incarnation by then.</summary>
    private static readonly TimeSpan RejoinDelay = TimeSpan.FromSeconds(5);

    /// <summary>More downs than this within <see cref="DownsWindow"/> and the node exits 3: something outside Ferry needs a look.</summary>
    private const int MaxDownsInWindow = 5;

    private static readonly TimeSpan DownsWindow = TimeSpan.FromMinutes(10);

    private static bool? OnDowned(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        "rejoin" => true,
        "exit" => false,
        _ => null,
    };

    public sealed record RoleOptions(string[] Roles, string MetadataDirectory, string Host, int Port, string[] Seeds, ApiOptions? Api,
        LogSettings? Logging = null, string? ClusterSecret = null, ClusterTls? Tls = null, TimeSpan? WaitForDatabase = null, int? MetricsPort = null);

    /// <summary>The node's host with every role it was asked for.</summary>
    public static IHost BuildHost(RoleOptions options)
    {
        var metadata = MetadataLoader.Load(options.MetadataDirectory);
        var target = metadata.Target.ToConnectionString("ferry-node");
        var history = new RunHistory(target);
        var isWorker = options.Roles.Contains(FerryNode.WorkerRole);
        var isCoordinator = options.Roles.Contains(FerryNode.CoordinatorRole);
        var nodeOptions = new NodeOptions
        {
            Roles = options.Roles,
            Host = options.Host,
            Port = options.Port,
            Seeds = options.Seeds,
            HoconDirectory = Path.Combine(AppContext.BaseDirectory, "hocon"),
            PersistenceConnectionString = target,
            // Every secret this node can know is masked in every log line it writes.
            Logging = (options.Logging ?? new LogSettings()) with { Secrets = SecretValues.Of(metadata, options.Api?.Token, options.ClusterSecret) },
            ProcessIds = metadata.ProcessIds,
            ClusterSecret = options.ClusterSecret,
            Tls = options.Tls,
            WaitForDatabase = options.WaitForDatabase ?? TimeSpan.FromSeconds(120),
        };
        var hb = FerryNode.CreateBuilder(nodeOptions, (builder, sp) =>
        {
            if (isWorker)
            {
                // The store's warnings (an upload it could not abort) go to the node's log.
                var store = ObjectStoreFactory.Create(metadata.ObjectStore, logs: sp.GetRequiredService<ILoggerFactory>());
                builder.AddWorkerRole(new ProcessServices(metadata, store, history));
            }
            else
                builder.WithShardRegionProxy<ProcessRegion>(ProcessSharding.TypeName, FerryNode.WorkerRole, new ProcessMessageExtractor());
            if (isCoordinator)
                builder.AddPipelineRunner(metadata);
        }, s =>
        {
            s.AddSingleton(history).AddSingleton(new RunLog(target)).AddSingleton(new VerifyStore(target)).AddSingleton(metadata)
                // Ferry's own tables are made once, here, before any entity writes its first history row.
                .AddHostedService(_ => new FerrySchemaMigration(history));
            if (options.MetricsPort is { } metricsPort) s.AddMetricsEndpoint(options.Host, metricsPort);
        });
        if (isCoordinator && options.Api is not null)
            hb.AddCoordinatorApi(options.Api);
        return hb.Build();
    }

    private static async Task<bool> HasTablesAsync(string connectionString, CancellationToken ct)
    {
        await using var conn = new Npgsql.NpgsqlConnection(connectionString);
        await conn.OpenAsync(ct);
        await using var cmd = new Npgsql.NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = 'public')", conn);
        return (bool)(await cmd.ExecuteScalarAsync(ct))!;
    }

    /// <summary>The first IPv4 address that is not loopback: what a container advertises to the rest of the cluster.</summary>
    private static string OwnAddress() =>
        System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == System.Net.NetworkInformation.OperationalStatus.Up)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && !System.Net.IPAddress.IsLoopback(a))
            ?.ToString() ?? "127.0.0.1";

    /// <summary>120s, 5m, 1h, or plain seconds; 0 = do not wait.</summary>
    public static bool TryParseWait(string text, out TimeSpan wait)
    {
        text = text.Trim();
        var unit = text.Length > 0 && char.IsLetter(text[^1]) ? char.ToLowerInvariant(text[^1]) : 's';
        var number = char.IsLetter(text.Length > 0 ? text[^1] : '0') ? text[..^1] : text;
        wait = TimeSpan.Zero;
        if (!double.TryParse(number, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var n) || n < 0) return false;
        switch (unit)
        {
            case 's': wait = TimeSpan.FromSeconds(n); return true;
            case 'm': wait = TimeSpan.FromMinutes(n); return true;
            case 'h': wait = TimeSpan.FromHours(n); return true;
            default: return false;
        }
    }

    private static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;
}
