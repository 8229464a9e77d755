using Ferry.Shared.Metadata;

namespace Ferry.Shared.Logging;

/// <summary>The secret values a node can know, to be masked in its logs: every password and key the metadata references, and its own.</summary>
public static class SecretValues
{
    /// <summary>Ferry's own secrets, read from the environment whether or not the metadata names them.</summary>
    public static readonly string[] OwnVariables = ["FERRY_CLUSTER_SECRET", "FERRY_TLS_CERT_PASSWORD", "FERRY_MASTER_KEY", "FERRY_API_TOKEN"];

    public static IReadOnlyCollection<string> Of(MigrationMetadata metadata, params string?[] more)
    {
        var refs = metadata.Sources.Values.Append(metadata.Target).Select(c => c.Password)
            .Append(metadata.ObjectStore.AccessKey).Append(metadata.ObjectStore.SecretKey)
            .OfType<SecretRef>().Select(r => r.Variable).Concat(OwnVariables);
        return refs.Select(Environment.GetEnvironmentVariable).Concat(more)
            .OfType<string>().Where(v => v.Length > 0).Distinct().ToArray();
    }
}
