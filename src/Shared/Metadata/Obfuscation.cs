namespace Ferry.Shared.Metadata;

/// <summary>What an obfuscation rule does to a column's values in a DEV extract.</summary>
public enum ObfuscationKind { Keep, Null, Fixed, Hash, Phone, Email, Name, DateShift, NumberNoise, Truncate }

/// <summary>
/// One column's rule from the table file's <c>obfuscate:</c> section, e.g. <c>tax_id: { hash: 12 }</c> is
/// (Hash, "12"). The parameter is kept as written (a length, days, percent, fixed text or name part),
/// so the manifest records exactly what was applied. Never holds the key.
/// </summary>
public sealed record ObfuscationRule(ObfuscationKind Kind, string? Parameter = null)
{
    /// <summary>The rule's name as written in metadata: <c>date_shift</c>.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string RuleName => Names.First(n => n.Value == Kind).Key;

    public static readonly IReadOnlyDictionary<string, ObfuscationKind> Names = new Dictionary<string, ObfuscationKind>(StringComparer.Ordinal)
    {
        ["keep"] = ObfuscationKind.Keep, ["null"] = ObfuscationKind.Null, ["fixed"] = ObfuscationKind.Fixed,
        ["hash"] = ObfuscationKind.Hash, ["phone"] = ObfuscationKind.Phone, ["email"] = ObfuscationKind.Email,
        ["name"] = ObfuscationKind.Name, ["date_shift"] = ObfuscationKind.DateShift, ["number_noise"] = ObfuscationKind.NumberNoise,
        ["truncate"] = ObfuscationKind.Truncate,
    };

    /// <summary>hash: hex digits written when no length is given.</summary>
    public const int DefaultHashLength = 9;

    public override string ToString() => Parameter is null ? RuleName : $"{RuleName}: {Parameter}";
}

/// <summary>
/// Which object-store environments obfuscate. Only <c>dev</c> does (object_store.env in connections.yaml);
/// <c>prod</c> and every other environment never do, even for tables that have rules.
/// </summary>
public static class ObfuscationPolicy
{
    public const string DevEnvironment = "dev";

    /// <summary>The environment variable that holds the HMAC key (never metadata, files, manifests or logs).</summary>
    public const string KeyVariable = "FERRY_OBFUSCATION_KEY";

    public static bool AppliesIn(ObjectStoreConfig store) => string.Equals(store.Env, DevEnvironment, StringComparison.OrdinalIgnoreCase);
}
