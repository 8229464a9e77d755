using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Cluster.Hosting.SBR;
using Akka.Hosting;
using Akka.Remote.Hosting;
using Ferry.Cli.Api;
using Ferry.Coordinator.Api;
using Ferry.Shared.Cluster;
using Ferry.Shared.Metadata;
using Ferry.Shared.Processes;
using Ferry.Shared.Serialization;
using Ferry.Tests.Infrastructure;
using Ferry.Shared.History;
using Ferry.Shared.Logging;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Ferry.Tests.Api;

[CollectionDefinition(Name)]
public sealed class ApiCollection : ICollectionFixture<ApiTestHost>
{
    public const string Name = "coordinator api";
}

/// <summary>
/// A coordinator as the node host will build it, in this process: a real ActorSystem that forms a
/// one-node cluster (remoting on a free port, joining itself), stub actors under the registry keys the
/// API uses, the run history in a fresh database of the test PostgreSQL, and the API on a free loopback port.
/// Every log line of the host is kept, to prove the token is never in one.
/// </summary>
public class ApiTestHost : IAsyncLifetime
{
    public string Token { get; } = ApiToken.Generate();
    public int AkkaPort { get; } = FreePort();
    public ConcurrentQueue<RunTargets> ReceivedRuns { get; } = new();
    public CollectedLogs Logs { get; } = new();
    public RunHistory History { get; private set; } = null!;
    public RunLog RunLog { get; private set; } = null!;
    public string RunLogConnectionString { get; private set; } = null!;
    public Uri BaseUri { get; private set; } = null!;
    private IHost _host = null!;

    public static MigrationMetadata Metadata { get; } = new("/nonexistent", new Dictionary<string, PgConnection>(),
        new PgConnection("target", "127.0.0.1", 5432, "unipacc", "ferry", new SecretRef("FERRY_TEST_UNUSED")),
        new ObjectStoreConfig(ObjectStoreKind.Filesystem, "/nonexistent"),
        [Table("qvp", "users"), Table("qvp", "orders"), Table("svp", "slow")]);

    public string SelfAddress => $"akka.tcp://{FerryNode.SystemName}@127.0.0.1:{AkkaPort}";

    public async Task InitializeAsync()
    {
        var database = await TestPostgres.CreateDatabaseAsync("api");
        History = new RunHistory(database);
        await History.EnsureAsync();
        RunLog = new RunLog(database);
        RunLogConnectionString = database;
        var hb = new HostBuilder();
        hb.ConfigureLogging(l => l.ClearProviders().AddProvider(Logs).SetMinimumLevel(LogLevel.Debug));
        hb.ConfigureServices(services =>
        {
            services.AddSingleton(Metadata);
            services.AddSingleton(History);
            services.AddSingleton(RunLog);
            services.AddSingleton(new Ferry.Shared.Verify.VerifyStore(database));
            services.AddAkka(FerryNode.SystemName, (builder, _) =>
            {
                builder.ConfigureLoggers(l =>
                {
                    l.LogLevel = Akka.Event.LogLevel.DebugLevel;
                    l.ClearLoggers();
                    l.AddLoggerFactory();
                });
                // The options FerryNode uses, on a free port, with this node as its own seed.
                builder.WithRemoting(new RemoteOptions { HostName = "127.0.0.1", PublicHostName = "127.0.0.1", Port = AkkaPort });
                builder.WithClustering(new ClusterOptions
                {
                    Roles = [FerryNode.CoordinatorRole],
                    SeedNodes = [FerryNode.SeedAddress($"127.0.0.1:{AkkaPort}")],
                    SplitBrainResolver = new KeepMajorityOption(),
                });
                builder.AddFerrySerialization();
                AddActors(builder);
            });
        });
        hb.AddCoordinatorApi(new ApiOptions
        {
            Token = Token,
            Port = 0,
            AskTimeout = TimeSpan.FromSeconds(3),
            ProcessStatusTimeout = TimeSpan.FromSeconds(1),
        });
        _host = hb.Build();
        await _host.StartAsync();
        BaseUri = CoordinatorApi.ListeningUri(_host.Services);
    }

    /// <summary>What stands behind the registry keys the API asks: stubs here.</summary>
    protected virtual void AddActors(AkkaConfigurationBuilder builder) => builder.WithActors((system, registry) =>
    {
        registry.Register<ProcessRegion>(system.ActorOf(Props.Create(() => new StubProcessRegion()), "process-region"));
        registry.Register<PipelineRunnerProxy>(system.ActorOf(Props.Create(() => new StubPipelineRunner(ReceivedRuns)), "pipeline-runner"));
    });

    public async Task DisposeAsync()
    {
        await _host.StopAsync(TimeSpan.FromSeconds(20));
        _host.Dispose();
    }

    /// <summary>A plain HTTP client, with the token only if asked.</summary>
    public HttpClient Http(string? token = null)
    {
        var http = new HttpClient { BaseAddress = BaseUri, Timeout = TimeSpan.FromSeconds(20) };
        if (token is not null) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    public FerryApiClient Client() => new(BaseUri, Token);

    private static SourceTable Table(string source, string name) =>
        new(source, "public", name, name, $"{source}_{name}", ["id"], CdcSpec.Full, ChunkingSpec.Default);

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}

/// <summary>Every log line the host writes, formatted, with its exception.</summary>
public sealed class CollectedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyCollection<string> Lines => _lines;

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {exception}");
    }
}
