using Ferry.Shared.Metadata;
using Ferry.Tests.Metadata;

namespace Ferry.Tests.Files;

public sealed class FilesMetadataTests
{
    private const string Qvp = """
        source: qvp
        table: public.file_storage
        columns:
          key: object_key
          size: size_bytes
          checksum: checksum_md5
          created_at: created_at
          deleted: deleted_at
        source_store: { kind: filesystem, path: buckets/qvp }
        target_store: { kind: filesystem, path: buckets/unipacc }
        target_key: "qvp/{key}"
        """;

    [Fact]
    public void A_files_yaml_becomes_the_process_files_name_with_defaults_after_tables_and_transforms()
    {
        using var folder = new MetadataFolder();
        folder.Write("tables/qvp/users.yaml", "source: qvp\ntable: public.users\nkey: [id]\ncdc: { mode: full }\n");
        var file = folder.Write("files/qvp.yaml", Qvp);

        var metadata = MetadataLoader.Load(folder.Root);

        var files = Assert.Single(metadata.Files);
        Assert.Same(files, metadata.FindFiles("files.qvp"));
        Assert.Equal(["stg.qvp.users", "files.qvp", "verify.qvp.users", "verify.files.qvp"], metadata.ProcessIds);
        Assert.Equal(("qvp", "public", "file_storage", file), (files.Source, files.Schema, files.Table, files.File));
        Assert.Equal(("object_key", "size_bytes", "checksum_md5", ChecksumFormat.Md5Hex, "created_at", "deleted_at"),
            (files.KeyColumn, files.SizeColumn, files.ChecksumColumn, files.ChecksumFormat, files.CreatedAtColumn, files.DeletedColumn));
        Assert.Equal((2, 8), (files.WindowDays, files.Parallelism));
        Assert.Equal("qvp/uploads/1.pdf", files.TargetKeyOf("uploads/1.pdf"));
        // Relative to the folder that holds metadata/, with no prefix or env added to the source application's keys.
        Assert.Equal(new ObjectStoreConfig(ObjectStoreKind.Filesystem, Path.Combine(folder.Project, "buckets", "qvp"), Prefix: "", Env: ""), files.SourceStore);
    }

    [Fact]
    public void Mistakes_in_a_files_yaml_are_reported_together_with_file_and_line()
    {
        using var folder = new MetadataFolder();
        var file = folder.Write("files/svp.yaml", """
            source: nope
            table: public.active_storage_blobs
            columns:
              key: key
              size: byte_size
              checksum: checksum
              checksum_format: md5_b64
              created_at: created_at
            source_store: { kind: s3, bucket: svp, path: x }
            target_store: { kind: filesystem, path: out }
            target_key: "svp/{id}"
            paralelism: 4
            """);

        var e = Assert.Throws<MetadataException>(() => MetadataLoader.Load(folder.Root));

        Assert.Contains($"{file}:1:9: unknown source 'nope' (connections.yaml defines: qvp, svp)", e.Message);
        Assert.Contains($"{file}:7:20: invalid checksum format 'md5_b64' (expected one of: md5_hex, md5_base64)", e.Message);
        Assert.Contains($"{file}:9:40: 'source_store.path' applies only to kind filesystem", e.Message);
        Assert.Contains($"{file}:11:13: 'target_key' has an unknown placeholder {{id}}", e.Message);
        Assert.Contains($"{file}:12:1: unknown key 'paralelism' (did you mean 'parallelism'?", e.Message);
    }

    [Fact]
    public void The_shipped_metadata_defines_files_qvp_and_files_svp()
    {
        var metadata = MetadataLoader.Load(Path.Combine(AppContext.BaseDirectory, "metadata"));

        Assert.Equal(["files.qvp", "files.svp"], metadata.Files.Select(f => f.ProcessId));
        Assert.Equal(["files.qvp", "files.svp"], metadata.ProcessIds.Where(id => id.StartsWith("files.", StringComparison.Ordinal)));
        var svp = metadata.FindFiles("files.svp")!;
        Assert.Equal((ChecksumFormat.Md5Base64, "public.active_storage_blobs", (string?)null), (svp.ChecksumFormat, svp.ListingTable, svp.DeletedColumn));
        Assert.Equal(metadata.FindFiles("files.qvp")!.TargetStore, svp.TargetStore);
    }
}
