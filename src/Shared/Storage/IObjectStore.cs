namespace Ferry.Shared.Storage;

/// <summary>
/// Object storage as Ferry uses it: streamed both ways, never a whole object in memory.
/// Keys are '/'-separated paths relative to the store's prefix.
/// </summary>
public interface IObjectStore
{
    /// <summary>A human-readable description (kind and location, never credentials).</summary>
    string Describe();

    /// <summary>
    /// Starts writing an object. Data becomes visible under <paramref name="key"/> only after
    /// <see cref="IObjectUpload.CompleteAsync"/>; disposing an upload that was not completed discards it.
    /// </summary>
    Task<IObjectUpload> BeginUploadAsync(string key, CancellationToken ct = default);

    /// <summary>Opens an object for sequential reading. Throws <see cref="ObjectNotFoundException"/> if absent.</summary>
    Task<Stream> OpenReadAsync(string key, CancellationToken ct = default);

    /// <summary>Size and ETag of an object, or null if it does not exist.</summary>
    Task<ObjectInfo?> StatAsync(string key, CancellationToken ct = default);

    /// <summary>Every object whose key starts with <paramref name="prefix"/>, in key order.</summary>
    IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, CancellationToken ct = default);

    Task DeleteAsync(string key, CancellationToken ct = default);
}

/// <summary>An object being written. Write to <see cref="Stream"/>, then complete.</summary>
public interface IObjectUpload : IAsyncDisposable
{
    string Key { get; }
    Stream Stream { get; }
    /// <summary>Flushes and publishes the object atomically.</summary>
    Task CompleteAsync(CancellationToken ct = default);
}

public sealed record ObjectInfo(string Key, long Size, string? ETag, DateTimeOffset? LastModified);

public sealed class ObjectNotFoundException(string key, string store, Exception? inner = null)
    : Exception($"object {key} not found in {store}", inner)
{
    public string Key { get; } = key;
}

/// <summary>Convenience for small objects such as manifests.</summary>
public static class ObjectStoreExtensions
{
    public static async Task PutBytesAsync(this IObjectStore store, string key, ReadOnlyMemory<byte> bytes, CancellationToken ct = default)
    {
        await using var upload = await store.BeginUploadAsync(key, ct);
        await upload.Stream.WriteAsync(bytes, ct);
        await upload.CompleteAsync(ct);
    }

    public static async Task<byte[]> GetBytesAsync(this IObjectStore store, string key, CancellationToken ct = default)
    {
        await using var s = await store.OpenReadAsync(key, ct);
        using var ms = new MemoryStream();
        await s.CopyToAsync(ms, ct);
        return ms.ToArray();
    }
}
