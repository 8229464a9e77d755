using System.IO.Compression;
using Ferry.Shared.Stg;
using Ferry.Worker.Stg;

namespace Ferry.Tests.Stg;

public class StgFailureTests
{
    private static async Task<(StgTestBed Bed, Ferry.Shared.Metadata.SourceTable Table, StgProcess Process)> LoadedAsync(string name)
    {
        var bed = await StgTestBed.CreateAsync(name);
        await bed.ExecSourceAsync("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, repeat('x', g % 50) FROM generate_series(1, 5000) g");
        var table = StgTestBed.Table("t", ["id"]);
        var process = bed.Process(table);
        await process.RunAsync(table, RunMode.Bulk);
        await bed.ExecSourceAsync("UPDATE t SET v = 'changed' WHERE id <= 100; DELETE FROM t WHERE id > 4900");
        return (bed, table, process);
    }

    private static Task<List<string?[]>> StgSnapshotAsync(StgTestBed bed) =>
        StgTestBed.RowsAsync(bed.TargetConnectionString, "SELECT id::text, v, stg_row_hash::text, stg_deleted_at::text, stg_run_id FROM stg.src_t ORDER BY id");

    private static string PartPath(StgTestBed bed, Manifest m, string part) =>
        Path.Combine(bed.StoreRoot, "ferry", "test", "src", "t", m.RunId, part);

    [Fact]
    public async Task A_corrupt_part_fails_the_load_with_its_name_and_leaves_STG_untouched()
    {
        var (bed, table, process) = await LoadedAsync("corrupt");
        await using var _ = bed;
        var manifest = await process.ExtractAsync(table, RunMode.Bulk, RunLayout.NewRunId(DateTimeOffset.UtcNow));
        var before = await StgSnapshotAsync(bed);
        var path = PartPath(bed, manifest, "part-00000.csv.gz");
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[bytes.Length / 2] ^= 0x5a;
        await File.WriteAllBytesAsync(path, bytes);

        var error = await Assert.ThrowsAsync<LoadFailedException>(() => process.ReplayAsync(table, manifest.RunId));

        Assert.Contains("stg.src.t: load failed: part-00000.csv.gz", error.Message);
        Assert.Contains("STG unchanged", error.Message);
        Assert.Equal(before, await StgSnapshotAsync(bed));
    }

    [Fact]
    public async Task A_truncated_part_fails_the_load_and_leaves_STG_untouched()
    {
        var (bed, table, process) = await LoadedAsync("truncated");
        await using var _ = bed;
        var manifest = await process.ExtractAsync(table, RunMode.Bulk, RunLayout.NewRunId(DateTimeOffset.UtcNow));
        var before = await StgSnapshotAsync(bed);
        var path = PartPath(bed, manifest, "part-00000.csv.gz");
        var bytes = await File.ReadAllBytesAsync(path);
        await File.WriteAllBytesAsync(path, bytes[..(bytes.Length * 2 / 3)]);

        var error = await Assert.ThrowsAsync<LoadFailedException>(() => process.ReplayAsync(table, manifest.RunId));

        Assert.Contains("part-00000.csv.gz", error.Message);
        Assert.Equal(before, await StgSnapshotAsync(bed));
    }

    [Fact]
    public async Task A_well_formed_part_with_fewer_rows_than_the_manifest_is_reported_as_truncated()
    {
        var (bed, table, process) = await LoadedAsync("shortrows");
        await using var _ = bed;
        var manifest = await process.ExtractAsync(table, RunMode.Bulk, RunLayout.NewRunId(DateTimeOffset.UtcNow));
        var before = await StgSnapshotAsync(bed);
        // Rewrite the part without its last 10 rows and fix up the manifest's checksum: only the row count can tell.
        var path = PartPath(bed, manifest, "part-00000.csv.gz");
        string[] lines;
        await using (var gz = new GZipStream(File.OpenRead(path), CompressionMode.Decompress))
        using (var reader = new StreamReader(gz))
            lines = (await reader.ReadToEndAsync()).TrimEnd('\n').Split('\n');
        await using (var gz = new GZipStream(File.Create(path), CompressionLevel.Fastest))
        await using (var writer = new StreamWriter(gz))
            await writer.WriteAsync(string.Join('\n', lines[..^10]) + "\n");
        var newBytes = await File.ReadAllBytesAsync(path);
        var sha = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(newBytes)).ToLowerInvariant();
        var fixedManifest = manifest with { Parts = [manifest.Parts[0] with { Bytes = newBytes.Length, Sha256 = sha }] };
        await File.WriteAllBytesAsync(PartPath(bed, manifest, Manifest.FileName), fixedManifest.ToJson());

        var error = await Assert.ThrowsAsync<LoadFailedException>(() => process.ReplayAsync(table, manifest.RunId));

        Assert.Contains($"part-00000.csv.gz is truncated (expected {manifest.Parts[0].Rows:N0} rows, read {manifest.Parts[0].Rows - 10:N0})", error.Message);
        Assert.Equal(before, await StgSnapshotAsync(bed));
    }

    [Fact]
    public async Task A_missing_part_fails_the_load_and_a_later_good_run_still_succeeds()
    {
        var (bed, table, process) = await LoadedAsync("missing");
        await using var _ = bed;
        var manifest = await process.ExtractAsync(table, RunMode.Bulk, RunLayout.NewRunId(DateTimeOffset.UtcNow));
        File.Delete(PartPath(bed, manifest, "part-00000.csv.gz"));

        var error = await Assert.ThrowsAsync<LoadFailedException>(() => process.ReplayAsync(table, manifest.RunId));
        Assert.Contains("missing", error.Message);

        var good = await process.RunAsync(table, RunMode.Bulk);
        Assert.Equal(new MergeCounts(0, 100, 100, 4800), good.Counts);
        await bed.AssertStgEqualsSourceAsync("t", "src_t", ["id", "v"], "id");
    }

    [Fact]
    public async Task A_new_source_column_is_added_to_STG_and_a_safe_widening_is_applied()
    {
        await using var bed = await StgTestBed.CreateAsync("drift");
        await bed.ExecSourceAsync("CREATE TABLE d (id int PRIMARY KEY, n integer, s varchar(10)); INSERT INTO d VALUES (1, 1, 'a'), (2, 2, 'b')");
        var table = StgTestBed.Table("d", ["id"]);
        var process = bed.Process(table);
        await process.RunAsync(table, RunMode.Bulk);

        await bed.ExecSourceAsync("ALTER TABLE d ADD COLUMN extra jsonb; ALTER TABLE d ALTER COLUMN n TYPE bigint; ALTER TABLE d ALTER COLUMN s TYPE varchar(20); UPDATE d SET extra = '{\"k\": 1}' WHERE id = 1");
        var run = await process.RunAsync(table, RunMode.Bulk);

        Assert.Contains("added column extra jsonb", run.SchemaChanges);
        Assert.Contains("widened column n from integer to bigint", run.SchemaChanges);
        await bed.AssertStgEqualsSourceAsync("d", "src_d", ["id", "n", "s", "extra"], "id");
    }

    [Fact]
    public async Task An_incompatible_type_change_stops_that_table_with_a_clear_message_and_STG_keeps_its_rows()
    {
        await using var bed = await StgTestBed.CreateAsync("driftbad");
        await bed.ExecSourceAsync("CREATE TABLE d (id int PRIMARY KEY, v text); INSERT INTO d VALUES (1, '1'), (2, '2')");
        var table = StgTestBed.Table("d", ["id"]);
        var process = bed.Process(table);
        await process.RunAsync(table, RunMode.Bulk);

        await bed.ExecSourceAsync("ALTER TABLE d ALTER COLUMN v TYPE integer USING v::integer");
        var error = await Assert.ThrowsAsync<SchemaDriftException>(() => process.RunAsync(table, RunMode.Bulk));

        Assert.Contains("stg.src.d: incompatible schema change in public.d: column v changed type from text to integer", error.Message);
        Assert.Equal(2L, await StgTestBed.ScalarAsync<long>(bed.TargetConnectionString, "SELECT count(*) FROM stg.src_d"));
    }

    [Fact]
    public async Task A_missing_source_table_fails_the_extract_naming_process_and_table()
    {
        await using var bed = await StgTestBed.CreateAsync("notable");
        var table = StgTestBed.Table("nope", ["id"]);
        var error = await Assert.ThrowsAsync<StepFailedException>(() => bed.Process(table).RunAsync(table, RunMode.Bulk));
        Assert.StartsWith("stg.src.nope: extract failed: table public.nope was not found", error.Message);
    }

    [Fact]
    public async Task A_corrupt_part_in_a_first_load_of_many_parts_leaves_STG_empty()
    {
        await using var bed = await StgTestBed.CreateAsync("corruptfirst");
        await bed.ExecSourceAsync("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 20000) g; ANALYZE t");
        var table = StgTestBed.Table("t", ["id"], chunking: new Ferry.Shared.Metadata.ChunkingSpec(ThresholdRows: 1000, RowsPerChunk: 4000, Parallelism: 2));
        var process = bed.Process(table);
        var manifest = await process.ExtractAsync(table, RunMode.Bulk, RunLayout.NewRunId(DateTimeOffset.UtcNow));
        Assert.Equal(5, manifest.Parts.Count);
        var path = PartPath(bed, manifest, "part-00003.csv.gz");
        var bytes = await File.ReadAllBytesAsync(path);
        await File.WriteAllBytesAsync(path, bytes[..(bytes.Length / 2)]);

        var error = await Assert.ThrowsAsync<LoadFailedException>(() => process.ReplayAsync(table, manifest.RunId));

        Assert.Contains("part-00003.csv.gz", error.Message);
        Assert.Equal(0L, await StgTestBed.ScalarAsync<long>(bed.TargetConnectionString, "SELECT count(*) FROM stg.src_t"));
    }

    [Fact]
    public async Task A_truncated_manifest_fails_the_replay_in_one_line_naming_process_and_manifest_and_STG_is_untouched()
    {
        var (bed, table, process) = await LoadedAsync("badmanifest");
        await using var _ = bed;
        var manifest = await process.ExtractAsync(table, RunMode.Bulk, RunLayout.NewRunId(DateTimeOffset.UtcNow));
        var before = await StgSnapshotAsync(bed);
        var path = PartPath(bed, manifest, Manifest.FileName);
        var bytes = await File.ReadAllBytesAsync(path);
        await File.WriteAllBytesAsync(path, bytes[..(bytes.Length / 2)]);

        var error = await Assert.ThrowsAsync<LoadFailedException>(() => process.ReplayAsync(table, manifest.RunId));

        Assert.StartsWith($"stg.src.t: load failed: src/t/{manifest.RunId}/manifest.json in filesystem ", error.Message);
        Assert.Contains("is not a valid manifest: cut short or corrupt JSON at line ", error.Message);
        Assert.EndsWith("; STG unchanged", error.Message);
        Assert.DoesNotContain('\n', error.Message);
        Assert.Equal(before, await StgSnapshotAsync(bed));
    }

    [Fact]
    public async Task An_empty_manifest_is_reported_as_empty()
    {
        await using var bed = await StgTestBed.CreateAsync("emptymanifest");
        await bed.ExecSourceAsync("CREATE TABLE t (id int PRIMARY KEY)");
        var table = StgTestBed.Table("t", ["id"]);
        var process = bed.Process(table);
        var manifest = await process.ExtractAsync(table, RunMode.Bulk, RunLayout.NewRunId(DateTimeOffset.UtcNow));
        await File.WriteAllBytesAsync(PartPath(bed, manifest, Manifest.FileName), []);

        var error = await Assert.ThrowsAsync<LoadFailedException>(() => process.ReplayAsync(table, manifest.RunId));

        Assert.Contains("manifest.json in filesystem ", error.Message);
        Assert.EndsWith("is not a valid manifest: the file is empty; STG unchanged", error.Message);
    }

    [Fact]
    public async Task A_cdc_column_missing_from_the_source_names_process_and_step_once()
    {
        await using var bed = await StgTestBed.CreateAsync("nocolumn");
        await bed.ExecSourceAsync("CREATE TABLE t (id int PRIMARY KEY, v text)");
        var table = StgTestBed.Table("t", ["id"], cdc: new Ferry.Shared.Metadata.CdcSpec(Ferry.Shared.Metadata.CdcMode.Window, ["updated_at"]));

        var error = await Assert.ThrowsAsync<StepFailedException>(() => bed.Process(table).RunAsync(table, RunMode.Incremental));

        const string expected = "stg.src.t: extract failed: column(s) updated_at named in metadata do not exist in public.t";
        Assert.Equal(expected, error.Message);
        // The process actor wraps the step's failure once more, for its supervisor's log.
        Assert.Equal(expected, new StepFailedException("stg.src.t", "extracting", error).Message);
    }

    [Fact]
    public async Task An_unknown_source_host_is_named_in_the_extract_failure()
    {
        await using var bed = await StgTestBed.CreateAsync("nohost");
        var table = StgTestBed.Table("t", ["id"]);
        var source = bed.Source with { Host = "ferry-test-no-such-host.invalid" };
        var metadata = bed.Metadata(table) with { Sources = new Dictionary<string, Ferry.Shared.Metadata.PgConnection> { ["src"] = source } };
        var process = new StgProcess(metadata, bed.Store) { FirstBackoff = TimeSpan.FromMilliseconds(10) };

        var error = await Assert.ThrowsAsync<StepFailedException>(() => process.RunAsync(table, RunMode.Bulk));

        Assert.StartsWith($"stg.src.t: extract failed: source src (ferry-test-no-such-host.invalid:{source.Port}/{source.Database}): cannot connect: ", error.Message);
    }

    [Fact]
    public async Task An_unreachable_target_is_named_in_the_load_failure()
    {
        await using var bed = await StgTestBed.CreateAsync("notarget");
        await bed.ExecSourceAsync("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)");
        var table = StgTestBed.Table("t", ["id"]);
        var manifest = await bed.Process(table).ExtractAsync(table, RunMode.Bulk, RunLayout.NewRunId(DateTimeOffset.UtcNow));
        var target = bed.Target with { Host = "127.0.0.1", Port = 1 };
        var process = new StgProcess(bed.Metadata(table) with { Target = target }, bed.Store) { FirstBackoff = TimeSpan.FromMilliseconds(10) };

        var error = await Assert.ThrowsAsync<StepFailedException>(() => process.LoadAsync(manifest));

        Assert.StartsWith($"stg.src.t: load failed: target (127.0.0.1:1/{target.Database}): cannot connect: ", error.Message);
    }
}
