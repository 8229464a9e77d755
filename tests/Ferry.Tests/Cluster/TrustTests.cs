using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Ferry.Shared.Postgres;
using Ferry.Shared.Processes;
using Ferry.Shared.Stg;
using Ferry.Tests.Infrastructure;

namespace Ferry.Tests.Cluster;

/// <summary>Who may join a cluster, and how a node starts against a database that is down or refuses it: real `ferry` processes.</summary>
[Collection("cluster")]
public class TrustTests
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(4);
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(90);

    private static string Stderr(FerryClusterHarness.Node node) => string.Join("\n", node.Log.ToString().Split('\n').Where(l => l.StartsWith("ferry:")));

    [Fact]
    public async Task A_worker_with_another_target_database_or_another_secret_is_refused_runs_nothing_and_the_right_one_joins()
    {
        await using var cluster = await FerryClusterHarness.CreateAsync("trustjoin");
        cluster.SetEnvironment("FERRY_CLUSTER_SECRET", "the-right-secret");
        var (coordinator, w0, w1) = await cluster.StartCoordinatorAndTwoWorkersAsync();
        var otherTarget = new Npgsql.NpgsqlConnectionStringBuilder(await TestPostgres.CreateDatabaseAsync("trustjoin_other")).Database!;

        var wrongTarget = cluster.StartWorker(2, new Dictionary<string, string> { ["TARGET_DATABASE"] = otherTarget });
        Assert.Equal(4, await FerryClusterHarness.WaitForExitAsync(wrongTarget, ExitTimeout));
        Assert.Contains("target database differs", Stderr(wrongTarget));
        Assert.Contains(otherTarget, Stderr(wrongTarget));

        var wrongSecret = cluster.StartWorker(2, new Dictionary<string, string> { ["FERRY_CLUSTER_SECRET"] = "a-guess" });
        Assert.Equal(4, await FerryClusterHarness.WaitForExitAsync(wrongSecret, ExitTimeout));
        Assert.Contains("cluster secret differs", Stderr(wrongSecret));
        Assert.DoesNotContain("a-guess", wrongSecret.Log.ToString());
        Assert.DoesNotContain("the-right-secret", coordinator.Log.ToString());
        // The cluster side says whom it refused and why.
        Assert.Contains($"Refusing node akka.tcp://ferry@127.0.0.1:{cluster.WorkerPorts[2]}", coordinator.Log.ToString() + w0.Log + w1.Log);

        // Neither ever became a member, so neither got a shard; the cluster runs on.
        Assert.Equal(new HashSet<string> { coordinator.Address, w0.Address, w1.Address }, await cluster.UpMembersAsync());
        var run = await cluster.RunAsync(["stg.qvp.users"], RunMode.Bulk, RunTimeout);
        Assert.True(run.State == PipelineRunState.Succeeded, $"{run.State}\n{cluster.Logs()}");

        var right = cluster.StartWorker(2);
        await cluster.WaitForMembersAsync(coordinator, w0, w1, right);
    }

    [Fact]
    public async Task A_cluster_port_on_a_non_loopback_address_without_a_secret_is_refused_at_start_with_one_line()
    {
        await using var cluster = await FerryClusterHarness.CreateAsync("trustbind");

        var node = cluster.StartWorker(0, new Dictionary<string, string>(), "--host", "0.0.0.0");

        Assert.Equal(2, await FerryClusterHarness.WaitForExitAsync(node, ExitTimeout));
        var line = Assert.Single(node.Log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("FERRY_CLUSTER_SECRET", line);
    }

    [Fact]
    public async Task A_wrong_target_password_exits_at_once_with_one_line_naming_the_connection_and_no_stack_trace()
    {
        await using var cluster = await FerryClusterHarness.CreateAsync("trustpw");

        var node = cluster.StartWorker(0, new Dictionary<string, string> { ["TARGET_PASSWORD"] = "wrong" });

        Assert.Equal(2, await FerryClusterHarness.WaitForExitAsync(node, ExitTimeout));
        var line = Assert.Single(node.Log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("target database 127.0.0.1:", line);
        Assert.Contains("password authentication failed", line);
    }

    [Fact]
    public async Task Nodes_started_before_their_database_is_up_wait_for_it_and_form_the_cluster_once_it_is()
    {
        await using var cluster = await FerryClusterHarness.CreateAsync("trustwait");
        var real = new Npgsql.NpgsqlConnectionStringBuilder(cluster.TargetConnectionString).Port;
        var late = LocalPostgres.FreeLoopbackPort();
        await using var database = new TcpForwarder(late, real);
        cluster.SetEnvironment("TARGET_PORT", late.ToString());

        var coordinator = cluster.StartCoordinator();
        var w0 = cluster.StartWorker(0);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!coordinator.Log.ToString().Contains("not reachable yet") && DateTime.UtcNow < deadline) await Task.Delay(200);
        Assert.Contains("not reachable yet", coordinator.Log.ToString());
        Assert.False(coordinator.Exited, coordinator.Log.ToString());

        database.Start();
        var w1 = cluster.StartWorker(1);
        await cluster.WaitForMembersAsync(coordinator, w0, w1);
        var run = await cluster.RunAsync(["stg.qvp.users"], RunMode.Bulk, RunTimeout);
        Assert.True(run.State == PipelineRunState.Succeeded, $"{run.State}\n{cluster.Logs()}");
    }

    [Fact]
    public async Task With_TLS_the_nodes_holding_the_cluster_certificate_form_the_cluster_and_one_without_it_never_joins()
    {
        await using var cluster = await FerryClusterHarness.CreateAsync("trusttls");
        var pfx = Path.Combine(cluster.Root, "cluster.pfx");
        await File.WriteAllBytesAsync(pfx, SelfSigned("CN=ferry-cluster").Export(X509ContentType.Pfx, "pfx-password"));
        var stranger = Path.Combine(cluster.Root, "stranger.pfx");
        await File.WriteAllBytesAsync(stranger, SelfSigned("CN=ferry-cluster").Export(X509ContentType.Pfx, "pfx-password"));
        cluster.SetEnvironment("FERRY_TLS_CERT", pfx);
        cluster.SetEnvironment("FERRY_TLS_CERT_PASSWORD", "pfx-password");
        var (coordinator, w0, w1) = await cluster.StartCoordinatorAndTwoWorkersAsync();

        var plain = cluster.StartWorker(2, new Dictionary<string, string> { ["FERRY_TLS_CERT"] = "" });
        await Task.Delay(TimeSpan.FromSeconds(15));
        Assert.Equal(new HashSet<string> { coordinator.Address, w0.Address, w1.Address }, await cluster.UpMembersAsync());
        await FerryClusterHarness.KillAsync(plain);

        // Same subject, another key: not the cluster's certificate.
        var impostor = cluster.StartWorker(2, new Dictionary<string, string> { ["FERRY_TLS_CERT"] = stranger });
        await Task.Delay(TimeSpan.FromSeconds(15));
        Assert.Equal(new HashSet<string> { coordinator.Address, w0.Address, w1.Address }, await cluster.UpMembersAsync());
        await FerryClusterHarness.KillAsync(impostor);

        var run = await cluster.RunAsync(["stg.qvp.users"], RunMode.Bulk, RunTimeout);
        Assert.True(run.State == PipelineRunState.Succeeded, $"{run.State}\n{cluster.Logs()}");
    }

    private static X509Certificate2 SelfSigned(string subject)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    }
}
