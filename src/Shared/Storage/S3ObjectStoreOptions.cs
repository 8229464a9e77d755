using Ferry.Shared.Metadata;

namespace Ferry.Shared.Storage;

/// <summary>
/// Where and how <see cref="S3ObjectStore"/> talks to an S3-compatible endpoint (Amazon S3, OCI Object
/// Storage's Amazon S3 Compatibility API, Ceph, s3rver in tests). Credentials are references only.
/// </summary>
public sealed record S3ObjectStoreOptions
{
    public const int MiB = 1024 * 1024;

    /// <summary>S3's smallest allowed part (every part but the last).</summary>
    public const int MinPartSize = 5 * MiB;

    /// <summary>S3's largest part count per multipart upload.</summary>
    public const int MaxParts = 10_000;

    /// <summary>e.g. <c>https://&lt;namespace&gt;.compat.objectstorage.&lt;region&gt;.oraclecloud.com</c>.</summary>
    public required string Endpoint { get; init; }

    /// <summary>The signing region (for OCI: the OCI region, such as <c>eu-frankfurt-1</c>).</summary>
    public required string Region { get; init; }

    public required string Bucket { get; init; }

    /// <summary>Every key of the store lives under this prefix (no leading or trailing '/').</summary>
    public string Prefix { get; init; } = "";

    public required SecretRef AccessKey { get; init; }
    public required SecretRef SecretKey { get; init; }

    /// <summary>
    /// Bytes buffered per part. Objects smaller than one part are sent with a single PutObject.
    /// 16 MiB × 10,000 parts allows objects up to 160 GiB.
    /// </summary>
    public int PartSize { get; init; } = 16 * MiB;

    /// <summary>Parts uploading while the writer fills the next one; memory per upload ≈ (this + 1) × <see cref="PartSize"/>.</summary>
    public int MaxPartsInFlight { get; init; } = 2;

    /// <summary>ListObjectsV2 page size; null = the server's default (1000 on S3). Small values exercise paging in tests.</summary>
    public int? ListPageSize { get; init; }

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(Endpoint)) throw Invalid("endpoint is required");
        if (!Uri.TryCreate(Endpoint, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
            throw Invalid($"endpoint '{Endpoint}' is not an http(s) URL");
        if (string.IsNullOrWhiteSpace(Region)) throw Invalid("region is required (for OCI: the OCI region, e.g. eu-frankfurt-1)");
        if (string.IsNullOrWhiteSpace(Bucket)) throw Invalid("bucket is required");
        if (PartSize < MinPartSize) throw Invalid($"part size {PartSize:N0} is below S3's minimum of {MinPartSize:N0} bytes");
        if (MaxPartsInFlight < 1) throw Invalid("at least one part must be allowed in flight");
        if (ListPageSize is < 1 or > 1000) throw Invalid($"list page size {ListPageSize} is outside 1..1000");
    }

    private ArgumentException Invalid(string why) => new($"S3 object store (bucket {Bucket}): {why}");
}
