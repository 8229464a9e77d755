using Ferry.Shared.Metadata;
using Ferry.Shared.Storage;

namespace Ferry.Tests.Storage;

public sealed class ObjectStoreFactoryTests : IDisposable
{
    private readonly string _metadataDir = Path.Combine(Path.GetTempPath(), $"ferry-test-factory-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_metadataDir)) Directory.Delete(_metadataDir, recursive: true);
    }

    [Fact]
    public async Task A_relative_filesystem_path_is_taken_relative_to_the_metadata_folder_and_keys_go_under_prefix_and_env()
    {
        var store = ObjectStoreFactory.Create(new ObjectStoreConfig(ObjectStoreKind.Filesystem, Path: "../extracts", Prefix: "ferry", Env: "dev"),
            Path.Combine(_metadataDir, "metadata"));

        await store.PutBytesAsync("qvp/users/r1/manifest.json", "{}"u8.ToArray());

        Assert.True(File.Exists(Path.Combine(_metadataDir, "extracts", "ferry", "dev", "qvp", "users", "r1", "manifest.json")));
        Assert.Contains(Path.Combine(_metadataDir, "extracts", "ferry", "dev"), store.Describe());
    }

    [Fact]
    public void An_absolute_filesystem_path_ignores_the_base_directory()
    {
        var store = (FileSystemObjectStore)ObjectStoreFactory.Create(new ObjectStoreConfig(ObjectStoreKind.Filesystem, Path: _metadataDir, Prefix: "", Env: "prod"), "/somewhere/else");

        Assert.Equal(Path.Combine(_metadataDir, "prod"), store.BaseDirectory);
    }

    [Theory]
    [InlineData(null, "eu-frankfurt-1", "extracts", "endpoint")]
    [InlineData("https://ns.compat.objectstorage.eu-frankfurt-1.oraclecloud.com", null, "extracts", "region")]
    [InlineData("https://ns.compat.objectstorage.eu-frankfurt-1.oraclecloud.com", "eu-frankfurt-1", null, "bucket")]
    public void An_S3_config_missing_a_required_setting_says_which(string? endpoint, string? region, string? bucket, string missing)
    {
        var config = new ObjectStoreConfig(ObjectStoreKind.S3, Endpoint: endpoint, Region: region, Bucket: bucket,
            AccessKey: new SecretRef("FERRY_TEST_NEVER_SET_A"), SecretKey: new SecretRef("FERRY_TEST_NEVER_SET_B"));

        var e = Assert.Throws<ArgumentException>(() => ObjectStoreFactory.Create(config));

        Assert.Contains(missing, e.Message);
    }

    [Fact]
    public void A_filesystem_config_without_a_path_is_rejected()
    {
        var e = Assert.Throws<ArgumentException>(() => ObjectStoreFactory.Create(new ObjectStoreConfig(ObjectStoreKind.Filesystem)));

        Assert.Contains("path", e.Message);
    }
}
