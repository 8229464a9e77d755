using Ferry.Cli.Demo;
using Ferry.Shared.Sql;

namespace Ferry.Tests.Demo;

public sealed class GeneratedDemo : IAsyncLifetime
{
    public DemoPair Pair { get; private set; } = null!;
    public Task InitializeAsync() => CreateAsync();
    public Task DisposeAsync() => Task.CompletedTask;
    private async Task CreateAsync() => Pair = await DemoPair.CreateAsync("demo_gen");
}

public class DemoGenerationTests(GeneratedDemo demo) : IClassFixture<GeneratedDemo>
{
    private DemoPair Pair => demo.Pair;

    [Fact]
    public async Task Scale_1_fills_every_table_of_both_sources_with_a_few_thousand_rows()
    {
        long total = 0;
        foreach (var source in new[] { DemoSource.Qvp, DemoSource.Svp })
            foreach (var (table, rows) in await DemoSources.CountRowsAsync(source, Pair.Of(source)))
            {
                Assert.True(rows > 0, $"{source.Name()}.{table.Name} is empty");
                total += rows;
            }
        Assert.InRange(total, 3_000, 20_000);
    }

    [Fact]
    public async Task The_catalog_lists_exactly_the_tables_keys_and_timestamp_columns_of_the_databases()
    {
        foreach (var source in new[] { DemoSource.Qvp, DemoSource.Svp })
        {
            var cs = Pair.Of(source);
            var tables = (await DemoProbe.RowsAsync(cs, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")).Select(r => (string)r[0]!);
            Assert.Equal(DemoTables.Of(source).Select(t => t.Name).Order(StringComparer.Ordinal), tables.Order(StringComparer.Ordinal));

            foreach (var table in DemoTables.Of(source))
            {
                var key = (await DemoProbe.RowsAsync(cs,
                        $"SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) " +
                        $"WHERE i.indrelid = {SqlText.Literal(table.Schema + "." + table.Name)}::regclass AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)"))
                    .Select(r => (string)r[0]!);
                Assert.Equal(table.Key, key);

                var columns = (await DemoProbe.RowsAsync(cs,
                        $"SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = {SqlText.Literal(table.Name)}"))
                    .Select(r => (string)r[0]!).ToHashSet();
                foreach (var column in table.ChangeColumns.Append(table.SoftDeleteColumn).OfType<string>())
                    Assert.Contains(column, columns);
            }
        }
    }

    [Theory]
    [InlineData(DemoSource.Qvp)]
    [InlineData(DemoSource.Svp)]
    public async Task Text_columns_hold_the_values_that_break_naive_csv_copy_and_json_handling(DemoSource source)
    {
        // @c stands for the column.
        var probes = new (string Name, string Predicate)[]
        {
            ("NULL", "@c IS NULL"),
            ("empty string", "@c = ''"),
            ("newline", "strpos(@c, E'\\n') > 0"),
            ("carriage return", "strpos(@c, E'\\r') > 0"),
            ("tab", "strpos(@c, E'\\t') > 0"),
            ("double quote", "strpos(@c, '\"') > 0"),
            ("single quote", "strpos(@c, '''') > 0"),
            ("comma", "strpos(@c, ',') > 0"),
            ("backslash", "strpos(@c, '\\') > 0"),
            ("the COPY null marker \\N as text", "@c = '\\N'"),
            ("the word NULL as text", "@c = 'NULL'"),
            ("accented letters", "@c ~ '[À-ÿĀ-ž]'"),
            ("CJK", "@c ~ '[一-龥]'"),
            ("emoji", "@c ~ '[\\U0001F300-\\U0001FAFF]'"),
            ("leading or trailing spaces", "@c <> btrim(@c) AND strpos(@c, E'\\n') = 0"),
            ("long text", "length(@c) > 1000"),
        };
        var cs = Pair.Of(source);
        var columns = await DemoProbe.RowsAsync(cs,
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' " +
            "AND (data_type IN ('text', 'character varying') OR domain_name IS NOT NULL AND data_type = 'text')");
        var found = new HashSet<string>();
        foreach (var column in columns)
        {
            var table = SqlText.Qualified("public", (string)column[0]!);
            var c = SqlText.Ident((string)column[1]!);
            var select = string.Join(", ", probes.Select(p => $"coalesce(bool_or({p.Predicate.Replace("@c", c)}), false)"));
            var row = (await DemoProbe.RowsAsync(cs, $"SELECT {select} FROM {table}")).Single();
            for (var i = 0; i < probes.Length; i++)
                if ((bool)row[i]!)
                    found.Add(probes[i].Name);
        }
        Assert.Empty(probes.Select(p => p.Name).Except(found));
    }

    [Fact]
    public async Task QVP_uses_an_enum_a_domain_jsonb_arrays_money_uuid_bytea_dates_and_awkward_column_names()
    {
        var cs = Pair.Qvp;
        async Task<bool> Has(string sql) => await DemoProbe.ScalarAsync<bool>(cs, sql);

        Assert.True(await Has("SELECT count(DISTINCT status) >= 5 FROM verification_requests"), "enum request_status");
        Assert.True(await Has("SELECT domain_name = 'email_address' FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'email'"), "domain");
        Assert.True(await Has("SELECT bool_or(payload IS NULL) AND bool_or(payload = '{}') AND bool_or(payload = 'null'::jsonb) AND bool_or(payload ? 'checks') FROM verification_requests"), "jsonb: SQL NULL, {}, JSON null, objects");
        Assert.True(await Has("SELECT bool_or(tags IS NULL) AND bool_or(tags = '{}') AND bool_or(array_position(tags, NULL) IS NOT NULL) AND bool_or('a,b' = ANY (tags)) AND bool_or('' = ANY (tags)) FROM reports"), "text[]");
        Assert.True(await Has("SELECT bool_or(unit_price < 0) AND bool_or(amount <> round(amount, 0)) FROM invoice_lines"), "numeric(12,2)");
        Assert.True(await Has("SELECT numeric_precision = 12 AND numeric_scale = 2 FROM information_schema.columns WHERE table_name = 'invoices' AND column_name = 'total_amount'"), "money type");
        Assert.True(await Has("SELECT bool_and(invoice_total_ok) FROM (SELECT i.total_amount = i.net_amount + i.vat_amount AND i.net_amount = sum(l.amount) AS invoice_total_ok FROM invoices i JOIN invoice_lines l ON l.invoice_id = i.id GROUP BY i.id) t"), "invoice totals are the sum of their lines");
        Assert.True(await Has("SELECT count(DISTINCT public_id) = count(*) FROM verification_requests"), "uuid");
        Assert.True(await Has("SELECT bool_or(signature IS NULL) AND bool_or(length(signature) = 0) AND bool_or(length(signature) = 32) FROM certificates"), "bytea: NULL, empty, 32 bytes");
        Assert.True(await Has("SELECT bool_or(valid_until = 'infinity') AND bool_or(valid_until IS NULL) FROM certificates"), "date: infinity and NULL");
        Assert.True(await Has("SELECT bool_or(email_verified IS NULL) AND bool_or(email_verified) AND bool_or(NOT email_verified) FROM users"), "nullable boolean");
        Assert.True(await Has("SELECT count(*) = 2 FROM information_schema.columns WHERE (table_name, column_name) IN (('verification_requests', 'Type'), ('report_reviewers', 'order'))"), "\"Type\" and \"order\"");
        Assert.True(await Has("SELECT count(*) >= 15 FROM pg_constraint WHERE contype = 'f'"), "foreign keys");
        Assert.True(await Has("SELECT bool_or(deleted_at IS NOT NULL) AND bool_or(deleted_at IS NULL) FROM users"), "soft-deleted users");
    }

    [Fact]
    public async Task SVP_looks_like_a_Rails_schema_with_ActiveStorage()
    {
        var cs = Pair.Svp;
        async Task<bool> Has(string sql) => await DemoProbe.ScalarAsync<bool>(cs, sql);

        Assert.True(await Has("SELECT bool_and(data_type = 'timestamp without time zone' AND datetime_precision = 6) FROM information_schema.columns WHERE table_schema = 'public' AND column_name IN ('created_at', 'updated_at')"), "timestamp(6)");
        Assert.True(await Has("SELECT bool_and(is_nullable = 'NO') FROM information_schema.columns WHERE table_schema = 'public' AND column_name IN ('created_at', 'updated_at')"), "NOT NULL timestamps");
        Assert.True(await Has("SELECT bool_and(data_type = 'bigint') FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'id'"), "bigint ids");
        Assert.True(await Has("SELECT bool_and(checksum ~ '^[A-Za-z0-9+/]{22}==$' OR checksum IS NULL) AND bool_or(checksum IS NULL) FROM active_storage_blobs"), "base64 MD5 checksums, a few NULL");
        Assert.True(await Has("SELECT count(DISTINCT record_type) = 3 FROM active_storage_attachments"), "polymorphic attachments");
        Assert.True(await Has("SELECT bool_or(NOT EXISTS (SELECT 1 FROM active_storage_attachments a WHERE a.blob_id = b.id)) FROM active_storage_blobs b"), "unattached blobs");
        Assert.True(await Has("SELECT bool_or(tags = '{}') AND bool_or('needs, review' = ANY (tags)) FROM documents"), "varchar[]");
        Assert.True(await Has("SELECT bool_or(metadata = '[]') AND bool_or(metadata = '{}') AND bool_or(metadata ? 'extra') FROM requests"), "jsonb");
        Assert.True(await Has("SELECT count(DISTINCT type) >= 4 FROM documents"), "STI");
        Assert.True(await Has("SELECT bool_and(d.deleted_at IS NOT NULL) FROM documents d JOIN requests r ON r.id = d.request_id WHERE r.deleted_at IS NOT NULL"), "documents are soft-deleted with their request");
    }

    [Fact]
    public async Task Some_people_exist_in_both_sources_with_the_same_email_under_other_ids()
    {
        var qvp = (await DemoProbe.RowsAsync(Pair.Qvp, "SELECT lower(email), id FROM users")).ToDictionary(r => (string)r[0]!, r => (long)r[1]!);
        var svp = (await DemoProbe.RowsAsync(Pair.Svp, "SELECT email, id FROM users")).Select(r => (Email: (string)r[0]!, Id: (long)r[1]!)).ToList();
        var shared = svp.Where(u => qvp.ContainsKey(u.Email.ToLowerInvariant())).ToList();

        Assert.InRange(shared.Count, svp.Count / 4, svp.Count / 2);
        Assert.True(shared.Count(u => qvp[u.Email.ToLowerInvariant()] != u.Id) > shared.Count * 9 / 10, "shared people mostly have other ids");
        Assert.Contains(shared, u => u.Email != u.Email.ToLowerInvariant());
    }

    [Fact]
    public async Task Bulk_rows_span_two_years_and_a_7_day_window_holds_only_a_small_fraction_of_them()
    {
        var asOf = DemoPair.FixedAsOf;
        foreach (var table in DemoTables.All.Where(t => t.ChangeColumns.Count > 0 && t.Name != "ar_internal_metadata"))
        {
            var rows = await DemoProbe.SnapshotAsync(Pair.Of(table.Source), table);
            var created = await DemoProbe.ScalarAsync<DateTime>(Pair.Of(table.Source), $"SELECT min(created_at)::timestamptz FROM {SqlText.Qualified("public", table.Name)}");
            Assert.True(created < asOf.UtcDateTime.AddDays(-600), $"{table.Source.Name()}.{table.Name} starts at {created:O}");
            Assert.All(rows.Values, r => Assert.True(r.ChangedAt <= asOf, $"{table.Source.Name()}.{table.Name} has a change after as_of: {r.ChangedAt:O}"));
            var inWindow = rows.Values.Count(r => r.ChangedAt > asOf.AddDays(-7));
            Assert.True(inWindow < rows.Count * 0.1 + 2, $"{table.Source.Name()}.{table.Name}: {inWindow} of {rows.Count} rows changed in the last 7 days");
        }
    }

    [Theory]
    [InlineData(DemoSource.Qvp)]
    [InlineData(DemoSource.Svp)]
    public async Task Every_file_row_describes_an_object_whose_bytes_match_its_size_and_md5(DemoSource source)
    {
        var objects = new List<DemoObject>();
        await foreach (var o in DemoFiles.ListAsync(source, Pair.Of(source)))
            objects.Add(o);

        Assert.True(objects.Count > 500);
        Assert.Contains(objects, o => o.SizeBytes == 0);
        foreach (var o in objects)
        {
            await using var content = DemoFiles.OpenContent(o.Key, o.SizeBytes);
            using var md5 = System.Security.Cryptography.MD5.Create();
            var hash = await md5.ComputeHashAsync(content);
            Assert.Equal(o.SizeBytes, content.Position);
            if (o.Md5 is not null)
                Assert.True(o.Md5.AsSpan().SequenceEqual(hash), $"{source.Name()} object {o.Id} ({o.Key}): checksum mismatch");
        }
    }

    [Fact]
    public async Task Uploading_the_demo_files_writes_one_object_per_blob_under_its_service_and_key()
    {
        var store = new InMemoryObjectStore();
        var written = await DemoFiles.UploadAsync(store, DemoSource.Svp, Pair.Svp);

        var blobs = await DemoProbe.RowsAsync(Pair.Svp, "SELECT service_name || '/' || key, byte_size, checksum FROM active_storage_blobs");
        Assert.Equal(blobs.Count, written);
        Assert.Equal(blobs.Count, store.Objects.Count);
        foreach (var blob in blobs.Where(b => b[2] is not null))
        {
            var bytes = store.Objects[(string)blob[0]!];
            Assert.Equal((long)blob[1]!, bytes.Length);
            Assert.Equal((string)blob[2]!, Convert.ToBase64String(System.Security.Cryptography.MD5.HashData(bytes)));
        }
    }

    [Fact]
    public async Task Creating_a_demo_source_in_a_database_that_has_tables_fails_and_changes_nothing()
    {
        var before = await DemoProbe.FingerprintAsync(Pair.Qvp, DemoTables.Qvp[2]);
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => DemoSources.CreateSourceAsync(DemoSource.Qvp, Pair.Qvp, 1, DemoPair.FixedAsOf));
        Assert.Contains("is not empty", e.Message);
        Assert.Equal(before, await DemoProbe.FingerprintAsync(Pair.Qvp, DemoTables.Qvp[2]));
    }
}
