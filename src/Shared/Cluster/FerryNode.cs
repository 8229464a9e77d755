using Ferry.Shared.Postgres;
using Akka.Cluster.Hosting;

using Akka.Cluster.Hosting.SBR;
using Akka.Hosting;
using Akka.Persistence.Hosting;
using Akka.Persistence.Sql.Hosting;
using Akka.Remote.Hosting;
using Ferry.Shared.Logging;
using Ferry.Shared.Serialization;
using Akka.Logger.Serilog;
using Serilog;
using LinqToDB;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Ferry.Shared.Sql;
using Npgsql;

namespace Ferry.Shared.Cluster;

/// <summary>How one Ferry node starts: its roles, where it listens, whom it joins, where it keeps its journal.</summary>
public sealed record NodeOptions
{
    public required IReadOnlyList<string> Roles { get; init; }
    public string Host { get; init; } = "127.0.0.1";
    public int Port { get; init; } = 4053;
    /// <summary>host:port of the seed nodes (usually the coordinator).</summary>
    public required IReadOnlyList<string> Seeds { get; init; }
    public required string HoconDirectory { get; init; }
    /// <summary>The target database: the journal, snapshots and remember-entities live in <see cref="PersistenceSchema"/> there.</summary>
    public required string PersistenceConnectionString { get; init; }
    public string PersistenceSchema { get; init; } = FerryNode.JournalSchema;
    /// <summary>Where and how the node logs (the demo keeps its screen for results: warnings only).</summary>
    public LogSettings Logging { get; init; } = new();
    /// <summary>The processes the node's metadata defines: part of what a node must share with the cluster to join it.</summary>
    public IReadOnlyList<string> ProcessIds { get; init; } = [];
    /// <summary>The shared cluster secret (FERRY_CLUSTER_SECRET); null = none, allowed on loopback only.</summary>
    public string? ClusterSecret { get; init; }
    /// <summary>TLS for the cluster port; null = plain TCP.</summary>
    public ClusterTls? Tls { get; init; }
    /// <summary>How long to wait at start for a target database that is not up yet.</summary>
    public TimeSpan WaitForDatabase { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>What this node shows the cluster before it joins (<see cref="TrustGate"/>).</summary>
    public NodeCredentials Credentials()
    {
        var b = new NpgsqlConnectionStringBuilder(PersistenceConnectionString);
        return NodeCredentials.Of(NodeCredentials.TargetIdentity(b.Host ?? "", b.Port, b.Database ?? ""), ProcessIds, ClusterSecret);
    }
}

/// <summary>
/// Builds a Ferry node: remoting, clustering with the split-brain resolver (keep-majority, never
/// auto-down), HOCON from hocon/base.conf then hocon/&lt;role&gt;.conf, Ferry's JSON serializer, and the
/// SQL journal in the target PostgreSQL. Roles add their actors through <paramref name="configureRoles"/>.
/// The node joins its seeds through its <see cref="TrustGate"/> (not Akka's seed-nodes setting), so a
/// node whose target, metadata or cluster secret differs never becomes a member.
/// </summary>
public static class FerryNode
{
    public const string SystemName = "ferry";
    /// <summary>Where a node's journal, snapshots and remember-entities live in the target database unless told otherwise.</summary>
    public const string JournalSchema = "ferry_akka";
    public const string WorkerRole = "worker";
    public const string CoordinatorRole = "coordinator";

    /// <summary>A node's address without TLS (with TLS, Akka.NET names it akka.ssl.tcp).</summary>
    public static string SeedAddress(string hostPort) => $"akka.tcp://{SystemName}@{hostPort}";


    public static IHostBuilder CreateBuilder(NodeOptions options, Action<AkkaConfigurationBuilder, IServiceProvider> configureRoles,
        Action<IServiceCollection>? configureServices = null)
    {
        RefuseUnsafeBinding(options);
        PgSession.Node = $"{options.Host}:{options.Port}";
        TargetDatabase.EnsureSchema(options.PersistenceConnectionString, options.PersistenceSchema, options.WaitForDatabase,
            message => Console.Error.WriteLine($"ferry: {message}"));
        var hb = Host.CreateDefaultBuilder();
        // Akka.Logger.Serilog writes to the static logger: this node's, until the next node in this process replaces it.
        var logger = FerryLogging.Create(options.Logging, $"{options.Host}:{options.Port}", options.PersistenceConnectionString);
        Serilog.Log.Logger = logger;
        hb.UseSerilog(logger, dispose: true);
        hb.ConfigureServices(services =>
        {
            services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
            configureServices?.Invoke(services);
            services.AddAkka(SystemName, (builder, sp) =>
            {
                // base.conf is the fallback; a role's file overrides it; the fluent calls below override both.
                builder.AddHoconFile(Path.Combine(options.HoconDirectory, "base.conf"), HoconAddMode.Append);
                // What Akka prints itself before its loggers start and after they stop ("Remoting shut down"): warnings only.
                builder.AddHocon("akka.stdout-loglevel = WARNING", HoconAddMode.Prepend);
                foreach (var role in options.Roles)
                {
                    var file = Path.Combine(options.HoconDirectory, $"{role}.conf");
                    if (File.Exists(file)) builder.AddHoconFile(file, HoconAddMode.Prepend);
                }
                builder.ConfigureLoggers(l =>
                {
                    l.LogLevel = Akka.Event.LogLevel.InfoLevel;
                    l.ClearLoggers();
                    l.AddLogger<SerilogLogger>();
                });
                var remote = new RemoteOptions { HostName = options.Host, PublicHostName = options.Host, Port = options.Port };
                if (options.Tls is not null)
                {
                    remote.EnableSsl = true;
                    remote.Ssl = options.Tls.ToSslOptions();
                }
                builder.WithRemoting(remote);
                // No seed nodes here: the trust gate joins them once one of them admits this node.
                builder.WithClustering(new ClusterOptions
                {
                    Roles = options.Roles.ToArray(),
                    SplitBrainResolver = new KeepMajorityOption(),
                });
                builder.AddFerrySerialization(TrustMessages.Types);
                var credentials = options.Credentials();
                builder.WithActors((system, _, _) =>
                {
                    if (options.ClusterSecret is null && options.Tls is null)
                        Akka.Event.LoggingExtensions.Warning(system.Log, "No cluster secret (FERRY_CLUSTER_SECRET): any process on this machine that reaches {0}:{1} with the same target and metadata can join", options.Host, options.Port);
                    system.ActorOf(Akka.Actor.Props.Create(() => new TrustGate(credentials, options.Seeds)), TrustGate.Name);
                    system.ActorOf(Akka.Actor.Props.Create(() => new ClusterMembersGauge()), ClusterMembersGauge.Name);
                });
                builder.WithSqlPersistence(
                    connectionString: PgSession.DetectDeadPeer(options.PersistenceConnectionString, "ferry journal"),
                    providerName: ProviderName.PostgreSQL15,
                    mode: PersistenceMode.Both,
                    schemaName: options.PersistenceSchema,
                    autoInitialize: true);
                configureRoles(builder, sp);
            });
        });
        return hb;
    }

    /// <summary>
    /// Without a secret, whoever reaches the cluster port can join; that is acceptable on loopback only
    /// (the demo, tests), where reaching it already means running on this machine.
    /// </summary>
    private static void RefuseUnsafeBinding(NodeOptions options)
    {
        // Mutual TLS authenticates every peer by its certificate: stronger than the secret, so it suffices too.
        if (options.ClusterSecret is not null || options.Tls is not null || IsLoopback(options.Host)) return;
        throw new NodeStartException($"refusing to open the cluster port on {options.Host}:{options.Port} without a cluster secret: " +
                                     "set FERRY_CLUSTER_SECRET to the same value on every node (e.g. `openssl rand -hex 32`), enable TLS (--tls-cert), or bind to 127.0.0.1");
    }

    public static bool IsLoopback(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (System.Net.IPAddress.TryParse(host, out var ip) && System.Net.IPAddress.IsLoopback(ip));
}
