using Akka.Cluster.Hosting;
using Akka.Cluster.Hosting.SBR;
using Akka.Hosting;
using Akka.Persistence.Hosting;
using Akka.Persistence.Sql.Hosting;
using Akka.Remote.Hosting;
using Ferry.Shared.Serialization;
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
    public string PersistenceSchema { get; init; } = "ferry_akka";
    /// <summary>Least severe log level written to the console (the demo keeps its screen for results).</summary>
    public LogLevel ConsoleLogLevel { get; init; } = LogLevel.Information;
}

/// <summary>
/// Builds a Ferry node: remoting, clustering with the split-brain resolver (keep-majority, never
/// auto-down), HOCON from hocon/base.conf then hocon/&lt;role&gt;.conf, Ferry's JSON serializer, and the
/// SQL journal in the target PostgreSQL. Roles add their actors through <paramref name="configureRoles"/>.
/// </summary>
public static class FerryNode
{
    public const string SystemName = "ferry";
    public const string WorkerRole = "worker";
    public const string CoordinatorRole = "coordinator";

    public static string SeedAddress(string hostPort) => $"akka.tcp://{SystemName}@{hostPort}";

    public static IHostBuilder CreateBuilder(NodeOptions options, Action<AkkaConfigurationBuilder, IServiceProvider> configureRoles,
        Action<IServiceCollection>? configureServices = null)
    {
        EnsureSchema(options.PersistenceConnectionString, options.PersistenceSchema);
        var hb = Host.CreateDefaultBuilder();
        hb.ConfigureLogging(l => l.ClearProviders().SetMinimumLevel(options.ConsoleLogLevel)
            .AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; })
            .AddFilter("Microsoft", LogLevel.Warning).AddFilter("LinqToDB", LogLevel.Warning));
        hb.ConfigureServices(services =>
        {
            services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
            configureServices?.Invoke(services);
            services.AddAkka(SystemName, (builder, sp) =>
            {
                // base.conf is the fallback; a role's file overrides it; the fluent calls below override both.
                builder.AddHoconFile(Path.Combine(options.HoconDirectory, "base.conf"), HoconAddMode.Append);
                foreach (var role in options.Roles)
                {
                    var file = Path.Combine(options.HoconDirectory, $"{role}.conf");
                    if (File.Exists(file)) builder.AddHoconFile(file, HoconAddMode.Prepend);
                }
                builder.ConfigureLoggers(l =>
                {
                    l.LogLevel = Akka.Event.LogLevel.InfoLevel;
                    l.ClearLoggers();
                    l.AddLoggerFactory();
                });
                builder.WithRemoting(new RemoteOptions { HostName = options.Host, PublicHostName = options.Host, Port = options.Port });
                builder.WithClustering(new ClusterOptions
                {
                    Roles = options.Roles.ToArray(),
                    SeedNodes = options.Seeds.Select(SeedAddress).ToArray(),
                    SplitBrainResolver = new KeepMajorityOption(),
                });
                builder.AddFerrySerialization();
                builder.WithSqlPersistence(
                    connectionString: options.PersistenceConnectionString,
                    providerName: ProviderName.PostgreSQL15,
                    mode: PersistenceMode.Both,
                    schemaName: options.PersistenceSchema,
                    autoInitialize: true);
                configureRoles(builder, sp);
            });
        });
        return hb;
    }

    /// <summary>The journal's auto-initialize creates tables, not the schema.</summary>
    private static void EnsureSchema(string connectionString, string schema)
    {
        using var conn = new NpgsqlConnection(connectionString);
        conn.Open();
        conn.EnsureSchema(schema);
    }
}
