using Ferry.Shared.Bl;
using Ferry.Shared.Stg;
using Ferry.Worker.Bl;
using Npgsql;
using Xunit.Abstractions;

namespace Ferry.Tests.Bl;

/// <summary>Reports, certificates, invoices and attachments on the small hand-made fixture.</summary>
public sealed class BusinessLayerFixtureTests
{
    private const string Request100 = "00000000-0000-0000-0000-000000000100";

    private static async Task<BlTestBed> LoadedAsync(string name)
    {
        var bed = await BlTestBed.CreateAsync(name);
        await bed.LoadSmallFixtureAsync();
        await bed.RunAllAsync();
        return bed;
    }

    private const string ReportsQuery = """
        SELECT rep.origin, rep.origin_key, r.reference, u.email, rep.version, rep.title, rep.risk_score, rep.is_final
        FROM unipacc.reports rep JOIN unipacc.verification_requests r ON r.id = rep.request_id
        LEFT JOIN unipacc.users u ON u.id = rep.author_id ORDER BY rep.origin, rep.origin_key
        """;

    private const string AttachmentsQuery = """
        SELECT a.origin, a.origin_key, r.reference, rep.origin_key, a.kind, a.file_name, a.size_bytes, a.source_bucket, a.source_key, a.target_key
        FROM unipacc.attachments a LEFT JOIN unipacc.verification_requests r ON r.id = a.request_id
        LEFT JOIN unipacc.reports rep ON rep.id = a.report_id ORDER BY a.origin, a.origin_key
        """;

    [Fact]
    public async Task Reports_certificates_invoices_and_attachments_match_the_hand_computed_rows()
    {
        var bed = await LoadedAsync("bl_files_contents");

        // Bob wrote report 300; the author of 301 (QVP user 12) is in neither system: NULL.
        Assert.Equal(
            [
                ["qvp", "300", Request100, "bob@example.com", "1", "KYC report on Subject A", "12.50", "t"],
                ["qvp", "301", Request100, null, "2", "KYC report on Subject A (revised)", null, "f"],
            ],
            await bed.RowsAsync(ReportsQuery));

        Assert.Equal(
            [["qvp", "400", "300", "Acme", "QVP-2024-0000400", "2024-04-05", "infinity", null]],
            await bed.RowsAsync("""
                SELECT c.origin, c.origin_key, rep.origin_key, o.name, c.certificate_no, c.valid_from::text, c.valid_until::text, c.revoked_at
                FROM unipacc.certificates c JOIN unipacc.reports rep ON rep.id = c.report_id JOIN unipacc.organisations o ON o.id = c.organisation_id
                """));

        Assert.Equal(
            [["qvp", "500", "Acme", "INV-2024-000500", "paid", "CHF", "100.00", "8.10", "108.10", "2024-04-20 00:00:00+00"]],
            await bed.RowsAsync("""
                SELECT i.origin, i.origin_key, o.name, i.invoice_no, i.status, i.currency, i.net_amount, i.vat_amount, i.total_amount, i.paid_at
                FROM unipacc.invoices i JOIN unipacc.organisations o ON o.id = i.organisation_id
                """));

        // 602 is soft-deleted in QVP, 902 is an SVP avatar: neither is an attachment. 601's copy failed
        // and 801 has not been copied yet: no target_key.
        Assert.Equal(
            [
                ["qvp", "600", Request100, null, "upload", "passport.pdf", "1234", "qvp-uploads", "uploads/2024/04/100/600.pdf", "unipacc/qvp/600.pdf"],
                ["qvp", "601", Request100, "300", "report_pdf", "Report 100 v1.pdf", "2000", "qvp-documents", "reports/100/601.pdf", null],
                ["svp", "900", "REF-200", null, "document", "pass.jpg", "5000", "oci", "blobkey800", "unipacc/svp/blobkey800"],
                ["svp", "901", "REF-201", null, "upload", "notes.txt", "10", "oci", "blobkey801", null],
            ],
            await bed.RowsAsync(AttachmentsQuery));

        // Every id is the one dwh.id_map holds for (origin, entity, origin_key).
        foreach (var (table, entity) in new[] { ("reports", "report"), ("certificates", "certificate"), ("invoices", "invoice"), ("attachments", "attachment") })
            Assert.Equal(0L, await bed.ScalarAsync<long>($"""
                SELECT count(*) FROM unipacc.{table} t
                WHERE t.id IS DISTINCT FROM (SELECT target_id FROM dwh.id_map m WHERE m.system = t.origin AND m.entity = '{entity}' AND m.source_key = t.origin_key)
                """));
    }

    [Fact]
    public async Task A_file_copied_later_gives_its_attachment_a_target_key()
    {
        var bed = await LoadedAsync("bl_files_copy");
        await Task.Delay(10); // the copies land strictly after the last run's start
        await bed.ExecAsync("""
            UPDATE stg.file_copies SET status = 'copied', target_key = 'unipacc/qvp/601.pdf', error = NULL, attempts = 4, stg_updated_at = now()
            WHERE process_id = 'files.qvp' AND source_key = 'reports/100/601.pdf';
            INSERT INTO stg.file_copies (process_id, source_key, target_key, size_bytes, checksum, status, error, run_id, attempts, source_created_at, stg_inserted_at, stg_updated_at)
            VALUES ('files.svp', 'blobkey801', 'unipacc/svp/blobkey801', 10, NULL, 'copied', NULL, 'files-2', 1, NULL, now(), now());
            """);

        // Only the two attachments whose copy changed are read.
        Assert.Equal(new MergeCounts(0, 2, 0, 0), await bed.RunAsync("attachments"));
        Assert.Equal(
            [["600", "unipacc/qvp/600.pdf"], ["601", "unipacc/qvp/601.pdf"], ["900", "unipacc/svp/blobkey800"], ["901", "unipacc/svp/blobkey801"]],
            await bed.RowsAsync("SELECT origin_key, target_key FROM unipacc.attachments ORDER BY origin, origin_key"));
        Assert.Equal(MergeCounts.Zero, await bed.RunAsync("attachments"));
    }

    [Fact]
    public async Task Deleting_a_parent_in_STG_removes_its_children_in_incremental_and_full_runs_alike()
    {
        var bed = await LoadedAsync("bl_files_delete");
        await Task.Delay(10);
        await bed.ExecAsync("""
            UPDATE stg.qvp_reports SET stg_deleted_at = now(), stg_updated_at = now() WHERE id = 300;
            UPDATE stg.svp_documents SET deleted_at = '2024-06-01', stg_deleted_at = now(), stg_updated_at = now() WHERE id = 700;
            UPDATE stg.qvp_invoices SET stg_deleted_at = now(), stg_updated_at = now() WHERE id = 500;
            """);

        var counts = await bed.RunAllAsync();
        Assert.Equal(new MergeCounts(0, 0, 1, 0), counts["reports"]);
        Assert.Equal(new MergeCounts(0, 0, 1, 0), counts["invoices"]);
        // The certificate of report 300 and its PDF went with the report (cascade); the document's file is deleted.
        Assert.Equal(new MergeCounts(0, 0, 0, 0), counts["certificates"]);
        Assert.Equal(new MergeCounts(0, 0, 1, 0), counts["attachments"]);
        Assert.Equal(0L, await bed.ScalarAsync<long>("SELECT count(*) FROM unipacc.certificates"));
        Assert.Equal([["qvp", "600"], ["svp", "901"]], await bed.RowsAsync("SELECT origin, origin_key FROM unipacc.attachments ORDER BY 1, 2"));

        var incremental = await bed.SnapshotAsync();
        await bed.ExecAsync("TRUNCATE unipacc.organisations, unipacc.users CASCADE");
        await bed.RunAllAsync(TransformMode.Full);
        Assert.Equal(incremental, await bed.SnapshotAsync());
    }
}

/// <summary>Rows that depend on other tables' rows (people by e-mail across both systems, organisations): a change there reaches them incrementally.</summary>
public sealed class BusinessLayerPeopleTests
{
    [Fact]
    public async Task A_person_coming_back_in_the_other_system_gets_her_requests_back_in_an_incremental_run_as_in_a_full_rebuild()
    {
        var bed = await BlTestBed.CreateAsync("bl_people_cross");
        await bed.LoadSmallFixtureAsync();
        await bed.RunAllAsync();
        const string requester = "SELECT u.email FROM unipacc.verification_requests r LEFT JOIN unipacc.users u ON u.id = r.requested_by WHERE r.origin = 'qvp' AND r.origin_key = '100'";

        // Ann leaves both systems: QVP request 100 keeps no requester (the users FK sets it NULL).
        await Task.Delay(10);
        await bed.ExecAsync("""
            UPDATE stg.qvp_users SET stg_deleted_at = now(), stg_updated_at = now() WHERE id = 10;
            UPDATE stg.svp_users SET stg_deleted_at = now(), stg_updated_at = now() WHERE id = 20;
            """);
        await bed.RunAllAsync();
        Assert.Null(await bed.ScalarAsync<object>(requester) as string);

        // She comes back with a new SVP account under the same e-mail. Nothing changed in QVP, yet QVP's
        // request 100 (by her old, deleted QVP account) has its requester again: the person is live.
        await Task.Delay(10);
        await bed.ExecAsync("""
            INSERT INTO stg.svp_users (id, account_id, email, first_name, last_name, created_at, updated_at)
            VALUES (22, 1, 'ANN@example.com', 'Ann', 'Lee', '2024-07-01 00:00', '2024-07-01 00:00');
            """);
        var counts = await bed.RunAllAsync();
        Assert.Equal("ann@example.com", await bed.ScalarAsync<string>(requester));
        // QVP 100 (requester) and SVP 200 and 201 (requester, assignee: her deleted SVP account's e-mail) get her back.
        Assert.Equal(3, counts["verification_requests"].Updated);

        var incremental = await bed.SnapshotAsync();
        await bed.ExecAsync("TRUNCATE unipacc.organisations, unipacc.users CASCADE");
        await bed.RunAllAsync(TransformMode.Full);
        Assert.Equal(incremental, await bed.SnapshotAsync());
    }

    [Fact]
    public async Task An_organisation_that_leaves_and_comes_back_gets_its_users_back_in_an_incremental_run_as_in_a_full_rebuild()
    {
        var bed = await BlTestBed.CreateAsync("bl_org_back");
        await bed.LoadSmallFixtureAsync();
        await bed.RunAllAsync();
        const string bobsOrganisation = "SELECT o.name FROM unipacc.users u LEFT JOIN unipacc.organisations o ON o.id = u.organisation_id WHERE u.email = 'bob@example.com'";
        Assert.Equal("Acme", await bed.ScalarAsync<string>(bobsOrganisation));

        // Acme leaves QVP (the target sets its users' organisation NULL), then comes back (STG revives the row).
        await Task.Delay(10);
        await bed.ExecAsync("UPDATE stg.qvp_organisations SET stg_deleted_at = now(), stg_updated_at = now() WHERE id = 1");
        await bed.RunAllAsync();
        Assert.Null(await bed.ScalarAsync<object>(bobsOrganisation) as string);
        await Task.Delay(10);
        await bed.ExecAsync("UPDATE stg.qvp_organisations SET stg_deleted_at = NULL, stg_updated_at = now() WHERE id = 1");
        await bed.RunAllAsync();

        Assert.Equal("Acme", await bed.ScalarAsync<string>(bobsOrganisation));
        var incremental = await bed.SnapshotAsync();
        await bed.ExecAsync("TRUNCATE unipacc.organisations, unipacc.users CASCADE");
        await bed.RunAllAsync(TransformMode.Full);
        Assert.Equal(incremental, await bed.SnapshotAsync());
    }
}

/// <summary>The whole business layer on the demo sources, one day of activity later.</summary>
public sealed class BusinessLayerDemoTests(ITestOutputHelper output)
{
    private static readonly DateTimeOffset Generated = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    /// <summary>The files process at work: most objects copied, every tenth failed.</summary>
    private const string CopyFiles = """
        INSERT INTO stg.file_copies AS fc (process_id, source_key, target_key, size_bytes, checksum, status, error, run_id, attempts, source_created_at, stg_inserted_at, stg_updated_at)
        SELECT x.process_id, x.source_key,
               CASE WHEN x.n % 10 <> 0 THEN 'unipacc/' || x.source_key END, x.size_bytes, NULL,
               CASE WHEN x.n % 10 <> 0 THEN 'copied' ELSE 'failed' END, CASE WHEN x.n % 10 = 0 THEN 'timeout' END,
               $1, 1, NULL, now(), now()
        FROM (SELECT 'files.qvp' AS process_id, object_key AS source_key, size_bytes, id + $2 AS n FROM stg.qvp_file_storage WHERE stg_deleted_at IS NULL
              UNION ALL
              SELECT 'files.svp', key, byte_size, id + $2 FROM stg.svp_active_storage_blobs WHERE stg_deleted_at IS NULL) x
        ON CONFLICT (process_id, source_key) DO UPDATE
        SET target_key = excluded.target_key, status = excluded.status, error = excluded.error, run_id = excluded.run_id,
            attempts = fc.attempts + 1, stg_updated_at = now()
        WHERE fc.status <> 'copied'
        """;

    [Fact]
    public async Task An_incremental_run_after_a_demo_mutation_equals_a_full_rebuild_and_rerunning_changes_nothing()
    {
        var bed = await BlTestBed.CreateAsync("bl_demo");
        await bed.LoadDemoAsync(Generated);
        await bed.ExecAsync(CopyFiles, "files-1", 0);
        var first = await bed.RunAllAsync();
        foreach (var table in BlTestBed.TargetTables)
            Assert.True(first[table].Inserted > 0, $"{table}: nothing loaded from the demo");

        await Task.Delay(10); // the day of activity lands strictly after the last run's start
        await bed.MutateDemoAsync(Generated.AddDays(1));
        await bed.ExecAsync(CopyFiles, "files-2", 3); // new objects copied, failed ones retried
        var incremental = await bed.RunAllAsync();
        var afterIncremental = await bed.SnapshotAsync();
        foreach (var table in BlTestBed.TargetTables)
            output.WriteLine($"{table}: first run {first[table]}; after the mutation {incremental[table]}");

        // The day touched every table: something was written (and only a part of it was read).
        foreach (var table in BlTestBed.TargetTables)
        {
            var c = incremental[table];
            Assert.True(c.Inserted + c.Updated + c.Deleted > 0, $"{table}: the mutation changed nothing ({c})");
            Assert.True(c.Inserted + c.Updated + c.Unchanged < first[table].Inserted, $"{table}: the incremental run read everything ({c})");
        }
        Assert.True(incremental["attachments"].Deleted > 0);
        Assert.True(incremental["verification_requests"].Deleted > 0);

        // Re-running: an incremental run reads nothing, a full run writes nothing.
        foreach (var (table, c) in await bed.RunAllAsync())
            Assert.True(c == MergeCounts.Zero, $"{table}: {c}");
        foreach (var (table, c) in await bed.RunAllAsync(TransformMode.Full))
            Assert.True(c.Inserted + c.Updated + c.Deleted == 0, $"{table}: {c}");
        Assert.Equal(afterIncremental, await bed.SnapshotAsync());

        // A rebuild from nothing gives the same rows, ids included (dwh.id_map).
        await bed.ExecAsync("TRUNCATE unipacc.organisations, unipacc.users CASCADE");
        var rebuild = await bed.RunAllAsync(TransformMode.Full);
        Assert.Equal(afterIncremental.Count, rebuild.Values.Sum(c => c.Inserted));
        Assert.Equal(afterIncremental, await bed.SnapshotAsync());

        // The copies reached the attachments: failed ones have no target_key.
        Assert.Equal(0L, await bed.ScalarAsync<long>("""
            SELECT count(*) FROM unipacc.attachments a
            LEFT JOIN stg.file_copies fc ON fc.process_id = 'files.' || a.origin AND fc.source_key = a.source_key
            WHERE a.target_key IS DISTINCT FROM CASE WHEN fc.status = 'copied' THEN fc.target_key END
            """));
        Assert.True(await bed.ScalarAsync<long>("SELECT count(*) FROM unipacc.attachments WHERE target_key IS NULL") > 0);
    }
}

public sealed class BusinessLayerSinceTests
{
    [Fact]
    public async Task An_STG_change_committed_after_a_run_began_is_read_by_the_next_run()
    {
        var bed = await BlTestBed.CreateAsync("bl_since");
        await bed.LoadSmallFixtureAsync();
        await bed.RunAllAsync();
        await Task.Delay(10);

        // An STG merge begins (stamping its transaction's start) and commits only after the next run began.
        await using var merge = new NpgsqlConnection(bed.ConnectionString);
        await merge.OpenAsync();
        await using (var tx = await merge.BeginTransactionAsync())
        {
            await using (var cmd = new NpgsqlCommand("UPDATE stg.qvp_invoices SET status = 'void', stg_updated_at = now() WHERE id = 500", merge, tx))
                await cmd.ExecuteNonQueryAsync();
            await Task.Delay(10);
            Assert.Equal(MergeCounts.Zero, await bed.RunAsync("invoices")); // it cannot see the change yet
            await tx.CommitAsync();
        }
        Assert.True(await bed.ScalarAsync<bool>("""
            SELECT i.stg_updated_at < r.started_at FROM stg.qvp_invoices i,
                   (SELECT started_at FROM dwh.bl_runs WHERE process_id = 'bl.unipacc.invoices' ORDER BY started_at DESC LIMIT 1) r
            WHERE i.id = 500
            """), "the change is stamped before the run's start");

        Assert.Equal(new MergeCounts(0, 1, 0, 0), await bed.RunAsync("invoices"));
        Assert.Equal("void", await bed.ScalarAsync<string>("SELECT status FROM unipacc.invoices"));
        Assert.Equal(MergeCounts.Zero, await bed.RunAsync("invoices"));
    }
}

public sealed class BusinessLayerErrorTests
{
    [Fact]
    public async Task A_broken_transform_fails_alone_with_its_file_line_and_the_fixed_one_catches_up()
    {
        var bed = await BlTestBed.CreateAsync("bl_broken");
        await bed.LoadSmallFixtureAsync();
        var good = BlTestBed.Transform("invoices");
        var broken = TransformFile.Parse(good.Path, good.Text.Replace("       i.invoice_no,", "       i.invoice_no,,"));
        var line = good.Text[..good.Text.IndexOf("i.invoice_no,", StringComparison.Ordinal)].Count(c => c == '\n') + 1;

        var failures = new List<string>();
        foreach (var level in (await TransformPlan.BuildAsync(BlTestBed.AllTransforms(), bed.ConnectionString, CancellationToken.None)).Levels)
            foreach (var file in level)
                try { await bed.RunAsync(file.Target.Name == "invoices" ? broken : file); }
                catch (TransformFailedException e) { failures.Add(e.Message); }

        Assert.Equal([$"bl.unipacc.invoices: transform failed: invoices.sql:{line}: syntax error at or near \",\"; unipacc.invoices unchanged"], failures);
        Assert.Equal(0L, await bed.ScalarAsync<long>("SELECT count(*) FROM unipacc.invoices"));
        Assert.Equal(4L, await bed.ScalarAsync<long>("SELECT count(*) FROM unipacc.attachments")); // the others ran

        // Fixed, the next (incremental) run loads what the failed one missed, and nothing else changes.
        Assert.Equal(new MergeCounts(1, 0, 0, 0), await bed.RunAsync(good));
        var afterFix = await bed.SnapshotAsync();
        await bed.ExecAsync("TRUNCATE unipacc.organisations, unipacc.users CASCADE");
        await bed.RunAllAsync(TransformMode.Full);
        Assert.Equal(afterFix, await bed.SnapshotAsync());
    }
}
