using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Ferry.Shared.Storage;

namespace Ferry.Tests.Demo;

/// <summary>Just enough of an object store to check what the demo writes into one.</summary>
public sealed class InMemoryObjectStore : IObjectStore
{
    public ConcurrentDictionary<string, byte[]> Objects { get; } = new();

    public string Describe() => "memory";

    public Task<IObjectUpload> BeginUploadAsync(string key, CancellationToken ct = default) => Task.FromResult<IObjectUpload>(new Upload(this, key));

    public Task<Stream> OpenReadAsync(string key, CancellationToken ct = default) =>
        Objects.TryGetValue(key, out var bytes) ? Task.FromResult<Stream>(new MemoryStream(bytes, writable: false)) : throw new ObjectNotFoundException(key, Describe());

    public Task<ObjectInfo?> StatAsync(string key, CancellationToken ct = default) =>
        Task.FromResult(Objects.TryGetValue(key, out var bytes) ? new ObjectInfo(key, bytes.Length, null, null) : null);

    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken ct = default)
    {
        foreach (var (key, bytes) in Objects.Where(o => o.Key.StartsWith(prefix, StringComparison.Ordinal)).OrderBy(o => o.Key, StringComparer.Ordinal))
            yield return new ObjectInfo(key, bytes.Length, null, null);
        await Task.CompletedTask;
    }

    public Task DeleteAsync(string key, CancellationToken ct = default)
    {
        Objects.TryRemove(key, out _);
        return Task.CompletedTask;
    }

    private sealed class Upload(InMemoryObjectStore store, string key) : IObjectUpload
    {
        private readonly MemoryStream _buffer = new();
        public string Key => key;
        public Stream Stream => _buffer;

        public Task CompleteAsync(CancellationToken ct = default)
        {
            store.Objects[key] = _buffer.ToArray();
            return Task.CompletedTask;
        }

        public ValueTask DisposeAsync() => _buffer.DisposeAsync();
    }
}
