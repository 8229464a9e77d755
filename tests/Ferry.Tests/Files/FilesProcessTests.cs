using Ferry.Shared.Files;
using Ferry.Shared.Metadata;
using Ferry.Shared.Stg;
using Ferry.Shared.Storage;
using Ferry.Tests.Stg;
using Ferry.Worker.Files;

namespace Ferry.Tests.Files;

/// <summary>The files data path between two filesystem stores, against a real PostgreSQL.</summary>
public sealed class FilesProcessTests
{
    private static readonly TimeSpan Recent = TimeSpan.FromHours(3);
    private static readonly TimeSpan Old = TimeSpan.FromDays(30);

    [Fact]
    public async Task A_bulk_run_copies_every_live_file_verified_and_records_where_it_went()
    {
        await using var bed = await FilesTestBed.CreateAsync("files_bulk");
        var files = FilesTestBed.Definition();
        var source = bed.Store(files.SourceStore);
        var target = bed.Store(files.TargetStore);
        var contents = new Dictionary<string, byte[]>();
        for (var i = 0; i < 25; i++)
            contents[$"uploads/2024/{i:000}.pdf"] = await bed.AddFileAsync($"uploads/2024/{i:000}.pdf", 100 + 997 * i, Old, source);
        contents["legacy/7/ID card (1) 📷 \"front\".jpg"] = await bed.AddFileAsync("legacy/7/ID card (1) 📷 \"front\".jpg", 0, Old, source);
        await bed.AddFileAsync("uploads/deleted.pdf", 10, Old, source, deleted: true);

        var result = await bed.RunAsync(files, RunMode.Bulk, "r1");

        Assert.Equal(new FileCopyCounts(26, 0, 0), result.Counts);
        Assert.Empty(result.Failures);
        foreach (var (key, bytes) in contents)
            await FilesTestBed.AssertHoldsAsync(target, "qvp/" + key, bytes);
        Assert.Null(await target.StatAsync("qvp/uploads/deleted.pdf"));
        var rows = await bed.CopiesAsync();
        Assert.Equal(contents.Keys.Order(StringComparer.Ordinal), rows.Select(r => r.SourceKey));
        Assert.All(rows, r =>
        {
            Assert.Equal("copied", r.Status);
            Assert.Equal("qvp/" + r.SourceKey, r.TargetKey);
            Assert.Equal(contents[r.SourceKey].Length, r.SizeBytes);
            Assert.Equal("md5:" + FilesTestBed.Md5Hex(contents[r.SourceKey]), r.Checksum);
            Assert.Null(r.Error);
            Assert.Equal(("r1", 1), (r.RunId, r.Attempts));
            Assert.NotNull(r.SourceCreatedAt);
        });
    }

    [Fact]
    public async Task A_missing_source_object_fails_that_file_only_and_is_listed_with_its_error()
    {
        await using var bed = await FilesTestBed.CreateAsync("files_missing");
        var files = FilesTestBed.Definition();
        var source = bed.Store(files.SourceStore);
        for (var i = 0; i < 10; i++) await bed.AddFileAsync($"a/{i}.bin", 500 + i, Old, source);
        await bed.AddFileAsync("a/gone.bin", 321, Old, store: null);

        var result = await bed.RunAsync(files, RunMode.Bulk, "r1");

        Assert.Equal(new FileCopyCounts(10, 0, 1), result.Counts);
        var failure = Assert.Single(result.Failures);
        Assert.Equal("a/gone.bin", failure.SourceKey);
        Assert.Contains("a/gone.bin not found", failure.Error);
        var row = await bed.CopyAsync("a/gone.bin");
        Assert.Equal(("failed", (string?)null, 1, "r1"), (row.Status, row.TargetKey, row.Attempts, row.RunId));
        Assert.Contains("not found", row.Error);

        var listed = await bed.Process().ListFailuresAsync("files.qvp", 10, default);
        Assert.Equal(("a/gone.bin", "failed"), (Assert.Single(listed).SourceKey, listed[0].Status));
        Assert.Empty(await bed.Process().ListFailuresAsync("files.other", 10, default));
    }

    [Fact]
    public async Task A_checksum_mismatch_fails_the_file_and_leaves_no_object_in_the_target()
    {
        await using var bed = await FilesTestBed.CreateAsync("files_mismatch");
        var files = FilesTestBed.Definition();
        var source = bed.Store(files.SourceStore);
        await bed.AddFileAsync("good.bin", 4000, Old, source);
        await bed.AddFileAsync("bad.bin", 4000, Old, source, checksum: new string('0', 32));
        await bed.AddFileAsync("unreadable-checksum.bin", 10, Old, source, checksum: "not-an-md5");

        var result = await bed.RunAsync(files, RunMode.Bulk, "r1");

        Assert.Equal(new FileCopyCounts(1, 0, 2), result.Counts);
        Assert.Contains("checksum mismatch", result.Failures.Single(f => f.SourceKey == "bad.bin").Error);
        Assert.Contains("not a hex MD5", result.Failures.Single(f => f.SourceKey == "unreadable-checksum.bin").Error);
        Assert.Null(await bed.Store(files.TargetStore).StatAsync("qvp/bad.bin"));
        Assert.Equal("failed", (await bed.CopyAsync("bad.bin")).Status);
    }

    [Fact]
    public async Task Rerunning_skips_verified_files_and_changes_no_row()
    {
        await using var bed = await FilesTestBed.CreateAsync("files_rerun");
        var files = FilesTestBed.Definition();
        var source = bed.Store(files.SourceStore);
        for (var i = 0; i < 12; i++) await bed.AddFileAsync($"f/{i}", 1000 + i, i % 2 == 0 ? Recent : Old, source);
        await bed.RunAsync(files, RunMode.Bulk, "r1");
        var before = await bed.CopiesAsync();

        var bulk = await bed.RunAsync(files, RunMode.Bulk, "r2");
        var incremental = await bed.RunAsync(files, RunMode.Incremental, "r3");

        Assert.Equal(new FileCopyCounts(0, 12, 0), bulk.Counts);
        Assert.Equal(new FileCopyCounts(0, 6, 0), incremental.Counts); // the window's files are looked at, and found verified
        Assert.Equal(before, await bed.CopiesAsync());
    }

    [Fact]
    public async Task A_target_object_that_vanished_is_copied_again_and_its_row_does_not_change()
    {
        await using var bed = await FilesTestBed.CreateAsync("files_vanished");
        var files = FilesTestBed.Definition();
        var source = bed.Store(files.SourceStore);
        var target = bed.Store(files.TargetStore);
        var bytes = await bed.AddFileAsync("x/1", 2048, Old, source);
        await bed.AddFileAsync("x/2", 2048, Old, source);
        await bed.RunAsync(files, RunMode.Bulk, "r1");
        var before = await bed.CopyAsync("x/1");
        await target.DeleteAsync("qvp/x/1");

        var result = await bed.RunAsync(files, RunMode.Bulk, "r2");

        Assert.Equal(new FileCopyCounts(1, 1, 0), result.Counts);
        await FilesTestBed.AssertHoldsAsync(target, "qvp/x/1", bytes);
        var after = await bed.CopyAsync("x/1");
        Assert.Equal(before.UpdatedAt, after.UpdatedAt); // same key, size and checksum: nothing BL needs to see
        Assert.Equal(("r2", 2), (after.RunId, after.Attempts));
    }

    [Fact]
    public async Task An_incremental_run_copies_the_window_retries_failures_of_any_age_and_picks_up_old_files_never_seen()
    {
        await using var bed = await FilesTestBed.CreateAsync("files_incr");
        var files = FilesTestBed.Definition();
        var source = bed.Store(files.SourceStore);
        var target = bed.Store(files.TargetStore);
        await bed.AddFileAsync("old-copied", 100, Old, source);
        await bed.AddFileAsync("recent-copied", 100, Recent, source);
        await bed.AddFileAsync("old-failed", 100, Old, store: null);
        var first = await bed.RunAsync(files, RunMode.Bulk, "r1");
        Assert.Equal(new FileCopyCounts(2, 0, 1), first.Counts);

        var failedBytes = FilesTestBed.Content("old-failed", 100);
        await source.PutBytesAsync("old-failed", failedBytes);            // the missing object turns up
        var neverSeen = await bed.AddFileAsync("old-never-seen", 300, Old, source); // an old row added behind our back
        var fresh = await bed.AddFileAsync("recent-new", 200, Recent, source);
        var outside = await bed.AddFileAsync("old-still-missing", 50, Old, store: null);
        _ = outside;

        var result = await bed.RunAsync(files, RunMode.Incremental, "r2");

        // Looked at: recent-copied (skipped), old-failed, old-never-seen, recent-new (copied), old-still-missing (failed);
        // old-copied is outside the window and already copied: not even looked at.
        Assert.Equal(new FileCopyCounts(3, 1, 1), result.Counts);
        Assert.Equal("old-still-missing", Assert.Single(result.Failures).SourceKey);
        await FilesTestBed.AssertHoldsAsync(target, "qvp/old-failed", failedBytes);
        await FilesTestBed.AssertHoldsAsync(target, "qvp/old-never-seen", neverSeen);
        await FilesTestBed.AssertHoldsAsync(target, "qvp/recent-new", fresh);
        var rows = (await bed.CopiesAsync()).ToDictionary(r => r.SourceKey);
        Assert.Equal(("copied", 2, "r2"), (rows["old-failed"].Status, rows["old-failed"].Attempts, rows["old-failed"].RunId));
        Assert.Null(rows["old-failed"].Error);
        Assert.Equal(("copied", 1, "r1"), (rows["old-copied"].Status, rows["old-copied"].Attempts, rows["old-copied"].RunId));
        Assert.Equal("r1", rows["recent-copied"].RunId);
    }

    [Fact]
    public async Task ActiveStorage_blobs_with_base64_checksums_some_null_and_local_timestamps_are_copied_and_verified()
    {
        await using var bed = await FilesTestBed.CreateAsync("files_svp");
        await StgTestBed.ExecAsync(bed.SourceConnectionString, """
            CREATE TABLE public.active_storage_blobs (id bigserial PRIMARY KEY, key varchar NOT NULL, filename varchar NOT NULL,
                byte_size bigint NOT NULL, checksum varchar, created_at timestamp(6) without time zone NOT NULL)
            """);
        var files = FilesTestBed.Definition() with
        {
            Table = "active_storage_blobs", KeyColumn = "key", SizeColumn = "byte_size", ChecksumColumn = "checksum",
            ChecksumFormat = ChecksumFormat.Md5Base64, DeletedColumn = null, TargetKeyTemplate = "svp/{key}",
            SourceStore = FilesTestBed.Folder("buckets/svp"),
        };
        var source = bed.Store(files.SourceStore);
        async Task Blob(string key, int size, bool withChecksum, string? wrong = null)
        {
            var bytes = FilesTestBed.Content(key, size);
            await source.PutBytesAsync(key, bytes);
            var checksum = wrong ?? (withChecksum ? Convert.ToBase64String(System.Security.Cryptography.MD5.HashData(bytes)) : null);
            await StgTestBed.ExecAsync(bed.SourceConnectionString,
                "INSERT INTO public.active_storage_blobs (key, filename, byte_size, checksum, created_at) VALUES ($1, 'f', $2, $3, (now() AT TIME ZONE 'UTC') - interval '1 hour')",
                key, (long)size, (object?)checksum ?? DBNull.Value);
        }
        await Blob("k1abc", 5000, withChecksum: true);
        await Blob("k2abc", 70, withChecksum: false);
        await Blob("k3abc", 70, withChecksum: true, wrong: Convert.ToBase64String(new byte[16]));

        var result = await bed.RunAsync(files, RunMode.Incremental, "r1");

        Assert.Equal(new FileCopyCounts(2, 0, 1), result.Counts);
        Assert.Equal("k3abc", Assert.Single(result.Failures).SourceKey);
        var rows = (await bed.CopiesAsync()).ToDictionary(r => r.SourceKey);
        Assert.Equal("md5:" + FilesTestBed.Md5Hex(FilesTestBed.Content("k2abc", 70)), rows["k2abc"].Checksum); // verified by size, MD5 recorded
        Assert.Equal("svp/k1abc", rows["k1abc"].TargetKey);
        // Rails writes UTC into timestamp without time zone: read as UTC, the blob is an hour old, not hours off.
        Assert.InRange(DateTime.SpecifyKind(rows["k1abc"].SourceCreatedAt!.Value, DateTimeKind.Utc), DateTime.UtcNow.AddHours(-1.5), DateTime.UtcNow.AddHours(-0.5));
    }

    [Fact]
    public async Task A_listing_table_that_does_not_exist_fails_the_run_naming_the_process_and_the_table()
    {
        await using var bed = await FilesTestBed.CreateAsync("files_notable");
        var files = FilesTestBed.Definition() with { Table = "no_such_table" };

        var e = await Assert.ThrowsAsync<Ferry.Worker.Stg.StepFailedException>(() => bed.RunAsync(files, RunMode.Bulk, "r1"));

        Assert.StartsWith("files.qvp: list public.no_such_table on qvp failed: ", e.Message);
        Assert.Contains("no_such_table", e.Message);
    }
}
