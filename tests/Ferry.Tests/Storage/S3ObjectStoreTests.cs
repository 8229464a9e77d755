using Ferry.Shared.Metadata;
using Ferry.Shared.Storage;
using Ferry.Tests.Infrastructure;

namespace Ferry.Tests.Storage;

/// <summary>
/// The object-store contract on the S3 store against a real s3rver, with S3's smallest part size
/// (5 MiB, so the 40 MiB test sends 9 parts through the bounded pipeline) and 7 keys per list page
/// (so every listing test pages).
/// </summary>
public sealed class S3ObjectStoreTests : ObjectStoreContract, IClassFixture<S3rver>, IDisposable
{
    private readonly S3rver _server;
    private readonly S3ObjectStore _store;

    public S3ObjectStoreTests(S3rver server)
    {
        _server = server;
        _store = new S3ObjectStore(server.StoreOptions($"t-{Guid.NewGuid():N}") with
        {
            PartSize = S3ObjectStoreOptions.MinPartSize,
            ListPageSize = 7,
        });
    }

    protected override IObjectStore Store => _store;

    public void Dispose() => _store.Dispose();

    [Fact]
    public async Task A_rejected_credential_fails_with_a_message_that_names_the_store_but_no_credential()
    {
        // s3rver checks the access key id but not V4 signatures, so the key id is the wrong one here;
        // neither value may leak into messages.
        var accessKey = $"WRONGKEY{Guid.NewGuid():N}".ToUpperInvariant();
        var secret = $"not-the-secret-{Guid.NewGuid():N}";
        var accessVariable = $"FERRY_TEST_WRONG_ACCESS_{Guid.NewGuid():N}";
        var secretVariable = $"FERRY_TEST_WRONG_SECRET_{Guid.NewGuid():N}";
        Environment.SetEnvironmentVariable(accessVariable, accessKey);
        Environment.SetEnvironmentVariable(secretVariable, secret);
        try
        {
            using var store = new S3ObjectStore(_server.StoreOptions("wrong") with
            {
                AccessKey = new SecretRef(accessVariable),
                SecretKey = new SecretRef(secretVariable),
            });

            var write = await Assert.ThrowsAsync<IOException>(() => store.PutBytesAsync("manifest.json", "{}"u8.ToArray()));
            var read = await Assert.ThrowsAsync<IOException>(() => store.OpenReadAsync("manifest.json"));

            Assert.Contains("403", write.Message);
            Assert.Contains(_server.Bucket, write.Message);
            Assert.Contains("manifest.json", read.Message);
            foreach (var text in new[] { write.Message, read.Message, write.ToString(), read.ToString(), store.Describe() })
            {
                Assert.DoesNotContain(secret, text);
                Assert.DoesNotContain(accessKey, text);
            }
        }
        finally
        {
            Environment.SetEnvironmentVariable(accessVariable, null);
            Environment.SetEnvironmentVariable(secretVariable, null);
        }
    }

    [Fact]
    public void An_unset_credential_variable_is_named_in_the_error()
    {
        var variable = $"FERRY_TEST_UNSET_{Guid.NewGuid():N}";

        var e = Assert.Throws<InvalidOperationException>(() => new S3ObjectStore(_server.StoreOptions("unset") with { AccessKey = new SecretRef(variable) }));

        Assert.Contains(variable, e.Message);
    }

    [Fact]
    public void A_part_size_below_the_S3_minimum_is_rejected()
    {
        var e = Assert.Throws<ArgumentException>(() => new S3ObjectStore(_server.StoreOptions("small") with { PartSize = 1024 * 1024 }));

        Assert.Contains("minimum", e.Message);
    }

    [Fact]
    public async Task The_factory_builds_an_S3_store_that_keeps_each_environment_under_its_own_prefix()
    {
        var run = $"f-{Guid.NewGuid():N}";
        var config = new ObjectStoreConfig(ObjectStoreKind.S3, Endpoint: _server.Endpoint, Region: _server.Region, Bucket: _server.Bucket,
            AccessKey: _server.AccessKey, SecretKey: _server.SecretKey, Prefix: run, Env: "dev");
        var store = ObjectStoreFactory.Create(config);
        await store.PutBytesAsync("qvp/users/r1/manifest.json", "{}"u8.ToArray());

        using var bucket = new S3ObjectStore(_server.StoreOptions(""));
        var keys = new List<string>();
        await foreach (var o in bucket.ListAsync(run + "/")) keys.Add(o.Key);

        Assert.Equal([$"{run}/dev/qvp/users/r1/manifest.json"], keys);
        Assert.Contains(_server.Bucket, store.Describe());
        Assert.Contains($"{run}/dev", store.Describe());
        (store as IDisposable)?.Dispose();
    }
}
