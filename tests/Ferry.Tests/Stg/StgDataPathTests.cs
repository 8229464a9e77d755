using Ferry.Shared.Metadata;
using Ferry.Shared.Stg;
using Ferry.Worker.Stg;

namespace Ferry.Tests.Stg;

public class StgDataPathTests
{
    private const string TrickySchema = """
        CREATE TYPE request_status AS ENUM ('new', 'in review', 'done');
        CREATE DOMAIN email AS text CHECK (VALUE LIKE '%@%');
        CREATE TABLE "Order Items" (
            "Order" bigint NOT NULL,
            "lineNo" integer NOT NULL,
            "select" text,
            note text,
            amount numeric(20,6),
            ratio double precision,
            payload jsonb,
            tags text[],
            blob bytea,
            at timestamptz,
            local_at timestamp,
            day date,
            guid uuid,
            status request_status,
            contact email,
            statuses request_status[],
            flag boolean,
            span interval,
            PRIMARY KEY ("Order", "lineNo")
        );
        INSERT INTO "Order Items" VALUES
          (1, 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
          (1, 2, '', '', 0, 0, '{}', '{}', '\x', '2024-01-01 00:00:00+00', '2024-01-01 00:00:00', '2024-01-01', '00000000-0000-0000-0000-000000000000', 'new', 'a@b', '{}', false, '0'),
          (1, 3, 'say "hi", then go', E'line one\nline two\r\nline three', 12345678901234.123456, 0.1, '{"a": [1, "two", null], "é": "\"quoted\""}',
              ARRAY['a,b', 'c"d', NULL, '', E'e\nf', 'back\\slash'], '\xdeadbeef00ff', '2024-02-29 23:59:59.999999+05:30', '1999-12-31 23:59:59.5', '0001-01-01',
              'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'in review', 'ü@ñ.example', ARRAY['new','done']::request_status[], true, '1 year 2 mons 3 days 04:05:06.789'),
          (2, 1, E'back\\slash \\N and \\. alone', E'\\.', -0.000001, 1e-300, '[1.5e300, -0]', ARRAY['日本語', '😀 emoji'], '\x00', 'infinity', '-infinity', 'infinity',
              'ffffffff-ffff-ffff-ffff-ffffffffffff', 'done', 'x@y', NULL, NULL, '-1 day'),
          (2, 2, E'\\.', E'"\n"', 99999999999999.999999, 'NaN', '"just a string"', ARRAY[NULL]::text[], '\x5c2c0a22', NULL, NULL, NULL, NULL, NULL, NULL, NULL, true, NULL);
        """;

    private static readonly string[] TrickyColumns =
        ["\"Order\"", "\"lineNo\"", "\"select\"", "note", "amount", "ratio", "payload", "tags", "blob", "at", "local_at", "day", "guid", "status", "contact", "statuses", "flag", "span"];

    [Fact]
    public async Task A_bulk_load_makes_STG_equal_to_the_source_row_for_row_with_every_tricky_value_intact()
    {
        await using var bed = await StgTestBed.CreateAsync("tricky");
        await bed.ExecSourceAsync(TrickySchema);
        var table = StgTestBed.Table("Order Items", ["Order", "lineNo"]);
        var result = await bed.Process(table).RunAsync(table, RunMode.Bulk);

        Assert.Equal(new MergeCounts(5, 0, 0, 0), result.Counts);
        await bed.AssertStgEqualsSourceAsync("\"Order Items\"", "src_order_items", TrickyColumns, "\"Order\", \"lineNo\"");
        // NULL and empty string stay distinct.
        Assert.Equal(1L, await StgTestBed.ScalarAsync<long>(bed.TargetConnectionString, "SELECT count(*) FROM stg.src_order_items WHERE \"select\" = ''"));
        Assert.Equal(1L, await StgTestBed.ScalarAsync<long>(bed.TargetConnectionString, "SELECT count(*) FROM stg.src_order_items WHERE \"select\" IS NULL"));
        // Enums and domains arrive as text; the rest keep their types.
        var types = await StgTestBed.RowsAsync(bed.TargetConnectionString,
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'stg' AND table_name = 'src_order_items' AND column_name IN ('status','contact','statuses','amount','payload','blob') ORDER BY column_name");
        Assert.Equal(["amount:numeric", "blob:bytea", "contact:text", "payload:jsonb", "status:text", "statuses:ARRAY"],
            types.Select(t => $"{t[0]}:{t[1]}"));
    }

    [Fact]
    public async Task Rerunning_the_same_extract_changes_no_rows()
    {
        await using var bed = await StgTestBed.CreateAsync("rerun");
        await bed.ExecSourceAsync(TrickySchema);
        var table = StgTestBed.Table("Order Items", ["Order", "lineNo"]);
        var process = bed.Process(table);
        var first = await process.RunAsync(table, RunMode.Bulk);
        var before = await StgTestBed.RowsAsync(bed.TargetConnectionString, "SELECT xmin::text, stg_run_id, stg_updated_at::text FROM stg.src_order_items ORDER BY 1");

        var second = await process.RunAsync(table, RunMode.Bulk);
        var replay = await process.ReplayAsync(table, first.RunId);

        Assert.Equal(new MergeCounts(0, 0, 0, 5), second.Counts);
        Assert.Equal(new MergeCounts(0, 0, 0, 5), replay.Counts);
        var after = await StgTestBed.RowsAsync(bed.TargetConnectionString, "SELECT xmin::text, stg_run_id, stg_updated_at::text FROM stg.src_order_items ORDER BY 1");
        Assert.Equal(before, after);
    }

    [Fact]
    public async Task A_full_table_marks_rows_missing_from_the_load_as_deleted_and_revives_rows_that_come_back()
    {
        await using var bed = await StgTestBed.CreateAsync("fulldel");
        await bed.ExecSourceAsync("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 100) g");
        var table = StgTestBed.Table("t", ["id"]);
        var process = bed.Process(table);
        await process.RunAsync(table, RunMode.Incremental);

        await bed.ExecSourceAsync("DELETE FROM t WHERE id IN (5, 6); UPDATE t SET v = 'changed' WHERE id = 7; INSERT INTO t VALUES (101, 'new')");
        var change = await process.RunAsync(table, RunMode.Incremental);
        Assert.Equal(new MergeCounts(1, 1, 2, 97), change.Counts);
        Assert.Equal(2L, await StgTestBed.ScalarAsync<long>(bed.TargetConnectionString, "SELECT count(*) FROM stg.src_t WHERE stg_deleted_at IS NOT NULL"));

        await bed.ExecSourceAsync("INSERT INTO t VALUES (5, 'v5')");
        var revive = await process.RunAsync(table, RunMode.Incremental);
        Assert.Equal(new MergeCounts(0, 1, 0, 99), revive.Counts);
        await bed.AssertStgEqualsSourceAsync("t", "src_t", ["id", "v"], "id");
        Assert.Equal(1L, await StgTestBed.ScalarAsync<long>(bed.TargetConnectionString, "SELECT count(*) FROM stg.src_t WHERE stg_deleted_at IS NOT NULL"));
    }

    [Fact]
    public async Task A_window_extract_takes_exactly_the_rows_created_updated_or_deleted_in_the_window()
    {
        await using var bed = await StgTestBed.CreateAsync("window");
        await bed.ExecSourceAsync("""
            CREATE TABLE w (id int PRIMARY KEY, v text, created_at timestamptz NOT NULL, updated_at timestamp NOT NULL, deleted_at timestamptz);
            INSERT INTO w SELECT g, 'old', now() - interval '30 days', now() - interval '30 days', NULL FROM generate_series(1, 50) g;
            """);
        var table = StgTestBed.Table("w", ["id"], new CdcSpec(CdcMode.Window, ["created_at", "updated_at", "deleted_at"], Days: 7), softDelete: "deleted_at");
        var process = bed.Process(table);
        await process.RunAsync(table, RunMode.Bulk);

        await bed.ExecSourceAsync("""
            INSERT INTO w VALUES (51, 'new', now(), now() AT TIME ZONE 'UTC', NULL);
            UPDATE w SET v = 'touched', updated_at = now() AT TIME ZONE 'UTC' - interval '6 days' WHERE id = 2;
            UPDATE w SET deleted_at = now() - interval '1 day' WHERE id = 3;
            UPDATE w SET v = 'changed but not in window', updated_at = now() AT TIME ZONE 'UTC' - interval '8 days' WHERE id = 4;
            """);
        var run = await process.RunAsync(table, RunMode.Incremental);

        Assert.Equal(3, run.RowsExtracted);
        Assert.Equal(new MergeCounts(1, 1, 1, 0), run.Counts);
        Assert.Equal("old", await StgTestBed.ScalarAsync<string>(bed.TargetConnectionString, "SELECT v FROM stg.src_w WHERE id = 4"));
        Assert.True(await StgTestBed.ScalarAsync<bool>(bed.TargetConnectionString, "SELECT stg_deleted_at IS NOT NULL FROM stg.src_w WHERE id = 3"));
    }

    [Fact]
    public async Task A_key_sweep_finds_rows_hard_deleted_from_a_window_table()
    {
        await using var bed = await StgTestBed.CreateAsync("sweep");
        await bed.ExecSourceAsync("""
            CREATE TABLE k (a int, b text, created_at timestamptz NOT NULL DEFAULT now() - interval '1 year', PRIMARY KEY (a, b));
            INSERT INTO k (a, b) SELECT g, 'k' || g FROM generate_series(1, 40) g;
            """);
        var table = StgTestBed.Table("k", ["a", "b"], new CdcSpec(CdcMode.Window, ["created_at"], Days: 7), keySweep: true);
        var process = bed.Process(table);
        await process.RunAsync(table, RunMode.Bulk);

        await bed.ExecSourceAsync("DELETE FROM k WHERE a IN (1, 2, 3)");
        var noSweep = await process.RunAsync(table, RunMode.Incremental, keySweep: false);
        Assert.Equal(MergeCounts.Zero, noSweep.Counts);

        var sweep = await process.RunAsync(table, RunMode.Incremental);
        Assert.Equal(3, sweep.Counts.Deleted);
        await bed.AssertStgEqualsSourceAsync("k", "src_k", ["a", "b", "created_at"], "a, b");
    }

    [Fact]
    public async Task A_watermark_extract_starts_from_the_newest_change_in_STG_minus_the_overlap()
    {
        await using var bed = await StgTestBed.CreateAsync("watermark");
        await bed.ExecSourceAsync("""
            CREATE TABLE m (id int PRIMARY KEY, v text, updated_at timestamptz NOT NULL);
            INSERT INTO m SELECT g, 'v', timestamptz '2024-01-01 00:00:00+00' + g * interval '1 minute' FROM generate_series(1, 60) g;
            """);
        var table = StgTestBed.Table("m", ["id"], new CdcSpec(CdcMode.Watermark, [], WatermarkColumn: "updated_at", Overlap: TimeSpan.FromMinutes(10)));
        var process = bed.Process(table);
        var first = await process.RunAsync(table, RunMode.Incremental);
        Assert.Equal(60, first.RowsExtracted);

        // Newest in STG is minute 60: the next extract takes minutes 50..60 again, plus the new rows.
        await bed.ExecSourceAsync("INSERT INTO m VALUES (61, 'late', timestamptz '2024-01-01 01:05:00+00'); UPDATE m SET v = 'x', updated_at = timestamptz '2024-01-01 01:02:00+00' WHERE id = 1");
        var next = await process.RunAsync(table, RunMode.Incremental);
        Assert.Equal(13, next.RowsExtracted);
        Assert.Equal(new MergeCounts(1, 1, 0, 11), next.Counts);
    }

    [Fact]
    public async Task A_large_table_is_split_into_key_ranges_from_one_snapshot_and_loads_whole()
    {
        await using var bed = await StgTestBed.CreateAsync("chunks");
        await bed.ExecSourceAsync("CREATE TABLE big (id bigint PRIMARY KEY, v text); INSERT INTO big SELECT g * 3, md5(g::text) FROM generate_series(1, 20000) g; ANALYZE big");
        var table = StgTestBed.Table("big", ["id"], chunking: new ChunkingSpec(ThresholdRows: 1000, RowsPerChunk: 3000, Parallelism: 2));
        var process = bed.Process(table);
        var run = await process.RunAsync(table, RunMode.Bulk);

        var manifest = await process.ReadManifestAsync(table, run.RunId);
        Assert.Equal(7, manifest.Parts.Count);
        Assert.Equal(20000, manifest.TotalRows);
        Assert.Equal(new MergeCounts(20000, 0, 0, 0), run.Counts);
        await bed.AssertStgEqualsSourceAsync("big", "src_big", ["id", "v"], "id");

        await bed.ExecSourceAsync("UPDATE big SET v = 'changed' WHERE id % 1000 = 0; DELETE FROM big WHERE id < 30");
        var again = await process.RunAsync(table, RunMode.Bulk);
        Assert.Equal(new MergeCounts(0, 20, 9, 19971), again.Counts);
        await bed.AssertStgEqualsSourceAsync("big", "src_big", ["id", "v"], "id");
    }

    [Fact]
    public async Task A_table_of_one_column_merges_changes_and_deletes()
    {
        await using var bed = await StgTestBed.CreateAsync("onecol");
        await bed.ExecSourceAsync("CREATE TABLE schema_migrations (version varchar PRIMARY KEY); INSERT INTO schema_migrations SELECT '2024' || g FROM generate_series(10, 30) g");
        var table = StgTestBed.Table("schema_migrations", ["version"]);
        var process = bed.Process(table);
        await process.RunAsync(table, RunMode.Bulk);

        await bed.ExecSourceAsync("DELETE FROM schema_migrations WHERE version = '202410'; INSERT INTO schema_migrations VALUES ('202499')");
        var run = await process.RunAsync(table, RunMode.Incremental);

        Assert.Equal(new MergeCounts(1, 0, 1, 20), run.Counts);
        await bed.AssertStgEqualsSourceAsync("schema_migrations", "src_schema_migrations", ["version"], "version");
    }

    [Fact]
    public async Task Many_tables_loading_at_once_into_a_new_target_do_not_trip_over_each_other()
    {
        await using var bed = await StgTestBed.CreateAsync("parallel");
        var tables = Enumerable.Range(1, 6).Select(i => StgTestBed.Table($"p{i}", ["id"])).ToArray();
        foreach (var t in tables)
            await bed.ExecSourceAsync($"CREATE TABLE {t.Table} (id int PRIMARY KEY, v text); INSERT INTO {t.Table} SELECT g, 'v' FROM generate_series(1, 100) g");
        var process = bed.Process(tables);

        var first = await Task.WhenAll(tables.Select(t => process.RunAsync(t, RunMode.Bulk)));
        var second = await Task.WhenAll(tables.Select(t => process.RunAsync(t, RunMode.Bulk)));

        Assert.All(first, r => Assert.Equal(new MergeCounts(100, 0, 0, 0), r.Counts));
        Assert.All(second, r => Assert.Equal(new MergeCounts(0, 0, 0, 100), r.Counts));
    }
}
