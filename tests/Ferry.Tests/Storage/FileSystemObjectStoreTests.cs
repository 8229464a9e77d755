using Ferry.Shared.Storage;

namespace Ferry.Tests.Storage;

/// <summary>The object-store contract on the filesystem store, plus what only a folder of files can show.</summary>
public sealed class FileSystemObjectStoreTests : ObjectStoreContract, IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"ferry-test-fs-{Guid.NewGuid():N}");
    private readonly FileSystemObjectStore _store;

    public FileSystemObjectStoreTests()
    {
        _store = new FileSystemObjectStore(_root, "ferry/test");
    }

    protected override IObjectStore Store => _store;

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task An_object_is_a_file_under_root_and_prefix()
    {
        await Store.PutBytesAsync("qvp/users/r1/manifest.json", "{}"u8.ToArray());

        Assert.Equal("{}", await File.ReadAllTextAsync(Path.Combine(_root, "ferry", "test", "qvp", "users", "r1", "manifest.json")));
    }

    [Fact]
    public async Task An_unfinished_upload_leaves_no_temporary_file_behind()
    {
        await using (var upload = await Store.BeginUploadAsync("runs/r1/part-00000.csv.gz"))
        {
            await upload.Stream.WriteAsync(new byte[4096]);
            Assert.Single(Directory.GetFiles(Path.Combine(_root, "ferry", "test", "runs", "r1"))); // the temp file, in the object's folder
        }

        Assert.Empty(Directory.GetFiles(Path.Combine(_root, "ferry", "test", "runs", "r1")));
    }

    [Fact]
    public async Task Listing_orders_keys_by_ordinal_comparison_not_by_folder_walk()
    {
        // '-' < '.' < '/' in ordinal (and S3 byte) order, so "a/b" comes after "a.txt" although "a" is a folder.
        string[] keys = ["p/a/b", "p/a.txt", "p/a-b", "p/B", "p/.hidden"];
        foreach (var key in keys) await Store.PutBytesAsync(key, new byte[1]);

        Assert.Equal(["p/.hidden", "p/B", "p/a-b", "p/a.txt", "p/a/b"], (await ListAsync("p/")).Select(o => o.Key));
    }

    [Fact]
    public async Task Keys_reserved_for_uploads_in_progress_are_rejected()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Store.BeginUploadAsync("runs/x" + FileSystemObjectStore.TempSuffix));
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Objects_and_the_folders_created_for_them_are_readable_by_their_owner_only()
    {
        if (OperatingSystem.IsWindows()) return; // Unix file modes
        await Store.PutBytesAsync("qvp/users/r1/part-00000.csv.gz", new byte[16]);
        await using (var upload = await Store.BeginUploadAsync("qvp/users/r1/manifest.json"))
        {
            await upload.Stream.WriteAsync("{}"u8.ToArray());
            await upload.CompleteAsync();
        }

        var folder = Path.Combine(_root, "ferry", "test", "qvp", "users", "r1");
        Assert.All(Directory.GetFiles(folder), f => Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(f)));
        // Every folder the store created, from its root down to the run folder.
        for (var d = folder; d.Length >= _root.Length; d = Path.GetDirectoryName(d)!)
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(d));
    }
}
