using Ferry.Shared.Metadata;
using Ferry.Shared.Stg;
using Ferry.Tests.Stg;
using Ferry.Worker.Stg;

namespace Ferry.Tests.Obfuscation;

[Collection(ObfuscationKeyCollection.Name)]
public class DevExtractTests
{
    /// <summary>The collection fixture has set the test key by the time a test runs.</summary>
    public DevExtractTests(ObfuscationKeyFixture key) => Assert.NotNull(key);

    private const string UsersSchema = """
        CREATE TABLE users (
            id bigint PRIMARY KEY,
            email text,
            phone_number text,
            first_name text,
            tax_id varchar(20),
            notes text,
            country text,
            birth_date date,
            salary numeric(10,2),
            comment text,
            city text
        );
        INSERT INTO users VALUES
          (1, 'Anna.Meyer@gmail.com', '+49 985 5551 2312', 'Bartholomew', 'DE123456789', 'secret note, "quoted"', 'Germany', '1985-03-14', 52000.00,
              'This comment is longer than twenty characters, surely', 'Berlin'),
          (2, 'olaf.quist@web.example.org', '0171-4444-9876', 'Wilhelmina', 'FR998877665', E'multi\nline', 'France', '1990-07-01', 61234.56,
              'short', 'Paris'),
          (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
        """;

    private static readonly string[] RawValues =
        ["Anna.Meyer@gmail.com", "anna.meyer@gmail.com", "+49 985 5551 2312", "Bartholomew", "DE123456789", "secret note", "Germany", "1985-03-14", "52000.00",
         "This comment is longer than twenty characters, surely", "olaf.quist", "0171-4444-9876", "Wilhelmina", "FR998877665", "multi", "France", "1990-07-01", "61234.56"];

    private static SourceTable Users(string name = "users") => StgTestBed.Table(name, ["id"]) with
    {
        Obfuscate = DevBed.Rules(
            ("email", ObfuscationKind.Email, null), ("phone_number", ObfuscationKind.Phone, null), ("first_name", ObfuscationKind.Name, "first"),
            ("tax_id", ObfuscationKind.Hash, "12"), ("notes", ObfuscationKind.Null, null), ("country", ObfuscationKind.Fixed, "XX"),
            ("birth_date", ObfuscationKind.DateShift, "30"), ("salary", ObfuscationKind.NumberNoise, "5"), ("comment", ObfuscationKind.Truncate, "20"),
            ("id", ObfuscationKind.Keep, null)),
    };

    [Fact]
    public async Task After_a_DEV_bulk_run_no_raw_value_of_an_obfuscated_column_is_in_the_DEV_files_or_in_STG()
    {
        await using var bed = await StgTestBed.CreateAsync("obf_dev");
        await bed.ExecSourceAsync(UsersSchema);
        var table = Users();

        var result = await bed.ProcessIn("dev", table).RunAsync(table, RunMode.Bulk);

        Assert.Equal(new MergeCounts(3, 0, 0, 0), result.Counts);
        var files = await bed.PartsTextAsync("dev");
        var stg = string.Join("\n", (await StgTestBed.RowsAsync(bed.TargetConnectionString,
            "SELECT concat_ws('|', email, phone_number, first_name, tax_id, notes, country, birth_date::text, salary::text, comment) FROM stg.src_users ORDER BY id"))
            .Select(r => r[0]));
        foreach (var raw in RawValues)
        {
            Assert.DoesNotContain(raw, files, StringComparison.Ordinal);
            Assert.DoesNotContain(raw, stg, StringComparison.Ordinal);
        }
        // A kept column is untouched; the shapes are the ones the README promises.
        var row = (await StgTestBed.RowsAsync(bed.TargetConnectionString,
            "SELECT city, email, phone_number, tax_id, notes, country, comment, birth_date::text, salary::text FROM stg.src_users WHERE id = 1"))[0];
        Assert.Equal("Berlin", row[0]);
        Assert.Matches("^[0-9a-f]{12}@g\\*\\*\\*\\.com$", row[1]);
        Assert.Equal("+499***12", row[2]);
        Assert.Matches("^[0-9a-f]{12}$", row[3]);
        Assert.Null(row[4]);
        Assert.Equal("XX", row[5]);
        Assert.Equal("This comment is long", row[6]);
        var shift = Math.Abs((DateOnly.Parse(row[7]!).DayNumber - new DateOnly(1985, 3, 14).DayNumber));
        Assert.InRange(shift, 1, 30);
        Assert.InRange(decimal.Parse(row[8]!, System.Globalization.CultureInfo.InvariantCulture), 52000m * 0.95m, 52000m * 1.05m);
        // NULL stays NULL, except under fixed.
        var nulls = (await StgTestBed.RowsAsync(bed.TargetConnectionString,
            "SELECT email, phone_number, first_name, tax_id, birth_date::text, salary::text, comment, country FROM stg.src_users WHERE id = 3"))[0];
        Assert.All(nulls[..7], Assert.Null);
        Assert.Equal("XX", nulls[7]);
    }

    [Fact]
    public async Task The_manifest_of_a_DEV_extract_records_each_rule_and_its_parameter_but_never_the_key()
    {
        await using var bed = await StgTestBed.CreateAsync("obf_manifest");
        await bed.ExecSourceAsync(UsersSchema);
        var table = Users();
        var process = bed.ProcessIn("dev", table);

        var manifest = await process.ExtractAsync(table, RunMode.Bulk, RunLayout.NewRunId(DateTimeOffset.UtcNow));

        var reread = await process.ReadManifestAsync(table, manifest.RunId);
        Assert.Equal(new ObfuscationRule(ObfuscationKind.Hash, "12"), reread.Obfuscation!["tax_id"]);
        Assert.Equal(new ObfuscationRule(ObfuscationKind.DateShift, "30"), reread.Obfuscation["birth_date"]);
        Assert.Equal(10, reread.Obfuscation.Count);
        var json = System.Text.Encoding.UTF8.GetString(reread.ToJson());
        Assert.Contains("\"number_noise\"", json);
        Assert.DoesNotContain(ObfuscationKeyFixture.TestKey, json);
    }

    [Fact]
    public async Task The_same_email_in_two_tables_obfuscates_identically_so_they_still_join()
    {
        await using var bed = await StgTestBed.CreateAsync("obf_join");
        await bed.ExecSourceAsync(UsersSchema + """
            CREATE TABLE accounts (account_no text PRIMARY KEY, owner_email text);
            INSERT INTO accounts VALUES ('A-1', 'Anna.Meyer@gmail.com'), ('A-2', 'olaf.quist@web.example.org'), ('A-3', 'nobody@else.example');
            """);
        var users = Users();
        var accounts = StgTestBed.Table("accounts", ["account_no"]) with { Obfuscate = DevBed.Rules(("owner_email", ObfuscationKind.Email, null)) };
        var process = bed.ProcessIn("dev", users, accounts);

        await process.RunAsync(users, RunMode.Bulk);
        await process.RunAsync(accounts, RunMode.Bulk);

        var joined = await StgTestBed.RowsAsync(bed.TargetConnectionString,
            "SELECT a.account_no, u.id::text FROM stg.src_accounts a JOIN stg.src_users u ON u.email = a.owner_email ORDER BY 1");
        Assert.Equal([["A-1", "1"], ["A-2", "2"]], joined);
    }

    [Fact]
    public async Task A_DEV_rerun_of_unchanged_rows_changes_no_row_and_a_real_change_is_one_update()
    {
        await using var bed = await StgTestBed.CreateAsync("obf_rerun");
        await bed.ExecSourceAsync(UsersSchema);
        var table = Users();
        var process = bed.ProcessIn("dev", table);
        await process.RunAsync(table, RunMode.Bulk);
        var before = await StgTestBed.RowsAsync(bed.TargetConnectionString, "SELECT id::text, birth_date::text, salary::text, first_name FROM stg.src_users ORDER BY id");

        var second = await process.RunAsync(table, RunMode.Bulk);
        await bed.ExecSourceAsync("UPDATE users SET city = 'Hamburg' WHERE id = 2");
        var third = await process.RunAsync(table, RunMode.Bulk);

        Assert.Equal(new MergeCounts(0, 0, 0, 3), second.Counts);
        Assert.Equal(new MergeCounts(0, 1, 0, 2), third.Counts);
        Assert.Equal(before, await StgTestBed.RowsAsync(bed.TargetConnectionString, "SELECT id::text, birth_date::text, salary::text, first_name FROM stg.src_users ORDER BY id"));
    }

    [Fact]
    public async Task Tricky_values_in_obfuscated_and_kept_columns_survive_as_valid_CSV_and_load()
    {
        await using var bed = await StgTestBed.CreateAsync("obf_tricky");
        await bed.ExecSourceAsync("""
            CREATE TABLE notes (id int PRIMARY KEY, body text, kept text, label text);
            INSERT INTO notes VALUES
              (1, 'a, b, c', 'a, b, c', 'x'),
              (2, 'say "hi" now', 'say "hi" now', 'x'),
              (3, E'line one\nline two\r\nthree', E'line one\nline two\r\nthree', 'x'),
              (4, E'\\N', E'\\N', 'x'),
              (5, E'\\.', E'\\.', 'x'),
              (6, '😀 emoji and 日本語 text here', '😀 emoji', 'x'),
              (7, '', '', 'x'),
              (8, NULL, NULL, NULL);
            """);
        var table = StgTestBed.Table("notes", ["id"]) with
        {
            Obfuscate = DevBed.Rules(("body", ObfuscationKind.Truncate, "3"), ("label", ObfuscationKind.Fixed, "a \"fixed\", value\nwith \\N")),
        };

        var result = await bed.ProcessIn("dev", table).RunAsync(table, RunMode.Bulk);

        Assert.Equal(new MergeCounts(8, 0, 0, 0), result.Counts);
        var source = await StgTestBed.RowsAsync(bed.SourceConnectionString, "SELECT id::text, left(body, 3), kept FROM notes ORDER BY id");
        var stg = await StgTestBed.RowsAsync(bed.TargetConnectionString, "SELECT id::text, body, kept FROM stg.src_notes ORDER BY id");
        Assert.Equal(source, stg);
        Assert.Equal(8L, await StgTestBed.ScalarAsync<long>(bed.TargetConnectionString,
            "SELECT count(*) FROM stg.src_notes WHERE label = E'a \"fixed\", value\\nwith \\\\N'"));
        Assert.Equal(1L, await StgTestBed.ScalarAsync<long>(bed.TargetConnectionString, "SELECT count(*) FROM stg.src_notes WHERE body = ''"));
        Assert.Equal(1L, await StgTestBed.ScalarAsync<long>(bed.TargetConnectionString, "SELECT count(*) FROM stg.src_notes WHERE body IS NULL"));
    }

    [Fact]
    public async Task The_same_metadata_with_the_store_env_prod_is_not_obfuscated()
    {
        await using var bed = await StgTestBed.CreateAsync("obf_prod");
        await bed.ExecSourceAsync(UsersSchema);
        var table = Users();

        var manifest = await bed.ProcessIn("prod", table).ExtractAsync(table, RunMode.Bulk, RunLayout.NewRunId(DateTimeOffset.UtcNow));
        await bed.ProcessIn("prod", table).LoadAndMergeAsync(manifest, TimeSpan.Zero, null, default);

        Assert.Null(manifest.Obfuscation);
        Assert.Contains("Anna.Meyer@gmail.com", await bed.PartsTextAsync("prod"), StringComparison.Ordinal);
        await bed.AssertStgEqualsSourceAsync("users", "src_users",
            ["id", "email", "phone_number", "first_name", "tax_id", "notes", "country", "birth_date", "salary", "comment", "city"], "id");
    }

    [Fact]
    public async Task A_rule_on_a_column_type_it_cannot_serve_fails_the_DEV_extract_naming_table_column_rule_and_type()
    {
        await using var bed = await StgTestBed.CreateAsync("obf_type");
        await bed.ExecSourceAsync(UsersSchema);
        var table = StgTestBed.Table("users", ["id"]) with { Obfuscate = DevBed.Rules(("city", ObfuscationKind.NumberNoise, "5")) };

        var e = await Assert.ThrowsAsync<StepFailedException>(() => bed.ProcessIn("dev", table).RunAsync(table, RunMode.Bulk));

        Assert.Equal("stg.src.users: extract failed: obfuscation rule number_noise on column city of public.users cannot serve its type text " +
            "(it needs smallint, integer, bigint, numeric, real or double precision)", e.Message);
        var folder = Path.Combine(bed.StoreRoot, "ferry", "dev");
        Assert.True(!Directory.Exists(folder) || !Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Any(), "no file is written");
    }

    [Fact]
    public async Task A_rule_naming_a_column_the_source_lacks_fails_the_DEV_extract()
    {
        await using var bed = await StgTestBed.CreateAsync("obf_missing");
        await bed.ExecSourceAsync(UsersSchema);
        var table = StgTestBed.Table("users", ["id"]) with { Obfuscate = DevBed.Rules(("e_mail", ObfuscationKind.Email, null)) };

        var e = await Assert.ThrowsAsync<StepFailedException>(() => bed.ProcessIn("dev", table).RunAsync(table, RunMode.Bulk));

        Assert.Contains("name column(s) e_mail that public.users does not have", e.Message);
    }

    [Fact]
    public async Task A_DEV_extract_of_a_table_with_rules_fails_without_the_key_and_says_which_variable()
    {
        await using var bed = await StgTestBed.CreateAsync("obf_nokey");
        await bed.ExecSourceAsync(UsersSchema);
        var table = Users();
        Environment.SetEnvironmentVariable(ObfuscationPolicy.KeyVariable, null);
        try
        {
            var e = await Assert.ThrowsAsync<StepFailedException>(() => bed.ProcessIn("dev", table).RunAsync(table, RunMode.Bulk));

            Assert.StartsWith("stg.src.users: extract failed: public.users has obfuscation rules and this is a DEV extract", e.Message);
            Assert.Contains("FERRY_OBFUSCATION_KEY is not set", e.Message);
            // PROD needs no key.
            await bed.ProcessIn("prod", table).RunAsync(table, RunMode.Bulk);
        }
        finally
        {
            Environment.SetEnvironmentVariable(ObfuscationPolicy.KeyVariable, ObfuscationKeyFixture.TestKey);
        }
    }
}
