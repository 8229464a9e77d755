using Ferry.Shared.Bl;
using Ferry.Shared.Verify;
using Ferry.Tests.Bl;
using Ferry.Worker.Verify;
using Npgsql;
using Xunit.Abstractions;

namespace Ferry.Tests.Verify;

/// <summary>
/// The demo's key indicators (sql/checks) on a demo migration made by the BL test bed: the sources live in
/// schemas qvp_src and svp_src of the target database (each source query runs with its search_path), STG is
/// merged from them and the BL transforms run.
/// </summary>
public sealed class IndicatorChecksTests(ITestOutputHelper output)
{
    private static readonly DateTimeOffset Generated = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static IReadOnlyList<CheckFile> DemoChecks() => CheckFile.LoadFolder(Path.Combine(BlTestBed.SqlRoot, "checks"));

    private static Func<string, string> Sources(BlTestBed bed) =>
        source => new NpgsqlConnectionStringBuilder(bed.ConnectionString) { SearchPath = source + "_src" }.ConnectionString;

    private const string CopyEveryFile = """
        INSERT INTO stg.file_copies (process_id, source_key, target_key, size_bytes, checksum, status, run_id, attempts, stg_inserted_at, stg_updated_at)
        SELECT 'files.qvp', object_key, 'qvp/' || object_key, size_bytes, NULL, 'copied', 'files-1', 1, now(), now() FROM stg.qvp_file_storage
        UNION ALL
        SELECT 'files.svp', key, 'svp/' || key, byte_size, NULL, 'copied', 'files-1', 1, now(), now() FROM stg.svp_active_storage_blobs
        ON CONFLICT DO NOTHING
        """;

    /// <summary>The demo generated, merged into STG, every file copied, the BL run; then a day of activity and an incremental BL run.</summary>
    internal static async Task<BlTestBed> MigratedDemoAsync(string name)
    {
        var bed = await BlTestBed.CreateAsync(name);
        await bed.LoadDemoAsync(Generated);
        await bed.ExecAsync(CopyEveryFile);
        await bed.RunAllAsync();
        // A day of activity (soft deletes, hard deletes, new rows) and an incremental BL run on top.
        await Task.Delay(10);
        await bed.MutateDemoAsync(Generated.AddDays(1));
        await bed.ExecAsync(CopyEveryFile);
        await bed.RunAllAsync();
        return bed;
    }

    [Fact]
    public async Task The_demo_checks_hold_on_a_clean_demo_migration_and_an_invoice_off_by_one_cent_is_found_with_both_values()
    {
        var bed = await MigratedDemoAsync("verify_checks");
        var checks = DemoChecks();
        Assert.True(checks.Count >= 6);

        var clean = await IndicatorChecks.RunAsync(checks, Sources(bed), bed.ConnectionString, CancellationToken.None);
        foreach (var d in clean.Items) output.WriteLine($"{d.Item}: source {d.Source!["value"]}, target {d.Target!["value"]}");
        Assert.Null(clean.Error);
        Assert.Equal(VerifyOutcome.Equal, clean.Outcome);
        Assert.Equal(VerifyProcesses.Checks, clean.ProcessId);
        Assert.True(clean.SourceRows > 20, $"{clean.SourceRows} indicator rows compared");
        Assert.Equal(clean.SourceRows, clean.TargetRows);

        // One cent more on one invoice in UniPACC.
        var (month, currency, total) = (await bed.RowsAsync("""
            SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM'), currency, sum(total_amount) OVER (PARTITION BY to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM'), currency)
            FROM unipacc.invoices ORDER BY id LIMIT 1
            """)).Select(r => (r[0]!, r[1]!, decimal.Parse(r[2]!, System.Globalization.CultureInfo.InvariantCulture))).Single();
        await bed.ExecAsync("UPDATE unipacc.invoices SET total_amount = total_amount + 0.01 WHERE id = (SELECT min(id) FROM unipacc.invoices)");

        var off = await IndicatorChecks.RunAsync(checks, Sources(bed), bed.ConnectionString, CancellationToken.None);
        Assert.Equal(VerifyOutcome.Differs, off.Outcome);
        var item = Assert.Single(off.Items);
        Assert.Equal(DifferenceKind.Indicator, item.Kind);
        Assert.Equal($"invoice_totals_per_month: {month} {currency}", item.Item);
        Assert.Equal(total, decimal.Parse(item.Source!["value"]!, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(total + 0.01m, decimal.Parse(item.Target!["value"]!, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("difference 0.01", item.Detail);
    }

    [Fact]
    public async Task A_check_whose_sql_is_broken_fails_with_the_database_message_and_its_file_and_line_and_the_others_still_run()
    {
        var bed = await BlTestBed.CreateAsync("verify_checks_broken");
        var folder = Directory.CreateTempSubdirectory("ferry-checks").FullName;
        var broken = Path.Combine(folder, "broken.sql");
        await File.WriteAllTextAsync(broken, "-- title: Broken\n-- source: qvp\nSELECT 'a', count(*)\nFROM no_such_table\n-- target\nSELECT 'a', 0\n");
        var good = Path.Combine(folder, "organisations.sql");
        await File.WriteAllTextAsync(good, "-- title: Orgs\n-- source: qvp\nSELECT 'n', count(*) FROM organisations\n-- target\nSELECT 'n', count(*) + 1 FROM unipacc.organisations\n");

        var result = await IndicatorChecks.RunAsync(CheckFile.LoadFolder(folder), Sources(bed), bed.ConnectionString, CancellationToken.None);

        Assert.Equal(VerifyOutcome.Failed, result.Outcome);
        Assert.Contains($"{broken}:4: source qvp: relation \"no_such_table\" does not exist", result.Error);
        var item = Assert.Single(result.Items);
        Assert.Equal("organisations: n", item.Item);
        Assert.Equal("difference 1", item.Detail);
    }

    [Fact]
    public async Task A_key_on_one_side_only_is_a_difference_against_zero_and_the_tolerance_is_absolute()
    {
        var bed = await BlTestBed.CreateAsync("verify_checks_keys");
        var folder = Directory.CreateTempSubdirectory("ferry-checks").FullName;
        await File.WriteAllTextAsync(Path.Combine(folder, "k.sql"), """
            -- title: Keys
            -- tolerance: 0.5
            -- source: qvp
            SELECT * FROM (VALUES ('both', 10.0), ('source only', 1.0), ('close', 1.0)) v
            -- source: svp
            SELECT * FROM (VALUES ('both', 5.0)) v
            -- target
            SELECT * FROM (VALUES ('both', 15.0), ('target only', 0.75), ('close', 1.4)) v
            """);

        var result = await IndicatorChecks.RunAsync(CheckFile.LoadFolder(folder), Sources(bed), bed.ConnectionString, CancellationToken.None);

        Assert.Equal(["k: source only", "k: target only"], result.Items.Select(i => i.Item));
        Assert.Equal("0", result.Items[1].Source!["value"]);
        Assert.Equal("difference -1.0", result.Items[0].Detail);
        Assert.Equal(3, result.SourceRows);
        Assert.Equal(3, result.TargetRows);
    }
}
