using Amazon.Runtime;
using Amazon.S3;
using Ferry.Shared.Files;
using Ferry.Shared.Metadata;
using Ferry.Shared.Stg;
using Ferry.Shared.Storage;
using Ferry.Tests.Infrastructure;

namespace Ferry.Tests.Files;

/// <summary>Files between a real s3rver and the filesystem, both ways, and between two buckets of one s3rver (server-side copy).</summary>
public sealed class FilesOverS3Tests(S3rver s3) : IClassFixture<S3rver>
{
    private static readonly TimeSpan Old = TimeSpan.FromDays(10);

    private ObjectStoreConfig Bucket(string prefix, string? bucket = null) => new(ObjectStoreKind.S3, Endpoint: s3.Endpoint, Region: s3.Region,
        Bucket: bucket ?? s3.Bucket, AccessKey: s3.AccessKey, SecretKey: s3.SecretKey, Prefix: prefix, Env: "");

    private async Task CreateBucketAsync(string name)
    {
        using var client = new AmazonS3Client(new BasicAWSCredentials("S3RVER", "S3RVER"),
            new AmazonS3Config { ServiceURL = s3.Endpoint, ForcePathStyle = true, AuthenticationRegion = s3.Region });
        await client.PutBucketAsync(name);
    }

    [Fact]
    public async Task Files_go_from_the_filesystem_to_S3_verified_and_a_rerun_skips_them()
    {
        await using var bed = await FilesTestBed.CreateAsync("files_fs_s3");
        var files = FilesTestBed.Definition(target: Bucket("fs-to-s3"));
        var source = bed.Store(files.SourceStore);
        var target = bed.Store(files.TargetStore);
        var contents = new Dictionary<string, byte[]>();
        for (var i = 0; i < 15; i++) contents[$"uploads/{i}.pdf"] = await bed.AddFileAsync($"uploads/{i}.pdf", 10_000 + 3_001 * i, Old, source);
        contents["legacy/1/résumé – final (v2).docx"] = await bed.AddFileAsync("legacy/1/résumé – final (v2).docx", 777, Old, source);

        var first = await bed.RunAsync(files, RunMode.Bulk, "r1");
        var again = await bed.RunAsync(files, RunMode.Bulk, "r2");

        Assert.Equal(new FileCopyCounts(16, 0, 0), first.Counts);
        Assert.Equal(new FileCopyCounts(0, 16, 0), again.Counts);
        foreach (var (key, bytes) in contents) await FilesTestBed.AssertHoldsAsync(target, "qvp/" + key, bytes);
        Assert.All(await bed.CopiesAsync(), r => Assert.Equal(("copied", "r1"), (r.Status, r.RunId)));
    }

    [Fact]
    public async Task Files_go_from_S3_to_the_filesystem_and_a_missing_object_fails_only_itself()
    {
        await using var bed = await FilesTestBed.CreateAsync("files_s3_fs");
        var files = FilesTestBed.Definition(source: Bucket("s3-to-fs"));
        var source = bed.Store(files.SourceStore);
        var target = bed.Store(files.TargetStore);
        var kept = new Dictionary<string, byte[]>();
        for (var i = 0; i < 8; i++) kept[$"r/{i}"] = await bed.AddFileAsync($"r/{i}", 50_000 + i, Old, source);
        await bed.AddFileAsync("r/missing", 10, Old, store: null);

        var result = await bed.RunAsync(files, RunMode.Bulk, "r1");

        Assert.Equal(new FileCopyCounts(8, 0, 1), result.Counts);
        Assert.Contains("r/missing not found", Assert.Single(result.Failures).Error);
        foreach (var (key, bytes) in kept) await FilesTestBed.AssertHoldsAsync(target, "qvp/" + key, bytes);
        Assert.Equal("failed", (await bed.CopyAsync("r/missing")).Status);
    }

    [Fact]
    public async Task Between_two_buckets_of_one_endpoint_files_are_copied_server_side_and_verified()
    {
        await using var bed = await FilesTestBed.CreateAsync("files_s3_s3");
        await CreateBucketAsync("qvp-uploads");
        var files = FilesTestBed.Definition(source: Bucket("", "qvp-uploads"), target: Bucket("unified"));
        var source = bed.Store(files.SourceStore);
        var target = bed.Store(files.TargetStore);
        Assert.True(((IServerSideCopy)target).CanCopyFrom(source));
        var kept = new Dictionary<string, byte[]>();
        for (var i = 0; i < 10; i++) kept[$"u/{i}.jpg"] = await bed.AddFileAsync($"u/{i}.jpg", 20_000 + 17 * i, Old, source);
        await bed.AddFileAsync("u/wrong-checksum.jpg", 1234, Old, source, checksum: new string('a', 32));
        await bed.AddFileAsync("u/missing.jpg", 1234, Old, store: null);

        var first = await bed.RunAsync(files, RunMode.Bulk, "r1");
        var again = await bed.RunAsync(files, RunMode.Incremental, "r2");

        Assert.Equal(new FileCopyCounts(10, 0, 2), first.Counts);
        Assert.Contains("checksum mismatch", first.Failures.Single(f => f.SourceKey == "u/wrong-checksum.jpg").Error);
        Assert.Contains("u/missing.jpg not found", first.Failures.Single(f => f.SourceKey == "u/missing.jpg").Error);
        // The server-side copy of the wrong object was removed, not left where the layout says a verified one lives.
        Assert.Null(await target.StatAsync("qvp/u/wrong-checksum.jpg"));
        foreach (var (key, bytes) in kept) await FilesTestBed.AssertHoldsAsync(target, "qvp/" + key, bytes);
        Assert.Equal(new FileCopyCounts(0, 0, 2), again.Counts); // failures retried; copied files outside the window untouched
        Assert.Equal(2, (await bed.CopyAsync("u/missing.jpg")).Attempts);
    }

    [Fact]
    public async Task Stores_on_another_endpoint_or_with_other_credentials_are_not_copied_server_side()
    {
        using var a = (S3ObjectStore)ObjectStoreFactory.Create(Bucket("a"));
        using var other = new S3ObjectStore(s3.StoreOptions("b") with { Endpoint = "http://127.0.0.1:1" });
        Environment.SetEnvironmentVariable("FERRY_TEST_FILES_OTHER_KEY", "someone-else");
        using var otherKey = new S3ObjectStore(s3.StoreOptions("c") with { AccessKey = new SecretRef("FERRY_TEST_FILES_OTHER_KEY") });

        Assert.False(a.CanCopyFrom(other));
        Assert.False(a.CanCopyFrom(otherKey));
        Assert.False(a.CanCopyFrom(new FileSystemObjectStore(Path.GetTempPath())));
        Assert.True(a.CanCopyFrom(new S3ObjectStore(s3.StoreOptions("d"))));
    }
}
