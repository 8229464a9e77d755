using System.Security.Cryptography;
using System.Text;
using Ferry.Shared.Serialization;

namespace Ferry.Shared.Cluster;

/// <summary>
/// What a node shows the cluster before it joins: the target database it writes to, a digest of the
/// processes its metadata defines, and a proof that it knows the cluster secret (an HMAC over the two,
/// never the secret itself). Nodes that disagree on any of them would run processes into the wrong
/// database, so the cluster refuses them (<see cref="TrustGate"/>).
/// </summary>
public sealed record NodeCredentials(string Target, string Metadata, string? Proof) : IFerryMessage
{
    /// <summary>A node without <paramref name="secret"/> shows no proof: it only joins a cluster that has none either.</summary>
    public static NodeCredentials Of(string target, IEnumerable<string> processIds, string? secret)
    {
        var metadata = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\n", processIds.Order(StringComparer.Ordinal)))))[..16].ToLowerInvariant();
        string? proof = null;
        if (!string.IsNullOrEmpty(secret))
            proof = Convert.ToHexString(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"ferry-cluster-v1\n{target}\n{metadata}"))).ToLowerInvariant();
        return new NodeCredentials(target, metadata, proof);
    }

    /// <summary>host:port/database of a target connection: what two nodes must share.</summary>
    public static string TargetIdentity(string host, int port, string database) => $"{host.ToLowerInvariant()}:{port}/{database}";

    /// <summary>The same credentials without the proof: what a node shows to anyone who has not proved anything yet.</summary>
    public NodeCredentials WithoutProof() => this with { Proof = null };

    /// <summary>
    /// Why a node showing <paramref name="other"/> may not be in a cluster with this one, as a phrase
    /// naming what differs (never a secret or a proof); null when they agree. The proofs are compared in
    /// constant time, and only when <paramref name="proofs"/> (a gate that answered a join shows none).
    /// </summary>
    public string? Differences(NodeCredentials other, bool proofs = true)
    {
        var diffs = new List<string>();
        if (Target != other.Target) diffs.Add($"target database differs (this node: {Target}, other: {other.Target})");
        if (Metadata != other.Metadata) diffs.Add($"metadata differs (processes digest {Metadata} here, {other.Metadata} there)");
        // Only compared when the rest agrees: a different target changes the proof too, and says more.
        if (diffs.Count == 0 && proofs && !SameProof(Proof, other.Proof))
            diffs.Add(Proof is null ? "the other node has a cluster secret and this one has none (FERRY_CLUSTER_SECRET)"
                : other.Proof is null ? "this node has a cluster secret and the other has none (FERRY_CLUSTER_SECRET)"
                : "cluster secret differs (FERRY_CLUSTER_SECRET)");
        return diffs.Count == 0 ? null : string.Join("; ", diffs);
    }

    private static bool SameProof(string? a, string? b) =>
        a is null || b is null ? a == b
            : CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(a), Encoding.ASCII.GetBytes(b));
}

/// <summary>The trust handshake's messages: a node shows its credentials, the other answers with its own and its verdict.</summary>
public sealed record TrustHello(NodeCredentials Credentials) : IFerryMessage;

/// <param name="FromMember">Whether the answering node is Up in a cluster: only a member's refusal is final (a seed that is
/// itself still starting may be the misconfigured one).</param>
public sealed record TrustVerdict(NodeCredentials Credentials, string? Refusal, bool FromMember) : IFerryMessage
{
    public bool Admitted => Refusal is null;
}

public static class TrustMessages
{
    public static FerryMessageTypes Types { get; } = FerryMessageTypes.Of(
        ("trust-credentials", typeof(NodeCredentials)),
        ("trust-hello", typeof(TrustHello)),
        ("trust-verdict", typeof(TrustVerdict)));
}
