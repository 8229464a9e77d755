using Ferry.Shared.Metadata;
using Ferry.Worker.Introspection;

namespace Ferry.Tests.Metadata;

public sealed class GeneratorSourceDatabase : SourceDatabaseFixture
{
    protected override string Prefix => "metadata_generate";

    protected override string SetupSql => """
        CREATE DOMAIN change_stamp AS timestamptz;

        -- small: reloaded in full
        CREATE TABLE countries (code text PRIMARY KEY, name text NOT NULL);
        INSERT INTO countries VALUES ('CZ', 'Czechia'), ('SK', 'Slovakia'), ('AT', 'Austria');

        -- "large" once the threshold is lowered to 20 rows; analyzed, so the planner's estimate is used
        CREATE TABLE orders (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            customer text,
            total numeric(12,2),
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz);
        INSERT INTO orders (customer, total) SELECT 'c' || g, g FROM generate_series(1, 50) g;
        ANALYZE orders;

        -- composite key, a change stamp through a domain, never analyzed (counted)
        CREATE TABLE order_lines (
            order_id bigint NOT NULL,
            line_no int NOT NULL,
            sku text,
            "modifiedOn" change_stamp,
            PRIMARY KEY (order_id, line_no));
        INSERT INTO order_lines SELECT g / 3, g % 3, 'sku' || g, now() FROM generate_series(1, 30) g;

        -- soft deletes
        CREATE TABLE users (id int PRIMARY KEY, email text, created_at timestamptz, deleted_at timestamptz);
        INSERT INTO users VALUES (1, 'a@example.com', now(), NULL), (2, 'b@example.com', now(), now());

        -- no primary key, but a unique index on a NOT NULL column
        CREATE TABLE tags (tag_id int NOT NULL, label text, CONSTRAINT tags_tag_id_key UNIQUE (tag_id));

        -- no key at all
        CREATE TABLE audit_log (at timestamptz, message text);

        -- large, but nothing says when a row changed
        CREATE TABLE readings (id int PRIMARY KEY, value float8, taken_on date);
        INSERT INTO readings SELECT g, g FROM generate_series(1, 40) g;

        -- partitioned: the parent is one table, its partitions are not tables of their own
        CREATE TABLE measurements (id int, created_at timestamptz NOT NULL, value float8, PRIMARY KEY (id, created_at)) PARTITION BY RANGE (created_at);
        CREATE TABLE measurements_2024 PARTITION OF measurements FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
        INSERT INTO measurements SELECT g, '2024-03-01'::timestamptz + g * interval '1 day', g FROM generate_series(1, 25) g;

        -- the same table name in another schema
        CREATE SCHEMA billing;
        CREATE TABLE billing.users (id int PRIMARY KEY, iban text);
        CREATE TABLE billing."Invoice Items" (id int PRIMARY KEY, amount numeric);
        """;
}

public sealed class MetadataGeneratorTests(GeneratorSourceDatabase db) : IClassFixture<GeneratorSourceDatabase>, IDisposable
{
    private readonly MetadataFolder _folder = new(db.ConnectionsYaml());

    public void Dispose() => _folder.Dispose();

    private Task<GenerateReport> GenerateAsync(bool force = false) =>
        MetadataGenerator.GenerateAsync(_folder.Root, "qvp", new GenerateOptions(WindowThresholdRows: 20, Force: force));

    [Fact]
    public async Task Generated_files_load_back_with_keys_and_modes_chosen_from_the_source()
    {
        var report = await GenerateAsync();

        var metadata = MetadataLoader.Load(_folder.Root);
        SourceTable Table(string processId) => metadata.FindTable(processId) ?? throw new Xunit.Sdk.XunitException($"{processId} not generated");

        var countries = Table("stg.qvp.countries");
        Assert.Equal((CdcMode.Full, false), (countries.Cdc.Mode, countries.KeySweep));
        Assert.Equal(["code"], countries.Key);

        var orders = Table("stg.qvp.orders");
        Assert.Equal(new CdcSpec(CdcMode.Window, orders.Cdc.Columns, Days: 7, FullEvery: TimeSpan.FromDays(7)), orders.Cdc);
        Assert.Equal(["created_at", "updated_at"], orders.Cdc.Columns);
        Assert.True(orders.KeySweep);
        Assert.Null(orders.SoftDeleteColumn);

        var lines = Table("stg.qvp.order_lines");
        Assert.Equal(["order_id", "line_no"], lines.Key);
        Assert.Equal(CdcMode.Window, lines.Cdc.Mode);
        Assert.Equal(["modifiedOn"], lines.Cdc.Columns);

        var users = Table("stg.qvp.users");
        Assert.Equal((CdcMode.Full, "deleted_at"), (users.Cdc.Mode, users.SoftDeleteColumn));
        Assert.Equal(("public", "users", "qvp_users"), (users.Schema, users.Table, users.StgTable));

        Assert.Equal(["tag_id"], Table("stg.qvp.tags").Key);
        Assert.Equal(CdcMode.Full, Table("stg.qvp.readings").Cdc.Mode);

        var billingUsers = Table("stg.qvp.billing_users");
        Assert.Equal(("billing", "users", "qvp_billing_users"), (billingUsers.Schema, billingUsers.Table, billingUsers.StgTable));
        var items = Table("stg.qvp.Invoice_Items");
        Assert.Equal(("billing", "Invoice Items"), (items.Schema, items.Table));

        var measurements = Table("stg.qvp.measurements");
        Assert.Equal((CdcMode.Window, 2), (measurements.Cdc.Mode, measurements.Key.Count));
        Assert.DoesNotContain(metadata.Tables, t => t.Table == "measurements_2024");

        Assert.Equal(9, metadata.Tables.Count);
        var skipped = Assert.Single(report.Tables, t => t.Outcome == GenerateOutcome.NoKey);
        Assert.Equal(new QualifiedName("public", "audit_log"), skipped.Source.Name);
        Assert.Contains("no created/updated timestamp column", report.Tables.Single(t => t.Source.Name.Name == "readings").Note);
        Assert.Contains("unique index tags_tag_id_key", report.Tables.Single(t => t.Source.Name.Name == "tags").Note);
    }

    [Fact]
    public async Task Row_counts_come_from_the_planner_when_analyzed_and_are_counted_otherwise()
    {
        var report = await GenerateAsync();

        var orders = report.Tables.Single(t => t.Source.Name == new QualifiedName("public", "orders")).Source.Rows!;
        var lines = report.Tables.Single(t => t.Source.Name == new QualifiedName("public", "order_lines")).Source.Rows!;
        Assert.Equal(new RowEstimate(50, Exact: false), orders);
        Assert.Equal(new RowEstimate(30, Exact: true), lines);
        Assert.Equal(new RowEstimate(25, Exact: true), report.Tables.Single(t => t.Source.Name.Name == "measurements").Source.Rows);
    }

    [Fact]
    public async Task A_generated_file_starts_with_the_columns_and_the_row_count()
    {
        await GenerateAsync();

        var text = File.ReadAllText(_folder.PathOf("tables/qvp/orders.yaml"));

        Assert.StartsWith("# qvp public.orders: about 50 rows (planner estimate)\n", text);
        Assert.Contains("#   id          bigint                    not null, primary key\n", text);
        Assert.Contains("#   created_at  timestamp with time zone  not null\n", text);
        Assert.Contains("""
            key: [id]
            cdc:
              mode: window
              columns: [created_at, updated_at]
              days: 7
            key_sweep: true
            full_every: 7d
            """.ReplaceLineEndings("\n"), text);
        Assert.Contains("table: \"billing.Invoice Items\"\n", File.ReadAllText(_folder.PathOf("tables/qvp/Invoice_Items.yaml")));
    }

    [Fact]
    public async Task An_existing_file_is_kept_unless_forced()
    {
        await GenerateAsync();
        var file = _folder.PathOf("tables/qvp/countries.yaml");
        File.WriteAllText(file, File.ReadAllText(file) + "# edited by hand\n");

        var again = await GenerateAsync();

        Assert.Equal(GenerateOutcome.Exists, again.Tables.Single(t => t.File == file).Outcome);
        Assert.EndsWith("# edited by hand\n", File.ReadAllText(file));
        Assert.Equal(0, again.Written);

        var forced = await GenerateAsync(force: true);

        Assert.Equal(GenerateOutcome.Overwritten, forced.Tables.Single(t => t.File == file).Outcome);
        Assert.DoesNotContain("edited by hand", File.ReadAllText(file));
    }

    [Fact]
    public async Task A_table_already_described_under_another_file_name_is_not_generated_twice()
    {
        var own = _folder.Write("tables/qvp/nations.yaml", "source: qvp\ntable: countries\nname: nations\nkey: [code]\ncdc: { mode: full }\n");

        var report = await GenerateAsync();

        var countries = report.Tables.Single(t => t.Source.Name.Name == "countries");
        Assert.Equal((GenerateOutcome.Covered, own), (countries.Outcome, countries.File));
        Assert.False(File.Exists(_folder.PathOf("tables/qvp/countries.yaml")));
        Assert.Single(MetadataLoader.Load(_folder.Root).Tables, t => t.Table == "countries");
    }

    [Fact]
    public async Task An_unknown_source_is_an_error_naming_connections_yaml()
    {
        var e = await Assert.ThrowsAsync<MetadataException>(() => MetadataGenerator.GenerateAsync(_folder.Root, "svp", new GenerateOptions()));

        Assert.Equal($"{_folder.PathOf("connections.yaml")}: unknown source 'svp' (defined: qvp)", e.Message);
    }
}
