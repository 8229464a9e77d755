using Ferry.Shared.Metadata;
using Ferry.Shared.Stg;
using Ferry.Shared.Verify;
using Ferry.Tests.Stg;
using Ferry.Worker.Verify;

namespace Ferry.Tests.Verify;

/// <summary>
/// verify.&lt;source&gt;.&lt;table&gt; against real PostgreSQL: STG is loaded by the real bulk run, then STG or the
/// source is changed by SQL and the verifier must name each difference by key and column.
/// </summary>
public class TableVerifierTests
{
    private const string OrdersSql = """
        CREATE TABLE orders (
            id bigint PRIMARY KEY, name text, note text, amount numeric, paid_at timestamptz,
            created_at timestamptz NOT NULL, updated_at timestamp NOT NULL, deleted_at timestamptz);
        INSERT INTO orders
        SELECT g, 'name ' || g, CASE WHEN g % 3 = 0 THEN NULL ELSE 'note ' || g END, g * 1.5,
               timestamptz '2024-01-01 00:00:00+00' + g * interval '1 minute',
               now() - interval '30 days', (now() - interval '30 days') AT TIME ZONE 'UTC', NULL
        FROM generate_series(1, 3000) g;
        """;

    private static readonly SourceTable Orders = StgTestBed.Table("orders", ["id"],
        new CdcSpec(CdcMode.Window, ["created_at", "updated_at", "deleted_at"], Days: 7), softDelete: "deleted_at");

    private static async Task<StgTestBed> LoadedAsync(string name, string sourceSql, SourceTable table)
    {
        var bed = await StgTestBed.CreateAsync(name);
        await bed.ExecSourceAsync(sourceSql);
        await bed.Process(table).RunAsync(table, RunMode.Bulk);
        return bed;
    }

    private static Task<VerifyResult> VerifyAsync(StgTestBed bed, SourceTable table, VerifySettings? settings = null) =>
        TableVerifier.VerifyAsync(table, bed.SourceConnectionString, bed.TargetConnectionString, "stg", settings ?? VerifySettings.Default);

    private static VerifyDifference Single(VerifyResult result)
    {
        Assert.Equal(VerifyOutcome.Differs, result.Outcome);
        return Assert.Single(result.Items);
    }

    [Fact]
    public async Task A_clean_copy_verifies_equal_with_the_live_row_counts_of_both_sides()
    {
        await using var bed = await LoadedAsync("vclean", OrdersSql + "UPDATE orders SET deleted_at = now() - interval '20 days' WHERE id <= 10;", Orders);

        var result = await VerifyAsync(bed, Orders);

        Assert.Equal(VerifyOutcome.Equal, result.Outcome);
        Assert.Empty(result.Items);
        Assert.Equal(2990, result.SourceRows);
        Assert.Equal(2990, result.TargetRows);
        Assert.True(result.Ranges > 0);
        Assert.Equal("verify.src.orders", result.ProcessId);
        Assert.Null(result.Note);
    }

    [Fact]
    public async Task A_value_changed_in_STG_is_reported_by_key_and_column_with_both_values()
    {
        await using var bed = await LoadedAsync("vchanged", OrdersSql, Orders);
        await bed.ExecTargetAsync("UPDATE stg.src_orders SET name = 'someone else' WHERE id = 1234");

        var d = Single(await VerifyAsync(bed, Orders));

        Assert.Equal(DifferenceKind.Different, d.Kind);
        Assert.Equal("id=1234", d.Item);
        Assert.Equal(["name"], d.Columns);
        Assert.Equal("name 1234", d.Source!["name"]);
        Assert.Equal("someone else", d.Target!["name"]);
    }

    [Fact]
    public async Task A_row_missing_in_STG_and_a_row_only_in_STG_are_reported_as_missing_and_extra()
    {
        await using var bed = await LoadedAsync("vmissing", OrdersSql, Orders);
        await bed.ExecTargetAsync("""
            DELETE FROM stg.src_orders WHERE id = 42;
            INSERT INTO stg.src_orders (id, name, created_at, updated_at, stg_row_hash, stg_run_id) VALUES (5000, 'ghost', now(), now(), 0, 'x');
            """);

        var result = await VerifyAsync(bed, Orders);

        Assert.Equal(VerifyOutcome.Differs, result.Outcome);
        Assert.Equal(2, result.Items.Count);
        var missing = Assert.Single(result.Items, i => i.Kind == DifferenceKind.Missing);
        Assert.Equal("id=42", missing.Item);
        Assert.Equal("name 42", missing.Source!["name"]);
        var extra = Assert.Single(result.Items, i => i.Kind == DifferenceKind.Extra);
        Assert.Equal("id=5000", extra.Item);
        Assert.Equal("ghost", extra.Target!["name"]);
        Assert.Equal((3000, 3000), (result.SourceRows, result.TargetRows));
    }

    [Fact]
    public async Task A_row_marked_deleted_in_STG_but_live_in_the_source_is_missing()
    {
        await using var bed = await LoadedAsync("vstgdel", OrdersSql, Orders);
        await bed.ExecTargetAsync("UPDATE stg.src_orders SET stg_deleted_at = now() WHERE id = 7");

        var d = Single(await VerifyAsync(bed, Orders));

        Assert.Equal((DifferenceKind.Missing, "id=7"), (d.Kind, d.Item));
    }

    [Fact]
    public async Task NULL_and_the_empty_string_are_different_values()
    {
        await using var bed = await LoadedAsync("vnull", OrdersSql, Orders);
        // id 3 has note NULL in the source, id 4 has 'note 4'.
        await bed.ExecTargetAsync("UPDATE stg.src_orders SET note = '' WHERE id = 3");

        var d = Single(await VerifyAsync(bed, Orders));

        Assert.Equal((DifferenceKind.Different, "id=3"), (d.Kind, d.Item));
        Assert.Equal(["note"], d.Columns);
        Assert.True(d.Source!.ContainsKey("note"));
        Assert.Null(d.Source["note"]);
        Assert.Equal("", d.Target!["note"]);
    }

    [Fact]
    public async Task A_numeric_scale_change_is_a_difference_even_when_the_numbers_are_equal()
    {
        await using var bed = await LoadedAsync("vscale", OrdersSql, Orders);
        await bed.ExecTargetAsync("UPDATE stg.src_orders SET amount = 1.50 WHERE id = 1");

        var d = Single(await VerifyAsync(bed, Orders));

        Assert.Equal(("id=1", "1.5", "1.50"), (d.Item, d.Source!["amount"], d.Target!["amount"]));
    }

    [Fact]
    public async Task A_timestamptz_shifted_by_one_second_is_reported_in_UTC_text()
    {
        await using var bed = await LoadedAsync("vtime", OrdersSql, Orders);
        await bed.ExecTargetAsync("UPDATE stg.src_orders SET paid_at = paid_at + interval '1 second' WHERE id = 60");

        var d = Single(await VerifyAsync(bed, Orders));

        Assert.Equal("id=60", d.Item);
        Assert.Equal(["paid_at"], d.Columns);
        Assert.Equal("2024-01-01 01:00:00+00", d.Source!["paid_at"]);
        Assert.Equal("2024-01-01 01:00:01+00", d.Target!["paid_at"]);
    }

    [Fact]
    public async Task Rows_deleted_in_the_source_hard_or_soft_but_live_in_STG_are_extra()
    {
        await using var bed = await LoadedAsync("vsrcdel", OrdersSql, Orders);
        await bed.ExecSourceAsync("DELETE FROM orders WHERE id = 100; UPDATE orders SET deleted_at = now() - interval '2 days' WHERE id = 200");

        var result = await VerifyAsync(bed, Orders);

        Assert.Equal(VerifyOutcome.Differs, result.Outcome);
        Assert.Equal([(DifferenceKind.Extra, "id=100"), (DifferenceKind.Extra, "id=200")], result.Items.Select(i => (i.Kind, i.Item)));
        Assert.Equal((2998, 3000), (result.SourceRows, result.TargetRows));
    }

    [Fact]
    public async Task A_row_changed_in_the_source_within_max_age_is_in_flight_and_an_older_change_is_an_error()
    {
        await using var bed = await LoadedAsync("vflight", OrdersSql, Orders);
        await bed.ExecSourceAsync("""
            UPDATE orders SET name = 'just now', updated_at = now() AT TIME ZONE 'UTC' WHERE id = 10;
            UPDATE orders SET deleted_at = now() - interval '1 minute' WHERE id = 11;
            INSERT INTO orders VALUES (9000, 'new', NULL, 1, NULL, now(), now() AT TIME ZONE 'UTC', NULL);
            UPDATE orders SET name = 'an hour ago', updated_at = (now() - interval '1 hour') AT TIME ZONE 'UTC' WHERE id = 12;
            """);

        var result = await VerifyAsync(bed, Orders, new VerifySettings(TimeSpan.FromMinutes(15)));

        Assert.Equal(
            [(DifferenceKind.InFlight, "id=10"), (DifferenceKind.InFlight, "id=11"), (DifferenceKind.Different, "id=12"), (DifferenceKind.InFlight, "id=9000")],
            result.Items.Select(i => (i.Kind, i.Item)));
        Assert.Equal(VerifyOutcome.Differs, result.Outcome);
        Assert.Equal(1, result.Differences);
        Assert.Equal(3, result.InFlight);

        // Touched again now, the old change is in flight too, and in-flight rows alone verify equal.
        await bed.ExecSourceAsync("UPDATE orders SET updated_at = now() AT TIME ZONE 'UTC' WHERE id = 12");
        var onlyInFlight = await VerifyAsync(bed, Orders, new VerifySettings(TimeSpan.FromMinutes(15)));
        Assert.Equal(VerifyOutcome.Equal, onlyInFlight.Outcome);
        Assert.Equal(4, onlyInFlight.InFlight);
    }

    [Fact]
    public async Task A_composite_key_table_reports_the_full_key_of_each_differing_row()
    {
        var table = StgTestBed.Table("lines", ["invoice_id", "line_no"]);
        await using var bed = await LoadedAsync("vcomposite", """
            CREATE TABLE lines (invoice_id int, line_no smallint, amount numeric(12,2), PRIMARY KEY (invoice_id, line_no));
            INSERT INTO lines SELECT i, l, i * 10 + l FROM generate_series(1, 500) i, generate_series(1, 5) l;
            """, table);
        await bed.ExecTargetAsync("UPDATE stg.src_lines SET amount = 0 WHERE invoice_id = 7 AND line_no = 2; DELETE FROM stg.src_lines WHERE invoice_id = 300 AND line_no = 5");

        var result = await VerifyAsync(bed, table, VerifySettings.Default with { LeafRows = 20, Fanout = 4 });

        Assert.Equal([(DifferenceKind.Different, "invoice_id=7, line_no=2"), (DifferenceKind.Missing, "invoice_id=300, line_no=5")],
            result.Items.Select(i => (i.Kind, i.Item)));
        Assert.Equal(("72.00", "0.00"), (result.Items[0].Source!["amount"], result.Items[0].Target!["amount"]));
    }

    [Fact]
    public async Task A_text_keyed_table_is_compared_by_hash_buckets_and_reports_each_key()
    {
        var table = StgTestBed.Table("countries", ["code"]);
        await using var bed = await LoadedAsync("vtextkey", """
            CREATE TABLE countries (code text PRIMARY KEY, name text);
            INSERT INTO countries SELECT 'c' || g, 'Country ' || g FROM generate_series(1, 2000) g;
            INSERT INTO countries VALUES ('Ä', 'umlaut'), ('a', 'lower'), ('B', 'upper'), ('😀', 'emoji'), ('', 'the empty code');
            """, table);
        await bed.ExecTargetAsync("""
            UPDATE stg.src_countries SET name = 'changed' WHERE code IN ('Ä', 'c77');
            DELETE FROM stg.src_countries WHERE code = '😀';
            INSERT INTO stg.src_countries (code, name, stg_row_hash, stg_run_id) VALUES ('zz', 'extra', 0, 'x');
            """);

        var result = await VerifyAsync(bed, table, VerifySettings.Default with { LeafRows = 100 });

        Assert.Equal(
            [(DifferenceKind.Different, "code=c77"), (DifferenceKind.Extra, "code=zz"), (DifferenceKind.Different, "code=Ä"), (DifferenceKind.Missing, "code=😀")],
            result.Items.Select(i => (i.Kind, i.Item)).OrderBy(i => i.Item, StringComparer.Ordinal));
        Assert.Equal((2005, 2005), (result.SourceRows, result.TargetRows));
    }

    [Fact]
    public async Task A_differing_range_is_bisected_over_several_levels_down_to_the_differing_rows()
    {
        // Ids 1..4000 and one far away: the first level's equal-width buckets put all 4000 in one, which must be split again and again.
        await using var bed = await LoadedAsync("vbisect", OrdersSql.Replace("generate_series(1, 3000)", "generate_series(1, 4000)") +
            "INSERT INTO orders VALUES (1000000000, 'far', NULL, 1, NULL, now() - interval '30 days', now() - interval '30 days', NULL); ANALYZE orders;", Orders);
        await bed.ExecTargetAsync("UPDATE stg.src_orders SET name = 'x' WHERE id IN (17, 2500); ANALYZE stg.src_orders");

        var result = await VerifyAsync(bed, Orders, VerifySettings.Default with { LeafRows = 10, Fanout = 4 });

        Assert.Equal([(DifferenceKind.Different, "id=17"), (DifferenceKind.Different, "id=2500")], result.Items.Select(i => (i.Kind, i.Item)));
        // The first level compares 2 buckets; each level below compares 4 per differing range: at least two splits.
        Assert.True(result.Ranges >= 2 + 4 + 4, $"ranges compared: {result.Ranges}");
        // Bisection, not a scan: far fewer ranges than 4000 rows / 10 per leaf.
        Assert.True(result.Ranges < 100, $"ranges compared: {result.Ranges}");
    }

    [Fact]
    public async Task A_uuid_keyed_table_is_ranged_by_the_histogram_of_its_STG_key_and_bisected()
    {
        var table = StgTestBed.Table("devices", ["id"]);
        await using var bed = await LoadedAsync("vuuid", """
            CREATE TABLE devices (id uuid PRIMARY KEY, label text);
            INSERT INTO devices SELECT md5(g::text)::uuid, 'device ' || g FROM generate_series(1, 3000) g;
            """, table);
        await bed.ExecTargetAsync($"UPDATE stg.src_devices SET label = 'renamed' WHERE id = md5('77')::uuid; DELETE FROM stg.src_devices WHERE id = md5('1500')::uuid");

        var result = await VerifyAsync(bed, table, VerifySettings.Default with { LeafRows = 20, Fanout = 4 });

        var expected = new[] { (DifferenceKind.Different, "id=" + await KeyAsync(bed, "77")), (DifferenceKind.Missing, "id=" + await KeyAsync(bed, "1500")) };
        Assert.Equal(expected.OrderBy(e => e.Item2, StringComparer.Ordinal), result.Items.Select(i => (i.Kind, i.Item)));
        Assert.Equal((3000, 2999), (result.SourceRows, result.TargetRows));
        // The histogram gives about 100 first-level buckets of 30 rows: the two differing ones are split once more.
        Assert.True(result.Ranges > 100, $"ranges compared: {result.Ranges}");
    }

    private static async Task<string> KeyAsync(StgTestBed bed, string seed) =>
        await StgTestBed.ScalarAsync<string>(bed.SourceConnectionString, $"SELECT md5('{seed}')::uuid::text");

    [Fact]
    public async Task A_table_without_a_usable_key_is_compared_by_count_and_digest_and_says_so()
    {
        await using var bed = await LoadedAsync("vnokey", OrdersSql, Orders);
        var keyless = Orders with { Key = [] };

        var clean = await VerifyAsync(bed, keyless);
        Assert.Equal(VerifyOutcome.Equal, clean.Outcome);
        Assert.Equal(TableVerifier.NoKeyNote, clean.Note);
        Assert.Equal((3000, 3000), (clean.SourceRows, clean.TargetRows));

        await bed.ExecTargetAsync("UPDATE stg.src_orders SET name = 'x' WHERE id = 5");
        var changed = await VerifyAsync(bed, keyless);
        Assert.Equal(VerifyOutcome.Differs, changed.Outcome);
        Assert.Equal(TableVerifier.NoKeyNote, changed.Note);
        var d = Assert.Single(changed.Items);
        Assert.Equal(("3000", "3000"), (d.Source!["count"], d.Target!["count"]));
        Assert.NotEqual(d.Source["digest"], d.Target["digest"]);
    }

    [Fact]
    public async Task A_source_column_that_STG_lacks_is_a_difference_of_the_table_and_the_rest_is_still_compared()
    {
        await using var bed = await LoadedAsync("vcolumn", OrdersSql, Orders);
        await bed.ExecSourceAsync("ALTER TABLE orders ADD COLUMN region text DEFAULT 'north'");
        await bed.ExecTargetAsync("UPDATE stg.src_orders SET name = 'x' WHERE id = 9");

        var result = await VerifyAsync(bed, Orders);

        Assert.Equal(VerifyOutcome.Differs, result.Outcome);
        Assert.Equal([(DifferenceKind.Missing, "column region"), (DifferenceKind.Different, "id=9")], result.Items.Select(i => (i.Kind, i.Item)));
        Assert.Contains("region", result.Items[0].Detail);
    }

    [Fact]
    public async Task A_missing_STG_table_fails_with_a_message_naming_the_process_and_the_table()
    {
        await using var bed = await StgTestBed.CreateAsync("vnostg");
        await bed.ExecSourceAsync(OrdersSql);

        var e = await Assert.ThrowsAsync<TableVerifyException>(() => VerifyAsync(bed, Orders));

        Assert.Contains("verify.src.orders", e.Message);
        Assert.Contains("stg.src_orders", e.Message);
    }
}
