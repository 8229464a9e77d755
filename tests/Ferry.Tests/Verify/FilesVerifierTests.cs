using Ferry.Shared.Metadata;
using Ferry.Shared.Stg;
using Ferry.Shared.Storage;
using Ferry.Shared.Verify;
using Ferry.Tests.Files;
using Ferry.Tests.Infrastructure;
using Ferry.Tests.Metadata;
using Ferry.Tests.Stg;
using Ferry.Worker.Verify;

namespace Ferry.Tests.Verify;

/// <summary>verify.files.qvp on a files run made by the real files process, over the filesystem store and a real s3rver.</summary>
public sealed class FilesVerifierTests(S3rver s3) : IClassFixture<S3rver>
{
    private static readonly TimeSpan Old = TimeSpan.FromDays(10);

    private static readonly ObjectReference Attachments = new("unipacc", "attachments", "target_key");

    private ObjectStoreConfig Bucket(string prefix) => new(ObjectStoreKind.S3, Endpoint: s3.Endpoint, Region: s3.Region,
        Bucket: s3.Bucket, AccessKey: s3.AccessKey, SecretKey: s3.SecretKey, Prefix: prefix, Env: "");

    /// <summary>Eight files copied by a bulk run, one deleted in the source (never copied, not checked), one whose source object is gone (its copy failed).</summary>
    private static async Task<(FilesTestBed Bed, FilesDefinition Files, IObjectStore Target, Dictionary<string, byte[]> Contents)> CopiedAsync(string name, ObjectStoreConfig? target = null)
    {
        var bed = await FilesTestBed.CreateAsync(name);
        var files = FilesTestBed.Definition(target: target) with { ReferencedBy = Attachments };
        var source = bed.Store(files.SourceStore);
        var contents = new Dictionary<string, byte[]>();
        for (var i = 0; i < 8; i++) contents[$"uploads/{i}.pdf"] = await bed.AddFileAsync($"uploads/{i}.pdf", 20_000 + 1_001 * i, Old, source);
        await bed.AddFileAsync("uploads/deleted.pdf", 100, Old, store: null, deleted: true);
        var result = await bed.RunAsync(files, RunMode.Bulk, "r1");
        Assert.Equal(8, result.Counts.Copied);
        await StgTestBed.ExecAsync(bed.TargetConnectionString, """
            CREATE SCHEMA unipacc;
            CREATE TABLE unipacc.attachments (id bigint PRIMARY KEY, origin text, target_key text);
            INSERT INTO unipacc.attachments VALUES (1, 'qvp', 'qvp/uploads/0.pdf'), (2, 'qvp', 'qvp/uploads/1.pdf'), (3, 'qvp', NULL);
            """);
        return (bed, files, bed.Store(files.TargetStore), contents);
    }

    private static Task<VerifyResult> VerifyAsync(FilesTestBed bed, FilesDefinition files, params FilesDefinition[] others) =>
        new FilesVerifier(bed.Metadata with { Files = [files, .. others] }).RunAsync(files, CancellationToken.None);

    [Fact]
    public async Task A_clean_copy_verifies_equal_on_the_filesystem_store()
    {
        var (bed, files, _, _) = await CopiedAsync("verify_files_clean");
        await using var _bed = bed;

        var result = await VerifyAsync(bed, files);

        Assert.Equal(VerifyOutcome.Equal, result.Outcome);
        Assert.Equal("verify.files.qvp", result.ProcessId);
        Assert.Empty(result.Items);
        Assert.Equal(8, result.SourceRows);
        Assert.Equal(8, result.TargetRows);
        Assert.Equal("2 unipacc.attachments rows point into qvp/{key}, each at an object", result.Note);
    }

    [Fact]
    public async Task A_changed_byte_a_deleted_object_a_failed_copy_and_a_dangling_attachment_are_each_found_on_the_filesystem_store()
    {
        var (bed, files, target, contents) = await CopiedAsync("verify_files_fs");
        await using var _bed = bed;
        await BreakAsync(bed, files, target, contents);

        var result = await VerifyAsync(bed, files);

        AssertBroken(result, contents);
    }

    [Fact]
    public async Task A_changed_byte_a_deleted_object_a_failed_copy_and_a_dangling_attachment_are_each_found_in_an_s3_bucket()
    {
        var (bed, files, target, contents) = await CopiedAsync("verify_files_s3", Bucket("verify-" + Guid.NewGuid().ToString("N")[..8]));
        await using var _bed = bed;
        Assert.Equal(VerifyOutcome.Equal, (await VerifyAsync(bed, files)).Outcome);
        await BreakAsync(bed, files, target, contents);

        var result = await VerifyAsync(bed, files);

        AssertBroken(result, contents);
    }

    /// <summary>A file whose source object is gone (the files process records its copy as failed), then a byte changed and an object deleted in the target, and an attachment pointing at no object.</summary>
    private static async Task BreakAsync(FilesTestBed bed, FilesDefinition files, IObjectStore target, Dictionary<string, byte[]> contents)
    {
        await bed.AddFileAsync("uploads/lost.pdf", 10, Old, store: null);
        Assert.Equal(1, (await bed.RunAsync(files, RunMode.Incremental, "r2")).Counts.Failed);
        var changed = contents["uploads/2.pdf"].ToArray();
        changed[1234] ^= 0x01;
        await target.PutBytesAsync("qvp/uploads/2.pdf", changed);
        await target.DeleteAsync("qvp/uploads/5.pdf");
        await StgTestBed.ExecAsync(bed.TargetConnectionString, "INSERT INTO unipacc.attachments VALUES (4, 'qvp', 'qvp/uploads/never-copied.pdf')");
    }

    private static void AssertBroken(VerifyResult result, Dictionary<string, byte[]> contents)
    {
        Assert.Equal(VerifyOutcome.Differs, result.Outcome);
        Assert.Equal(
            [(DifferenceKind.Different, "uploads/2.pdf"), (DifferenceKind.Missing, "uploads/5.pdf"), (DifferenceKind.Missing, "uploads/lost.pdf"),
             (DifferenceKind.Extra, "unipacc.attachments id=4")],
            result.Items.Select(i => (i.Kind, i.Item)));
        var changed = result.Items[0];
        Assert.Equal(["checksum"], changed.Columns);
        Assert.Equal("md5:" + FilesTestBed.Md5Hex(contents["uploads/2.pdf"]), changed.Source!["checksum"]);
        Assert.NotEqual(changed.Source["checksum"], changed.Target!["checksum"]);
        Assert.Contains("has no such object", result.Items[1].Detail);
        Assert.Contains("stg.file_copies says failed (source object uploads/lost.pdf not found", result.Items[2].Detail);
        Assert.Equal("qvp/uploads/never-copied.pdf", result.Items[3].Target!["target_key"]);
        Assert.Equal(9, result.SourceRows);
        Assert.Equal(7, result.TargetRows);
    }

    [Fact]
    public async Task A_size_that_differs_from_the_listing_is_reported_with_both_sizes()
    {
        var (bed, files, target, contents) = await CopiedAsync("verify_files_size");
        await using var _bed = bed;
        await target.PutBytesAsync("qvp/uploads/3.pdf", contents["uploads/3.pdf"][..100]);

        var item = Assert.Single((await VerifyAsync(bed, files)).Items);

        Assert.Equal((DifferenceKind.Different, "uploads/3.pdf"), (item.Kind, item.Item));
        Assert.Equal(["size"], item.Columns);
        Assert.Equal(contents["uploads/3.pdf"].Length.ToString(System.Globalization.CultureInfo.InvariantCulture), item.Source!["size"]);
        Assert.Equal("100", item.Target!["size"]);
    }

    [Fact]
    public async Task Two_files_processes_naming_the_same_bl_column_each_report_only_the_rows_in_their_own_layout()
    {
        var (bed, qvp, _, _) = await CopiedAsync("verify_files_two");
        await using var _bed = bed;
        await StgTestBed.ExecAsync(bed.TargetConnectionString,
            "INSERT INTO unipacc.attachments VALUES (10, 'qvp', 'qvp/gone.pdf'), (11, 'svp', 'svp/gone.pdf'), (12, 'svp', 'qvp_/odd')");
        var svp = qvp with { Name = "svp", TargetKeyTemplate = "svp/{key}" };
        // A catch-all layout: it must leave the rows of the more specific qvp/ and svp/ layouts to them.
        var any = qvp with { Name = "any", TargetKeyTemplate = "{key}" };

        var fromQvp = await VerifyAsync(bed, qvp, svp, any);
        var fromSvp = await VerifyAsync(bed, svp, qvp, any);
        var fromAny = await VerifyAsync(bed, any, qvp, svp);

        string[] Extra(VerifyResult r) => [.. r.Items.Where(i => i.Kind == DifferenceKind.Extra).Select(i => i.Item)];
        Assert.Equal(["unipacc.attachments id=10"], Extra(fromQvp));
        Assert.Equal(["unipacc.attachments id=11"], Extra(fromSvp));
        Assert.Equal(["unipacc.attachments id=12"], Extra(fromAny));
    }

    [Fact]
    public async Task A_listing_table_that_is_not_there_fails_the_check_naming_the_table_and_the_cause()
    {
        var (bed, files, _, _) = await CopiedAsync("verify_files_no_table");
        await using var _bed = bed;

        var result = await VerifyAsync(bed, files with { Table = "no_such_listing" });

        Assert.Equal(VerifyOutcome.Failed, result.Outcome);
        Assert.StartsWith("verify.files.qvp: read public.no_such_listing on qvp", result.Error);
        Assert.Contains("relation \"public.no_such_listing\" does not exist", result.Error);
    }

    private const string QvpYaml = """
        source: qvp
        table: public.file_storage
        columns: { key: object_key, size: size_bytes, created_at: created_at }
        source_store: { kind: filesystem, path: buckets/qvp }
        target_store: { kind: filesystem, path: buckets/unipacc }
        target_key: "qvp/{key}"
        """;

    [Fact]
    public void Referenced_by_names_the_bl_column_and_a_malformed_one_is_reported_with_file_and_line()
    {
        using var folder = new MetadataFolder();
        folder.Write("files/qvp.yaml", QvpYaml + "\nreferenced_by: unipacc.attachments.target_key\n");
        var bad = folder.Write("files/svp.yaml", QvpYaml.Replace("source: qvp", "source: svp", StringComparison.Ordinal) + "\nreferenced_by: attachments.target_key\n");

        var e = Assert.Throws<MetadataException>(() => MetadataLoader.Load(folder.Root));
        Assert.Contains($"{bad}:7:16: 'referenced_by' must be schema.table.column", e.Message);

        File.Delete(bad);
        Assert.Equal(Attachments, Assert.Single(MetadataLoader.Load(folder.Root).Files).ReferencedBy);
    }
}
