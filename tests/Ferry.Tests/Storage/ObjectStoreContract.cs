using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Ferry.Shared.Storage;

namespace Ferry.Tests.Storage;

/// <summary>
/// What every <see cref="IObjectStore"/> promises, run against each real implementation
/// (<see cref="FileSystemObjectStoreTests"/>, <see cref="S3ObjectStoreTests"/>). Each test gets a
/// store of its own (a fresh folder or key prefix), so tests never see each other's objects.
/// </summary>
public abstract class ObjectStoreContract
{
    private const int MiB = 1024 * 1024;

    protected abstract IObjectStore Store { get; }

    [Fact]
    public async Task A_small_object_reads_back_exactly_as_written()
    {
        var manifest = Encoding.UTF8.GetBytes("{\"table\":\"users\",\"rows\":3}\n");
        await Store.PutBytesAsync("qvp/users/r1/manifest.json", manifest);

        Assert.Equal(manifest, await Store.GetBytesAsync("qvp/users/r1/manifest.json"));
        var info = await Store.StatAsync("qvp/users/r1/manifest.json");
        Assert.NotNull(info);
        Assert.Equal("qvp/users/r1/manifest.json", info.Key);
        Assert.Equal(manifest.Length, info.Size);
    }

    [Fact]
    public async Task A_40_MiB_object_written_in_odd_sized_chunks_reads_back_with_the_same_SHA_256()
    {
        int[] chunkSizes = [1, 7, 65_537, 1_000_003, 3, 4_194_301, 333_331];
        const long total = 40L * MiB + 12_345;
        var random = new Random(20240611);
        var chunk = new byte[chunkSizes.Max()];
        using var written = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        await using (var upload = await Store.BeginUploadAsync("qvp/orders/r1/part-00000.csv.gz"))
        {
            long sent = 0;
            for (var i = 0; sent < total; i++)
            {
                var n = (int)Math.Min(chunkSizes[i % chunkSizes.Length], total - sent);
                random.NextBytes(chunk.AsSpan(0, n));
                written.AppendData(chunk, 0, n);
                await upload.Stream.WriteAsync(chunk.AsMemory(0, n));
                sent += n;
            }
            await upload.CompleteAsync();
        }

        await using var read = await Store.OpenReadAsync("qvp/orders/r1/part-00000.csv.gz");
        Assert.Equal(Convert.ToHexString(written.GetHashAndReset()), Convert.ToHexString(await SHA256.HashDataAsync(read)));
        Assert.Equal(total, (await Store.StatAsync("qvp/orders/r1/part-00000.csv.gz"))?.Size);
    }

    [Fact]
    public async Task An_empty_object_reads_back_empty()
    {
        await using (var upload = await Store.BeginUploadAsync("empty.csv.gz"))
            await upload.CompleteAsync();

        Assert.Empty(await Store.GetBytesAsync("empty.csv.gz"));
        Assert.Equal(0, (await Store.StatAsync("empty.csv.gz"))?.Size);
    }

    [Fact]
    public async Task An_object_stays_invisible_until_its_upload_completes()
    {
        await using var upload = await Store.BeginUploadAsync("runs/r1/part-00000.csv.gz");
        await upload.Stream.WriteAsync(new byte[1000]);

        Assert.Null(await Store.StatAsync("runs/r1/part-00000.csv.gz"));
        Assert.Empty(await ListAsync(""));

        await upload.CompleteAsync();
        Assert.Equal(1000, (await Store.StatAsync("runs/r1/part-00000.csv.gz"))?.Size);
        Assert.Equal(["runs/r1/part-00000.csv.gz"], (await ListAsync("")).Select(o => o.Key));
    }

    [Fact]
    public async Task A_small_upload_disposed_without_completing_leaves_no_object()
    {
        await using (var upload = await Store.BeginUploadAsync("runs/r1/part-00001.csv.gz"))
            await upload.Stream.WriteAsync(new byte[10_000]);

        Assert.Null(await Store.StatAsync("runs/r1/part-00001.csv.gz"));
        Assert.Empty(await ListAsync(""));
    }

    [Fact]
    public async Task An_upload_larger_than_a_part_disposed_without_completing_leaves_no_object()
    {
        await using (var upload = await Store.BeginUploadAsync("runs/r1/part-00002.csv.gz"))
        {
            var block = new byte[MiB];
            for (var i = 0; i < 11; i++) await upload.Stream.WriteAsync(block); // > 2 parts of the 5 MiB minimum
        }

        Assert.Null(await Store.StatAsync("runs/r1/part-00002.csv.gz"));
        Assert.Empty(await ListAsync(""));
    }

    [Fact]
    public async Task Completing_an_upload_replaces_the_existing_object()
    {
        await Store.PutBytesAsync("manifest.json", "first"u8.ToArray());
        await Store.PutBytesAsync("manifest.json", "second version"u8.ToArray());

        Assert.Equal("second version"u8.ToArray(), await Store.GetBytesAsync("manifest.json"));
    }

    [Fact]
    public async Task An_upload_stream_closed_by_a_gzip_wrapper_can_still_be_completed()
    {
        const string csv = "id,name\n1,Ada\n2,Grace\n";
        await using (var upload = await Store.BeginUploadAsync("qvp/users/r1/part-00000.csv.gz"))
        {
            // The way the extractor writes: gzip owns (and on dispose closes) the upload stream.
            using (var gzip = new GZipStream(upload.Stream, CompressionLevel.Fastest))
                gzip.Write(Encoding.UTF8.GetBytes(csv));
            await upload.CompleteAsync();
        }

        await using var read = await Store.OpenReadAsync("qvp/users/r1/part-00000.csv.gz");
        await using var gunzip = new GZipStream(read, CompressionMode.Decompress);
        using var text = new StreamReader(gunzip, Encoding.UTF8);
        Assert.Equal(csv, await text.ReadToEndAsync());
    }

    [Fact]
    public async Task Listing_returns_every_key_under_the_prefix_in_key_order_across_pages()
    {
        // More objects than one page (the S3 tests use 7 keys per page), written out of order.
        // Keys are Ferry-shaped (fixed-width part numbers): s3rver lists in the order of its folder walk,
        // not S3's byte order, so keys such as "a", "a-b", "a/b" would list differently there than on
        // real S3. That ordering is covered by the filesystem store's own test.
        var parts = Enumerable.Range(0, 23).Select(i => $"qvp/users/r1/part-{i:D5}.csv.gz").ToList();
        var others = new[] { "qvp/users/r2/part-00000.csv.gz", "qvp/userz/r1/part-00000.csv.gz", "svp/users/r1/part-00000.csv.gz" };
        var shuffled = parts.Concat(["qvp/users/r1/manifest.json"]).Concat(others).ToArray();
        new Random(7).Shuffle(shuffled);
        await Parallel.ForEachAsync(shuffled, new ParallelOptions { MaxDegreeOfParallelism = 4 },
            async (key, ct) => await Store.PutBytesAsync(key, Encoding.UTF8.GetBytes(key), ct));

        var listed = await ListAsync("qvp/users/r1/");

        Assert.Equal(["qvp/users/r1/manifest.json", .. parts], listed.Select(o => o.Key));
        Assert.All(listed, o => Assert.Equal(Encoding.UTF8.GetByteCount(o.Key), o.Size));
        Assert.Equal(25, (await ListAsync("qvp/users/")).Count); // a prefix need not end at a '/'
        Assert.Equal(27, (await ListAsync("")).Count);
    }

    [Fact]
    public async Task Listing_a_prefix_with_no_objects_returns_nothing()
    {
        await Store.PutBytesAsync("qvp/users/r1/manifest.json", "{}"u8.ToArray());

        Assert.Empty(await ListAsync("svp/"));
        Assert.Empty(await ListAsync("qvp/users/r2/"));
    }

    [Fact]
    public async Task Stat_of_a_missing_object_returns_null()
    {
        Assert.Null(await Store.StatAsync("qvp/users/r9/part-00000.csv.gz"));
    }

    [Fact]
    public async Task Opening_a_missing_object_throws_ObjectNotFoundException_naming_the_key()
    {
        var e = await Assert.ThrowsAsync<ObjectNotFoundException>(() => Store.OpenReadAsync("qvp/users/r9/part-00000.csv.gz"));
        Assert.Equal("qvp/users/r9/part-00000.csv.gz", e.Key);
        Assert.Contains("qvp/users/r9/part-00000.csv.gz", e.Message);
    }

    [Fact]
    public async Task A_deleted_object_is_gone_and_deleting_it_again_is_not_an_error()
    {
        await Store.PutBytesAsync("runs/r1/part-00000.csv.gz", new byte[100]);
        await Store.PutBytesAsync("runs/r1/part-00001.csv.gz", new byte[100]);

        await Store.DeleteAsync("runs/r1/part-00000.csv.gz");
        await Store.DeleteAsync("runs/r1/part-00000.csv.gz");

        Assert.Null(await Store.StatAsync("runs/r1/part-00000.csv.gz"));
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => Store.OpenReadAsync("runs/r1/part-00000.csv.gz"));
        Assert.Equal(["runs/r1/part-00001.csv.gz"], (await ListAsync("runs/")).Select(o => o.Key));
    }

    [Theory]
    [InlineData("../outside.csv.gz")]
    [InlineData("runs/../../outside.csv.gz")]
    [InlineData("/etc/passwd")]
    [InlineData("runs//part-00000.csv.gz")]
    [InlineData("runs/./part-00000.csv.gz")]
    [InlineData("runs\\part-00000.csv.gz")]
    [InlineData("runs/")]
    [InlineData("")]
    public async Task Keys_that_are_absolute_climb_out_or_are_not_portable_paths_are_rejected(string key)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Store.BeginUploadAsync(key));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.StatAsync(key));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.OpenReadAsync(key));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.DeleteAsync(key));
    }

    [Fact]
    public void Describe_says_where_the_objects_are()
    {
        Assert.False(string.IsNullOrWhiteSpace(Store.Describe()));
    }

    protected async Task<List<ObjectInfo>> ListAsync(string prefix)
    {
        var result = new List<ObjectInfo>();
        await foreach (var o in Store.ListAsync(prefix)) result.Add(o);
        return result;
    }
}
