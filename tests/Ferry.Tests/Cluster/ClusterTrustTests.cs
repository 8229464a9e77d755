using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Ferry.Cli.Commands;
using Ferry.Shared.Cluster;
using Npgsql;

namespace Ferry.Tests.Cluster;

/// <summary>The pure parts of the join check, the TLS peer check and the start-up wait: no processes, no database.</summary>
public class ClusterTrustTests
{
    private static readonly string[] Processes = ["stg.qvp.users", "bl.unipacc.users"];

    [Fact]
    public void Two_nodes_with_the_same_target_metadata_and_secret_agree()
    {
        var a = NodeCredentials.Of("db:5432/unipacc", Processes, "s3cret");
        var b = NodeCredentials.Of("db:5432/unipacc", Processes.Reverse(), "s3cret");
        Assert.Null(a.Differences(b));
    }

    [Fact]
    public void Another_target_database_is_named_on_both_sides_and_the_secret_never_appears()
    {
        var a = NodeCredentials.Of("db:5432/unipacc", Processes, "s3cret");
        var b = NodeCredentials.Of("db:5432/scratch", Processes, "s3cret");
        var why = a.Differences(b)!;
        Assert.Contains("target database differs", why);
        Assert.Contains("db:5432/unipacc", why);
        Assert.Contains("db:5432/scratch", why);
        Assert.DoesNotContain("s3cret", why + a + b);
    }

    [Fact]
    public void Another_secret_or_none_at_all_is_refused_as_a_secret_mismatch()
    {
        var a = NodeCredentials.Of("db:5432/unipacc", Processes, "s3cret");
        Assert.Contains("cluster secret differs", a.Differences(NodeCredentials.Of("db:5432/unipacc", Processes, "guess")));
        Assert.Contains("the other has none", a.Differences(NodeCredentials.Of("db:5432/unipacc", Processes, null)));
        Assert.Null(NodeCredentials.Of("db:5432/unipacc", Processes, null).Differences(NodeCredentials.Of("db:5432/unipacc", Processes, null)));
    }

    [Fact]
    public void Metadata_with_another_set_of_processes_is_refused()
    {
        var a = NodeCredentials.Of("db:5432/unipacc", Processes, "s3cret");
        var b = NodeCredentials.Of("db:5432/unipacc", [.. Processes, "stg.qvp.events"], "s3cret");
        Assert.Contains("metadata differs", a.Differences(b));
    }

    [Fact]
    public void A_refused_connection_and_a_database_starting_up_can_heal_a_wrong_password_and_a_missing_database_cannot()
    {
        Assert.True(TargetDatabase.CanHeal(new NpgsqlException("x", new SocketException((int)SocketError.ConnectionRefused))));
        Assert.True(TargetDatabase.CanHeal(new NpgsqlException("x", new SocketException((int)SocketError.HostNotFound))));
        Assert.True(TargetDatabase.CanHeal(new PostgresException("the database system is starting up", "FATAL", "FATAL", PostgresErrorCodes.CannotConnectNow)));
        Assert.False(TargetDatabase.CanHeal(new PostgresException("password authentication failed", "FATAL", "FATAL", PostgresErrorCodes.InvalidPassword)));
        Assert.False(TargetDatabase.CanHeal(new PostgresException("database does not exist", "FATAL", "FATAL", PostgresErrorCodes.InvalidCatalogName)));
    }

    [Fact]
    public void The_database_wait_reads_seconds_minutes_and_zero()
    {
        Assert.True(NodeCommands.TryParseWait("120s", out var a));
        Assert.Equal(TimeSpan.FromSeconds(120), a);
        Assert.True(NodeCommands.TryParseWait("5m", out var b));
        Assert.Equal(TimeSpan.FromMinutes(5), b);
        Assert.True(NodeCommands.TryParseWait("0", out var c));
        Assert.Equal(TimeSpan.Zero, c);
        Assert.False(NodeCommands.TryParseWait("soon", out _));
    }

    [Fact]
    public void TLS_accepts_the_clusters_own_certificate_and_one_its_CA_issued_but_not_a_stranger_with_the_same_name()
    {
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=ferry-ca", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        using var node = Issue("CN=ferry-node-1", ca);
        using var peer = Issue("CN=ferry-node-2", ca);
        using var strangerCa = SelfSigned("CN=ferry-ca");
        using var stranger = Issue("CN=ferry-node-2", strangerCa);

        var dir = Directory.CreateTempSubdirectory("ferry-tls-");
        try
        {
            var pfx = Path.Combine(dir.FullName, "node.pfx");
            File.WriteAllBytes(pfx, new X509Certificate2Collection { node, X509CertificateLoader.LoadCertificate(ca.RawData) }.Export(X509ContentType.Pfx, "pw")!);
            var tls = ClusterTls.Load(pfx, "pw");
            Assert.True(tls.Accepts(X509CertificateLoader.LoadCertificate(node.RawData)));
            Assert.True(tls.Accepts(X509CertificateLoader.LoadCertificate(peer.RawData)));
            Assert.False(tls.Accepts(X509CertificateLoader.LoadCertificate(stranger.RawData)));
            Assert.False(tls.Accepts(null));
            Assert.Throws<NodeStartException>(() => ClusterTls.Load(pfx, "wrong"));
        }
        finally { dir.Delete(recursive: true); }
    }

    private static X509Certificate2 SelfSigned(string subject)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    }

    private static X509Certificate2 Issue(string subject, X509Certificate2 issuer)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var cert = request.Create(issuer, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(10), RandomNumberGenerator.GetBytes(8));
        return cert.CopyWithPrivateKey(key);
    }
}
