using Ferry.Shared.Verify;
using Ferry.Tests.Bl;
using Ferry.Worker.Verify;

namespace Ferry.Tests.Verify;

public sealed class OrphanCheckTests
{
    private static async Task<BlTestBed> MigratedAsync(string name)
    {
        var bed = await BlTestBed.CreateAsync(name);
        await bed.LoadSmallFixtureAsync();
        await bed.RunAllAsync();
        return bed;
    }

    [Fact]
    public async Task A_clean_business_layer_has_no_orphans_and_every_foreign_key_is_checked()
    {
        var bed = await MigratedAsync("verify_orphans_clean");
        Assert.True(await bed.ScalarAsync<long>("SELECT count(*) FROM unipacc.verification_requests") > 0);

        var result = await OrphanCheck.RunAsync(bed.ConnectionString, ["unipacc"], CancellationToken.None);

        Assert.Equal(VerifyOutcome.Equal, result.Outcome);
        Assert.Equal(VerifyProcesses.Orphans, result.ProcessId);
        Assert.Empty(result.Items);
        Assert.Equal(await bed.ScalarAsync<long>("SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND connamespace = 'unipacc'::regnamespace"), result.SourceRows);
    }

    [Fact]
    public async Task A_demo_migration_after_a_day_of_activity_has_no_orphans()
    {
        var bed = await IndicatorChecksTests.MigratedDemoAsync("verify_orphans_demo");

        var result = await OrphanCheck.RunAsync(bed.ConnectionString, ["unipacc"], CancellationToken.None);

        Assert.Equal(VerifyOutcome.Equal, result.Outcome);
        Assert.True(result.SourceRows >= 10, $"{result.SourceRows} foreign keys");
    }

    [Fact]
    public async Task An_orphan_under_a_not_valid_foreign_key_is_found_by_its_key_and_every_orphan_is_counted()
    {
        var bed = await MigratedAsync("verify_orphans_not_valid");
        await bed.ExecAsync("""
            ALTER TABLE unipacc.reports DROP CONSTRAINT reports_request_id_fkey;
            INSERT INTO unipacc.reports (id, origin, origin_key, request_id, version, title, is_final, created_at, updated_at)
            SELECT 900000 + g, 'qvp', 'orphan-' || g, 77777 + g % 2, 1, 'lost', false, now(), now() FROM generate_series(1, 12) g;
            ALTER TABLE unipacc.reports ADD CONSTRAINT reports_request_id_fkey
                FOREIGN KEY (request_id) REFERENCES unipacc.verification_requests ON DELETE CASCADE NOT VALID;
            """);

        var result = await OrphanCheck.RunAsync(bed.ConnectionString, ["unipacc"], CancellationToken.None, keysPerConstraint: 3);

        Assert.Equal(VerifyOutcome.Differs, result.Outcome);
        Assert.Equal(["unipacc.reports id=900001", "unipacc.reports id=900002", "unipacc.reports id=900003"], result.Items.Select(i => i.Item));
        var first = result.Items[0];
        Assert.Equal(DifferenceKind.Orphan, first.Kind);
        Assert.Equal("reports_request_id_fkey: parent unipacc.verification_requests (id) missing", first.Detail);
        Assert.Equal("77778", first.Target!["request_id"]);
        Assert.Equal(12, result.TargetRows);
        Assert.Contains("reports_request_id_fkey (unipacc.reports): 12 orphan rows, first 3 listed, NOT VALID", result.Note);
    }

    [Fact]
    public async Task An_orphan_let_in_while_the_constraint_triggers_were_disabled_is_found()
    {
        var bed = await MigratedAsync("verify_orphans_disabled");
        var request = await bed.ScalarAsync<long>("SELECT min(id) FROM unipacc.verification_requests");
        await bed.ExecAsync($"""
            ALTER TABLE unipacc.attachments DISABLE TRIGGER ALL;
            INSERT INTO unipacc.attachments (id, origin, origin_key, request_id, kind, file_name, size_bytes, source_bucket, source_key, created_at)
            VALUES (424242, 'qvp', 'x', -5, 'upload', 'a.pdf', 1, 'b', 'k', now()),
                   (424243, 'qvp', 'y', {request}, 'upload', 'b.pdf', 1, 'b', 'k2', now());
            """);

        var result = await OrphanCheck.RunAsync(bed.ConnectionString, ["unipacc"], CancellationToken.None);

        var item = Assert.Single(result.Items);
        Assert.Equal("unipacc.attachments id=424242", item.Item);
        Assert.Equal("attachments_request_id_fkey: parent unipacc.verification_requests (id) missing", item.Detail);
        Assert.Contains("its triggers are disabled", result.Note);
    }

    [Fact]
    public async Task A_composite_foreign_key_finds_rows_without_their_parent_and_a_null_in_the_key_is_no_orphan()
    {
        var bed = await BlTestBed.CreateAsync("verify_orphans_composite");
        await bed.ExecAsync("""
            CREATE SCHEMA "Shop";
            CREATE TABLE "Shop"."Invoice" (no int, year int, PRIMARY KEY (year, no));
            CREATE TABLE "Shop".line (invoice_year int, invoice_no int, line_no int, PRIMARY KEY (invoice_year, invoice_no, line_no));
            INSERT INTO "Shop"."Invoice" VALUES (1, 2024), (2, 2024);
            INSERT INTO "Shop".line VALUES (2024, 1, 1), (2024, 2, 1), (2025, 1, 1), (2024, 3, 2);
            CREATE TABLE "Shop".note (id int PRIMARY KEY, invoice_year int, invoice_no int);
            INSERT INTO "Shop".note VALUES (1, NULL, 9), (2, 2024, 9);
            ALTER TABLE "Shop".line ADD CONSTRAINT line_invoice FOREIGN KEY (invoice_year, invoice_no) REFERENCES "Shop"."Invoice" (year, no) NOT VALID;
            ALTER TABLE "Shop".note ADD CONSTRAINT note_invoice FOREIGN KEY (invoice_year, invoice_no) REFERENCES "Shop"."Invoice" (year, no) NOT VALID;
            """);

        var result = await OrphanCheck.RunAsync(bed.ConnectionString, ["Shop"], CancellationToken.None);

        Assert.Equal(
            ["Shop.line invoice_year=2024, invoice_no=3, line_no=2", "Shop.line invoice_year=2025, invoice_no=1, line_no=1", "Shop.note id=2"],
            result.Items.Select(i => i.Item));
        Assert.Equal("line_invoice: parent Shop.Invoice (year, no) missing", result.Items[0].Detail);
        Assert.Equal(3, result.TargetRows);
        Assert.Equal(2, result.SourceRows);
    }
}
