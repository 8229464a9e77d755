using Microsoft.Extensions.Logging;
using Ferry.Shared.Metadata;

namespace Ferry.Shared.Storage;

/// <summary>Builds the object store that metadata describes.</summary>
public static class ObjectStoreFactory
{
    /// <summary>
    /// The store for <paramref name="config"/>, rooted at <see cref="StorePrefix"/>: callers pass keys such as
    /// <c>qvp/users/&lt;run-id&gt;/part-00000.csv.gz</c> and the store adds <c>&lt;prefix&gt;/&lt;env&gt;/</c>,
    /// so a DEV run can never read or overwrite PROD's extracts in a shared bucket.
    /// A relative filesystem path is taken relative to <paramref name="baseDirectory"/> (typically the
    /// metadata folder), or the current directory when that is null.
    /// </summary>
    /// <param name="logs">Where the store's warnings go (the node's logging); none when null.</param>
    public static IObjectStore Create(ObjectStoreConfig config, string? baseDirectory = null, ILoggerFactory? logs = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        var prefix = StorePrefix(config);
        switch (config.Kind)
        {
            case ObjectStoreKind.Filesystem:
                if (string.IsNullOrWhiteSpace(config.Path))
                    throw new ArgumentException("object store: kind filesystem needs a path");
                var root = Path.IsPathRooted(config.Path)
                    ? config.Path
                    : Path.Combine(baseDirectory ?? Environment.CurrentDirectory, config.Path);
                return new FileSystemObjectStore(Path.GetFullPath(root), prefix);

            case ObjectStoreKind.S3:
                return new S3ObjectStore(new S3ObjectStoreOptions
                {
                    Endpoint = Required(config.Endpoint, "endpoint"),
                    Region = Required(config.Region, "region"),
                    Bucket = Required(config.Bucket, "bucket"),
                    Prefix = prefix,
                    AccessKey = config.AccessKey ?? throw Missing("access key (a secret reference such as ${OCI_S3_ACCESS_KEY})"),
                    SecretKey = config.SecretKey ?? throw Missing("secret key (a secret reference such as ${OCI_S3_SECRET_KEY})"),
                }, logs?.CreateLogger("Ferry.ObjectStore"));

            default:
                throw new ArgumentOutOfRangeException(nameof(config), config.Kind, "object store: unknown kind");
        }
    }

    /// <summary><c>&lt;prefix&gt;/&lt;env&gt;</c> from the config, either part may be empty.</summary>
    public static string StorePrefix(ObjectStoreConfig config) =>
        ObjectKey.NormalizeStorePrefix(string.Join('/', new[] { config.Prefix, config.Env }
            .Select(p => (p ?? "").Trim('/'))
            .Where(p => p.Length > 0)));

    private static string Required(string? value, string what) =>
        string.IsNullOrWhiteSpace(value) ? throw Missing(what) : value;

    private static ArgumentException Missing(string what) => new($"object store: kind s3 needs {what}");
}
