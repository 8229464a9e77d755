namespace Ferry.Shared.Storage;

/// <summary>
/// A store that can copy an object from another store without the bytes passing through Ferry
/// (S3 CopyObject between buckets of one endpoint and one set of credentials).
/// </summary>
public interface IServerSideCopy
{
    /// <summary>The largest object one server-side copy can take (S3: 5 GiB); larger ones must be streamed.</summary>
    long MaxServerSideCopyBytes { get; }

    /// <summary>Whether <see cref="CopyFromAsync"/> can read from <paramref name="source"/>: same endpoint, same credentials.</summary>
    bool CanCopyFrom(IObjectStore source);

    /// <summary>
    /// Copies <paramref name="sourceKey"/> of <paramref name="source"/> to <paramref name="key"/> in this store and returns the
    /// ETag the server gives the copy (S3: the MD5 of a single-part object), without asking for anything else: a caller
    /// that needs the size asks <see cref="IObjectStore.StatAsync"/>. Throws <see cref="ObjectNotFoundException"/> when
    /// the source object does not exist.
    /// </summary>
    Task<string?> CopyFromAsync(IObjectStore source, string sourceKey, string key, CancellationToken ct = default);
}
