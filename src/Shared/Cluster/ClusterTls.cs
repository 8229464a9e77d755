using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Akka.Event;
using Akka.Remote.Hosting;

namespace Ferry.Shared.Cluster;

/// <summary>
/// TLS for the cluster port (Akka.Remote's DotNetty transport), mutual: every node presents the
/// certificate of its PFX file and accepts a peer only if the peer's certificate is the same one (one
/// cluster certificate on every node) or chains to a CA certificate bundled in that PFX (one certificate
/// per node from a private CA). The system's CA store is not consulted: a certificate some public CA
/// issued to anyone else must not open the cluster.
/// </summary>
public sealed class ClusterTls
{
    private readonly X509Certificate2 _certificate;
    private readonly X509Certificate2Collection _authorities;

    private ClusterTls(X509Certificate2 certificate, X509Certificate2Collection authorities)
    {
        _certificate = certificate;
        _authorities = authorities;
    }

    public string Thumbprint => _certificate.Thumbprint;

    /// <summary>Loads the PFX; throws <see cref="NodeStartException"/> naming the file when it cannot be used.</summary>
    public static ClusterTls Load(string pfxPath, string? password)
    {
        X509Certificate2Collection all;
        try
        {
            all = X509CertificateLoader.LoadPkcs12CollectionFromFile(pfxPath, password, X509KeyStorageFlags.Exportable);
        }
        catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new NodeStartException($"TLS certificate {pfxPath}: {e.Message} (FERRY_TLS_CERT_PASSWORD holds its password)", e);
        }
        var leaf = all.FirstOrDefault(c => c.HasPrivateKey)
                   ?? throw new NodeStartException($"TLS certificate {pfxPath}: no certificate with a private key in it");
        var authorities = new X509Certificate2Collection();
        foreach (var c in all.Where(c => c != leaf && IsAuthority(c))) authorities.Add(c);
        return new ClusterTls(leaf, authorities);
    }

    private static bool IsAuthority(X509Certificate2 c) =>
        c.Extensions.OfType<X509BasicConstraintsExtension>().Any(b => b.CertificateAuthority);

    public SslOptions ToSslOptions() => new()
    {
        X509Certificate = _certificate,
        RequireMutualAuthentication = true,
        // Nodes are reached by IP or container name; identity is the certificate, not the name.
        ValidateCertificateHostname = false,
        SuppressValidation = false,
        CustomValidator = (peer, _, _, _, log) =>
        {
            var ok = Accepts(peer);
            if (!ok) log.Warning("Refusing a TLS peer: its certificate {0} ({1}) is neither this cluster's nor issued by its CA", peer?.Subject ?? "(none)", peer?.Thumbprint ?? "-");
            return ok;
        },
    };

    /// <summary>The same certificate as ours, or one that chains to a CA bundled with ours.</summary>
    public bool Accepts(X509Certificate2? peer)
    {
        if (peer is null) return false;
        if (peer.Thumbprint == _certificate.Thumbprint) return true;
        if (_authorities.Count == 0) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(_authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(peer);
    }
}
