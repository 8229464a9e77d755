using System.Runtime.CompilerServices;

namespace Ferry.Shared.Storage;

/// <summary>
/// Objects as files under <c>root/prefix</c>: key <c>qvp/users/r1/part-00000.csv.gz</c> is the file
/// <c>root/prefix/qvp/users/r1/part-00000.csv.gz</c>. An upload writes a hidden temporary file in the
/// object's folder and renames it into place on completion, so readers see the old object or the whole
/// new one, never a partial file. Files are created 0600 and folders 0700 (they hold copies of source
/// data). Used by <c>ferry standalone</c>, the demo and tests.
/// </summary>
/// <remarks>
/// A folder cannot also be a file, so unlike S3 this store cannot hold both <c>a</c> and <c>a/b</c>.
/// The ETag is a cheap change marker (modification time and size), not a content hash.
/// </remarks>
public sealed class FileSystemObjectStore : IObjectStore
{
    /// <summary>Suffix of in-progress uploads; such files are never listed, and keys may not end with it.</summary>
    public const string TempSuffix = ".ferry-upload";

    // Objects are plain copies of source data: owner-only, whatever the umask lets others see.
    private const UnixFileMode FileMode0600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode FolderMode0700 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private readonly string _base;
    private readonly string _prefix;

    public FileSystemObjectStore(string root, string? prefix = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        _prefix = ObjectKey.NormalizeStorePrefix(prefix);
        Root = Path.GetFullPath(root);
        _base = _prefix.Length == 0 ? Root : Path.Combine(Root, _prefix.Replace('/', Path.DirectorySeparatorChar));
    }

    public string Root { get; }

    /// <summary>The folder that holds this store's objects (<c>root/prefix</c>).</summary>
    public string BaseDirectory => _base;

    public string Describe() => $"filesystem {_base}";

    public Task<IObjectUpload> BeginUploadAsync(string key, CancellationToken ct = default)
    {
        ct.ThrowIfCancellationRequested();
        var path = PathOf(key);
        var folder = Path.GetDirectoryName(path)!;
        CreateFolder(folder);
        var name = Path.GetFileName(path);
        // Hidden, unique, and recognisably ours: a crashed writer's leftovers are easy to spot and clean.
        var temp = Path.Combine(folder, $".{(name.Length > 64 ? name[..64] : name)}.{Guid.NewGuid():N}{TempSuffix}");
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 1 << 16, Options = FileOptions.Asynchronous,
        };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = FileMode0600;
        var file = new FileStream(temp, options); // the rename keeps the mode
        return Task.FromResult<IObjectUpload>(new FileUpload(key, path, temp, file));
    }

    public Task<Stream> OpenReadAsync(string key, CancellationToken ct = default)
    {
        ct.ThrowIfCancellationRequested();
        var path = PathOf(key);
        try
        {
            // FileShare.Delete: an object may be replaced or deleted while someone reads the old one (as on S3).
            Stream s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete,
                bufferSize: 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
            return Task.FromResult(s);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ObjectNotFoundException(key, Describe(), e);
        }
    }

    public Task<ObjectInfo?> StatAsync(string key, CancellationToken ct = default)
    {
        ct.ThrowIfCancellationRequested();
        var file = new FileInfo(PathOf(key));
        return Task.FromResult(file.Exists ? InfoOf(key, file) : null);
    }

    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken ct = default)
    {
        ObjectKey.ValidatePrefix(prefix);
        // Walk only the deepest folder the prefix names completely; the rest of the prefix filters names.
        var slash = prefix.LastIndexOf('/');
        var folder = slash < 0 ? _base : Path.Combine(_base, prefix[..slash].Replace('/', Path.DirectorySeparatorChar));
        var found = await Task.Run(() => Collect(folder, prefix, ct), ct).ConfigureAwait(false);
        foreach (var info in found)
        {
            ct.ThrowIfCancellationRequested();
            yield return info;
        }
    }

    public Task DeleteAsync(string key, CancellationToken ct = default)
    {
        ct.ThrowIfCancellationRequested();
        // Deleting an absent object is not an error (S3 semantics); empty folders are left alone so a
        // concurrent upload into the same folder never loses its directory.
        File.Delete(PathOf(key));
        return Task.CompletedTask;
    }

    /// <summary>Creates the folder and any missing parents owner-only (0700); folders that exist keep their mode.</summary>
    private static void CreateFolder(string folder)
    {
        if (Directory.Exists(folder)) return;
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(folder);
            return;
        }
        // Directory.CreateDirectory(path, mode) gives the mode to the last folder only: create the parents one by one.
        if (Path.GetDirectoryName(folder) is { } parent) CreateFolder(parent);
        Directory.CreateDirectory(folder, FolderMode0700); // a folder another writer just created is fine
    }

    private List<ObjectInfo> Collect(string folder, string prefix, CancellationToken ct)
    {
        var found = new List<ObjectInfo>();
        if (!Directory.Exists(folder)) return found;
        var options = new EnumerationOptions
        {
            RecurseSubdirectories = true,
            AttributesToSkip = 0, // keys may start with '.', which Unix calls hidden
            IgnoreInaccessible = false,
        };
        foreach (var file in new DirectoryInfo(folder).EnumerateFiles("*", options))
        {
            ct.ThrowIfCancellationRequested();
            if (file.Name.EndsWith(TempSuffix, StringComparison.Ordinal)) continue;
            var key = Path.GetRelativePath(_base, file.FullName).Replace(Path.DirectorySeparatorChar, '/');
            if (key.StartsWith(prefix, StringComparison.Ordinal))
                found.Add(InfoOf(key, file));
        }
        // Ordinal, like S3's byte order for the ASCII keys Ferry writes (a folder walk would put "a/b" before "a-b").
        found.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return found;
    }

    private static ObjectInfo InfoOf(string key, FileInfo file)
    {
        var modified = file.LastWriteTimeUtc;
        return new ObjectInfo(key, file.Length, $"{modified.Ticks:x}-{file.Length:x}", new DateTimeOffset(modified, TimeSpan.Zero));
    }

    private string PathOf(string key)
    {
        ObjectKey.Validate(key);
        if (key.EndsWith(TempSuffix, StringComparison.Ordinal))
            throw new ArgumentException($"invalid object key '{key}': names ending in {TempSuffix} are reserved for uploads in progress", nameof(key));
        var path = Path.GetFullPath(Path.Combine(_base, key.Replace('/', Path.DirectorySeparatorChar)));
        // Defence in depth: ObjectKey already rejects ".." and rooted keys.
        if (!path.StartsWith(_base + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new ArgumentException($"invalid object key '{key}': it resolves outside {_base}", nameof(key));
        return path;
    }

    private sealed class FileUpload(string key, string path, string temp, FileStream file) : IObjectUpload
    {
        private readonly Writer _stream = new(file);
        private bool _completed;
        private bool _disposed;

        public string Key => key;
        public Stream Stream => _stream;

        public async Task CompleteAsync(CancellationToken ct = default)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_completed) throw new InvalidOperationException($"upload of {key} is already complete");
            await file.FlushAsync(ct).ConfigureAwait(false);
            file.Flush(flushToDisk: true); // the rename must not publish data the OS still holds only in cache
            await file.DisposeAsync().ConfigureAwait(false);
            _stream.Dispose();
            File.Move(temp, path, overwrite: true); // rename(2): atomic on one filesystem
            _completed = true;
        }

        public async ValueTask DisposeAsync()
        {
            if (_disposed) return;
            _disposed = true;
            _stream.Dispose();
            await file.DisposeAsync().ConfigureAwait(false);
            if (!_completed) File.Delete(temp);
        }

        private sealed class Writer(FileStream file) : UploadStream
        {
            protected override void WriteCore(ReadOnlySpan<byte> buffer) => file.Write(buffer);
            protected override ValueTask WriteCoreAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct) => file.WriteAsync(buffer, ct);
        }
    }
}
