namespace Ferry.Shared.Metadata;

/// <summary>How the listing table writes an object's MD5: hex (QVP's checksum_md5) or base64 (Rails ActiveStorage's checksum).</summary>
public enum ChecksumFormat { Md5Hex, Md5Base64 }

/// <summary>
/// A business-layer column that holds the target keys of copied objects (unipacc.attachments.target_key):
/// verify.files checks that each non-NULL value there names an object in the target store.
/// </summary>
public sealed record ObjectReference(string Schema, string Table, string Column)
{
    public override string ToString() => $"{Schema}.{Table}.{Column}";
}

/// <summary>
/// One files process, <c>files.&lt;name&gt;</c>, from metadata/files/&lt;name&gt;.yaml: which source table lists
/// the objects (and in which columns), where the objects are, and where they go.
/// </summary>
public sealed record FilesDefinition(
    string Name,
    string Source,
    string Schema,
    string Table,
    string KeyColumn,
    string SizeColumn,
    string? ChecksumColumn,
    ChecksumFormat ChecksumFormat,
    string CreatedAtColumn,
    string? DeletedColumn,
    ObjectStoreConfig SourceStore,
    ObjectStoreConfig TargetStore,
    string TargetKeyTemplate,
    int WindowDays = FilesDefinition.DefaultWindowDays,
    int Parallelism = FilesDefinition.DefaultParallelism,
    string? File = null)
{
    public const int DefaultWindowDays = 2;
    public const int DefaultParallelism = 8;

    /// <summary>
    /// referenced_by: the BL column that points at this process's copies, or null. Several processes may name the
    /// same column: each verifies the values that fit its own <see cref="TargetKeyTemplate"/>.
    /// </summary>
    public ObjectReference? ReferencedBy { get; init; }

    /// <summary>The placeholder of <see cref="TargetKeyTemplate"/> that stands for the object's source key.</summary>
    public const string KeyPlaceholder = "{key}";

    public string ProcessId => $"files.{Name}";

    /// <summary>The listing table as schema.table, for messages.</summary>
    public string ListingTable => $"{Schema}.{Table}";

    /// <summary>Where an object goes in the target store: the template with {key} replaced, e.g. qvp/{key} → qvp/uploads/1.pdf.</summary>
    public string TargetKeyOf(string sourceKey) => TargetKeyTemplate.Replace(KeyPlaceholder, sourceKey, StringComparison.Ordinal);

    /// <summary>The template's fixed text before and after {key}: qvp/{key} → ("qvp/", "").</summary>
    public (string Prefix, string Suffix) TargetKeyParts
    {
        get
        {
            var at = TargetKeyTemplate.IndexOf(KeyPlaceholder, StringComparison.Ordinal);
            return at < 0 ? (TargetKeyTemplate, "") : (TargetKeyTemplate[..at], TargetKeyTemplate[(at + KeyPlaceholder.Length)..]);
        }
    }
}
