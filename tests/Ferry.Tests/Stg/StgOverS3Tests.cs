using Ferry.Shared.Metadata;
using Ferry.Shared.Stg;
using Ferry.Shared.Storage;
using Ferry.Tests.Infrastructure;
using Ferry.Worker.Stg;

namespace Ferry.Tests.Stg;

/// <summary>The same data path with its files in a real S3-compatible server instead of a folder.</summary>
public sealed class StgOverS3Tests(S3rver s3) : IClassFixture<S3rver>
{
    [Fact]
    public async Task A_bulk_then_incremental_run_through_an_S3_store_makes_STG_equal_to_the_source()
    {
        await using var bed = await StgTestBed.CreateAsync("s3path");
        // Rows of ~1 KB, so the part is larger than one 5 MiB upload part and goes up as a multipart upload.
        await bed.ExecSourceAsync("CREATE TABLE docs (id int PRIMARY KEY, body text); INSERT INTO docs SELECT g, (SELECT string_agg(md5(g::text || '-' || k), '') FROM generate_series(1, 32) k) FROM generate_series(1, 20000) g");
        var config = new ObjectStoreConfig(ObjectStoreKind.S3, Endpoint: s3.Endpoint, Region: s3.Region, Bucket: s3.Bucket,
            AccessKey: s3.AccessKey, SecretKey: s3.SecretKey, Prefix: "ferry", Env: "test");
        var store = ObjectStoreFactory.Create(config);
        var table = StgTestBed.Table("docs", ["id"]);
        var metadata = bed.Metadata(table) with { ObjectStore = config };
        var process = new StgProcess(metadata, store);

        var bulk = await process.RunAsync(table, RunMode.Bulk);
        await bed.ExecSourceAsync("UPDATE docs SET body = 'changed' WHERE id <= 10; DELETE FROM docs WHERE id > 19990");
        var again = await process.RunAsync(table, RunMode.Incremental);

        Assert.Equal(new MergeCounts(20000, 0, 0, 0), bulk.Counts);
        Assert.Equal(new MergeCounts(0, 10, 10, 19980), again.Counts);
        Assert.True(bulk.BytesStored > 5 * 1024 * 1024, $"{bulk.BytesStored} bytes stored");
        await bed.AssertStgEqualsSourceAsync("docs", "src_docs", ["id", "body"], "id");
        Assert.Equal([bulk.RunId, again.RunId], await process.ListRunsAsync(table));
        var replay = await process.ReplayAsync(table, again.RunId);
        Assert.Equal(new MergeCounts(0, 0, 0, 19990), replay.Counts);
    }
}
