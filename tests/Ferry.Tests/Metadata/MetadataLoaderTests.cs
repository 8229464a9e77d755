using Ferry.Shared.Metadata;

namespace Ferry.Tests.Metadata;

public sealed class MetadataLoaderTests : IDisposable
{
    private readonly MetadataFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private const string Users = """
        source: qvp
        table: public.users
        key: [id]
        cdc:
          mode: window
          columns: [created_at, updated_at, deleted_at]
          days: 7
        soft_delete_column: deleted_at
        key_sweep: true
        chunking: { threshold_rows: 2000000, rows_per_chunk: 1000000, parallelism: 2 }
        """;

    private static MetadataException LoadFails(string root) => Assert.Throws<MetadataException>(() => MetadataLoader.Load(root));

    [Fact]
    public void The_example_metadata_folder_in_the_repository_loads()
    {
        var repo = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(repo, "Ferry.slnx")))
            repo = Path.GetDirectoryName(repo) ?? throw new InvalidOperationException("repository root not found");

        var metadata = MetadataLoader.Load(Path.Combine(repo, "metadata"));

        Assert.Equal(["qvp", "svp"], metadata.Sources.Keys.Order());
        Assert.Equal("QVP_PASSWORD", metadata.Sources["qvp"].Password!.Variable);
        Assert.Equal(2, metadata.Sources["qvp"].MaxConcurrentExtracts);
        Assert.Equal("stg", metadata.Target.StgSchema);
        Assert.Equal(ObjectStoreKind.Filesystem, metadata.ObjectStore.Kind);
        Assert.True(Path.IsPathRooted(metadata.ObjectStore.Path));
        Assert.All(metadata.Tables, t => Assert.Contains(t.Source, metadata.Sources.Keys));
    }

    [Fact]
    public void A_table_file_loads_into_a_source_table_with_its_process_id_and_stg_table()
    {
        var file = _folder.Write("tables/qvp/users.yaml", Users);

        var metadata = MetadataLoader.Load(_folder.Root);

        var users = Assert.Single(metadata.Tables);
        Assert.Equal("stg.qvp.users", users.ProcessId);
        Assert.Equal(("public", "users", "qvp_users"), (users.Schema, users.Table, users.StgTable));
        Assert.Equal(["id"], users.Key);
        Assert.Equal(CdcMode.Window, users.Cdc.Mode);
        Assert.Equal(["created_at", "updated_at", "deleted_at"], users.Cdc.Columns);
        Assert.Equal(7, users.Cdc.Days);
        Assert.Equal("deleted_at", users.SoftDeleteColumn);
        Assert.True(users.KeySweep);
        Assert.Equal(new ChunkingSpec(2_000_000, 1_000_000, 2), users.Chunking);
        Assert.Equal(file, users.File);
        Assert.Same(users, metadata.FindTable("stg.qvp.users"));
        Assert.Equal(Path.Combine(_folder.Project, ".ferry", "objects"), metadata.ObjectStore.Path);
    }

    [Fact]
    public void Optional_fields_take_their_documented_defaults()
    {
        _folder.Write("tables/svp/Order_Lines.yaml", """
            source: svp
            table: sales."Order.Lines"
            name: order_lines
            key: [order_id, line_no]
            cdc: { mode: watermark, column: updated_at }
            """);
        _folder.Write("tables/svp/countries.yaml", "source: svp\ntable: countries\nkey: code\ncdc: { mode: full }\n");

        var metadata = MetadataLoader.Load(_folder.Root);

        var lines = metadata.FindTable("stg.svp.order_lines")!;
        Assert.Equal(("sales", "Order.Lines", "svp_order_lines"), (lines.Schema, lines.Table, lines.StgTable));
        Assert.Equal(["order_id", "line_no"], lines.Key);
        Assert.Equal(new CdcSpec(CdcMode.Watermark, lines.Cdc.Columns, WatermarkColumn: "updated_at", Overlap: TimeSpan.FromMinutes(10)) with { Days = 7 }, lines.Cdc);
        Assert.Equal(["updated_at"], lines.Cdc.Columns);
        Assert.Equal(ChunkingSpec.Default, lines.Chunking);
        Assert.False(lines.KeySweep);
        Assert.Null(lines.SoftDeleteColumn);

        var countries = metadata.FindTable("stg.svp.countries")!;
        Assert.Equal(("public", CdcMode.Full), (countries.Schema, countries.Cdc.Mode));
        Assert.Equal(["code"], countries.Key);
    }

    [Fact]
    public void A_watermark_overlap_accepts_seconds_minutes_hours_and_days()
    {
        _folder.Write("tables/qvp/events.yaml", "source: qvp\ntable: events\nkey: [id]\ncdc: { mode: watermark, column: changed_at, overlap: 1h30m }\n");

        var events = Assert.Single(MetadataLoader.Load(_folder.Root).Tables);

        Assert.Equal(TimeSpan.FromMinutes(90), events.Cdc.Overlap);
    }

    [Fact]
    public void Full_every_is_read_as_a_duration_into_the_tables_cdc()
    {
        _folder.Write("tables/qvp/events.yaml", "source: qvp\ntable: events\nkey: [id]\ncdc: { mode: window, columns: [changed_at] }\nfull_every: 7d\n");

        Assert.Equal(TimeSpan.FromDays(7), Assert.Single(MetadataLoader.Load(_folder.Root).Tables).Cdc.FullEvery);
    }

    public static TheoryData<string, string, int, int, string> MalformedTableFiles => new()
    {
        {
            "a full_every that is not a duration",
            "source: qvp\ntable: public.users\nkey: [id]\ncdc: { mode: window, columns: [updated_at] }\nfull_every: 7days\n",
            5, 13, "'full_every' must be a duration such as 12h, 7d or 1d12h, found '7days'"
        },
        {
            "a misspelt key",
            "source: qvp\ntable: public.users\nkey: [id]\ncdc:\n  mode: window\n  days: 7\n  colums: [created_at]\n",
            7, 3, "unknown key 'colums' in 'cdc' (did you mean 'columns'? expected one of: mode, columns, days, column, overlap)"
        },
        {
            "bad YAML syntax",
            "source: qvp\ntable: public.users\nkey: [id]\n cdc:\n  mode: full\n",
            4, 2, "invalid YAML: while parsing a block mapping, did not find expected key"
        },
        {
            "a list that is never closed",
            "source: qvp\ntable: public.users\nkey: [id, name\ncdc:\n  mode: full\n",
            3, 6, "invalid YAML in the [...] or {...} that starts here"
        },
        {
            "a tab used for indentation",
            "source: qvp\ntable: public.users\nkey: [id]\ncdc:\n\tmode: full\n",
            5, 1, "tab used for indentation"
        },
        {
            "a wrong type",
            "source: qvp\ntable: public.users\nkey:\n  id: 1\ncdc: { mode: full }\n",
            4, 3, "'key' must be a list of column names, found a mapping"
        },
        {
            "a number that is not one",
            "source: qvp\ntable: public.users\nkey: [id]\ncdc: { mode: window, columns: [updated_at], days: seven }\n",
            4, 51, "'cdc.days' must be a whole number, found 'seven'"
        },
        {
            "a missing required field",
            "source: qvp\ntable: public.users\ncdc: { mode: full }\n",
            1, 1, "missing required field 'key'"
        },
        {
            "a required field left empty",
            "source: qvp\ntable: public.users\nkey: [id]\ncdc:\n",
            4, 1, "'cdc' has no value"
        },
        {
            "an invalid mode",
            "source: qvp\ntable: public.users\nkey: [id]\ncdc:\n  mode: incremental\n",
            5, 9, "invalid cdc mode 'incremental' (expected one of: full, window, watermark)"
        },
        {
            "an empty key",
            "source: qvp\ntable: public.users\nkey: []\ncdc: { mode: full }\n",
            3, 6, "'key' must name at least one column"
        },
        {
            "a key column named twice",
            "source: qvp\ntable: public.users\nkey: [id, id]\ncdc: { mode: full }\n",
            3, 11, "'key' names column 'id' twice"
        },
        {
            "a duplicate key in the file",
            "source: qvp\ntable: public.users\nkey: [id]\ncdc: { mode: full }\ntable: public.people\n",
            5, 1, "duplicate key 'table' (first given on line 2)"
        },
        {
            "a window without columns",
            "source: qvp\ntable: public.users\nkey: [id]\ncdc:\n  mode: window\n  days: 3\n",
            5, 3, "missing required field 'columns' in 'cdc'"
        },
        {
            "a setting of another mode",
            "source: qvp\ntable: public.users\nkey: [id]\ncdc:\n  mode: window\n  columns: [updated_at]\n  overlap: 10m\n",
            7, 3, "'cdc.overlap' applies only to mode watermark (this table's mode is window)"
        },
        {
            "a key sweep on a full table",
            "source: qvp\ntable: public.users\nkey: [id]\ncdc: { mode: full }\nkey_sweep: true\n",
            5, 12, "'key_sweep' applies only to window and watermark tables"
        },
        {
            "a source that does not exist",
            "source: xvp\ntable: public.users\nkey: [id]\ncdc: { mode: full }\n",
            1, 9, "source 'xvp' does not match the folder tables/qvp/"
        },
        {
            "a bad duration",
            "source: qvp\ntable: public.users\nkey: [id]\ncdc:\n  mode: watermark\n  column: updated_at\n  overlap: 10 minutes\n",
            7, 12, "'cdc.overlap' must be a duration such as 30s, 10m, 2h or 1d, found '10 minutes'"
        },
        {
            "a list at the top of the file",
            "- source: qvp\n",
            1, 1, "expected key: value lines (source, table, key, cdc), found a list"
        },
    };

    [Theory]
    [MemberData(nameof(MalformedTableFiles))]
    public void Each_kind_of_malformed_table_file_is_reported_with_its_file_line_and_column(string kind, string yaml, int line, int column, string message)
    {
        var file = _folder.Write("tables/qvp/users.yaml", yaml);

        var error = Assert.Single(LoadFails(_folder.Root).Errors);

        Assert.True(error.File == file && error.Line == line && error.Column == column && error.Message.Contains(message),
            $"{kind}: expected {file}:{line}:{column}: ...{message}..., got {error}");
    }

    [Fact]
    public void The_message_reads_path_line_column_then_what_is_wrong()
    {
        var file = _folder.Write("tables/qvp/users.yaml", Users.Replace("  columns:", "  colums:"));

        var e = LoadFails(_folder.Root);

        Assert.Equal($"{file}:6:3: unknown key 'colums' in 'cdc' (did you mean 'columns'? expected one of: mode, columns, days, column, overlap)", e.Message);
    }

    [Fact]
    public void A_process_id_defined_by_two_files_is_reported_at_the_second_with_the_first_named()
    {
        var first = _folder.Write("tables/qvp/users.yaml", Users);
        var second = _folder.Write("tables/qvp/users_copy.yaml", "source: qvp\ntable: public.accounts\nname: users\nstg_table: qvp_accounts\nkey: [id]\ncdc: { mode: full }\n");

        var error = Assert.Single(LoadFails(_folder.Root).Errors);

        Assert.Equal((second, 3, 7), (error.File, error.Line, error.Column));
        Assert.Equal($"duplicate process stg.qvp.users: already defined by {first}:2 (give one of them another name:)", error.Message);
    }

    [Fact]
    public void Two_tables_writing_the_same_stg_table_are_an_error()
    {
        _folder.Write("tables/qvp/users.yaml", Users);
        var second = _folder.Write("tables/qvp/visitors.yaml", "source: qvp\ntable: people\nstg_table: qvp_users\nkey: [id]\ncdc: { mode: full }\n");

        var error = Assert.Single(LoadFails(_folder.Root).Errors);

        Assert.Equal((second, 3), (error.File, error.Line));
        Assert.StartsWith("duplicate STG table qvp_users", error.Message);
    }

    [Fact]
    public void Errors_in_several_files_are_reported_together()
    {
        var a = _folder.Write("tables/qvp/a.yaml", "source: qvp\ntable: a\nkey: [id]\ncdc: { mode: sometimes }\n");
        var b = _folder.Write("tables/qvp/b.yaml", "source: qvp\ntable: b\nkey: [id]\ncdc: { mode: full }\nextra: 1\n");
        var c = _folder.Write("tables/svp/c.yaml", "source: svp\ntable: c\n");

        var e = LoadFails(_folder.Root);

        Assert.Equal([a, b, c, c], e.Errors.Select(x => x.File));
        Assert.StartsWith("4 metadata errors:", e.Message);
        Assert.Contains($"{b}:5:1: unknown key 'extra'", e.Message);
    }

    [Fact]
    public void A_literal_password_is_rejected_without_repeating_it()
    {
        using var folder = new MetadataFolder(MetadataFolder.Connections.Replace("password: \"${SVP_PASSWORD}\"", "password: s3cret-Pa55"));

        var error = Assert.Single(Assert.Throws<MetadataException>(() => MetadataLoader.Load(folder.Root)).Errors);

        Assert.Equal((folder.PathOf("connections.yaml"), 3), (error.File, error.Line));
        Assert.Contains("passwords only as ${ENV} references", error.Message);
        Assert.Contains("${SVP_PASSWORD}", error.Message);
        Assert.DoesNotContain("s3cret", error.Message);
    }

    [Theory]
    [InlineData("password: \"${SVP_PASSWORD}\"", "password: \"${SVP_PASSWORD:-s3cret-Pa55}\"", 3, 65, "sources.svp.password")]
    [InlineData("password: \"${TARGET_PASSWORD}\"", "password: \"${TARGET_PASSWORD:-}\"", 4, 70, "target.password")]
    public void A_secret_with_a_default_is_rejected_at_its_position_without_repeating_the_default(string reference, string withDefault, int line, int column, string field)
    {
        using var folder = new MetadataFolder(MetadataFolder.Connections.Replace(reference, withDefault));

        var error = Assert.Single(Assert.Throws<MetadataException>(() => MetadataLoader.Load(folder.Root)).Errors);

        Assert.Equal((folder.PathOf("connections.yaml"), line, column), (error.File, error.Line, error.Column));
        Assert.StartsWith($"'{field}' has a default value: passwords only as ${{ENV}} references without a default", error.Message);
        Assert.DoesNotContain("s3cret", error.Message);
    }

    [Fact]
    public void An_object_store_key_with_a_default_is_rejected()
    {
        using var folder = new MetadataFolder(MetadataFolder.Connections.Replace(
            "object_store: { kind: filesystem, path: .ferry/objects }",
            "object_store:\n  kind: s3\n  bucket: b\n  access_key: \"${OCI_KEY}\"\n  secret_key: \"${OCI_SECRET:-AbCdEf}\"\n"));

        var error = Assert.Single(Assert.Throws<MetadataException>(() => MetadataLoader.Load(folder.Root)).Errors);

        Assert.Equal((9, 15), (error.Line, error.Column));
        Assert.Contains("'object_store.secret_key' has a default value: secrets only as ${ENV} references", error.Message);
        Assert.DoesNotContain("AbCdEf", error.Message);
    }

    [Fact]
    public void A_literal_password_in_the_shipped_metadata_is_the_only_error_reported()
    {
        // The shipped metadata: pipelines.yaml names bl.* and files.*, whose transforms folder connections.yaml declares.
        using var project = new MetadataFolder(connections: null);
        CopyFolder(Path.Combine(RepositoryRoot(), "metadata"), project.Root);
        CopyFolder(Path.Combine(RepositoryRoot(), "sql", "bl"), Path.Combine(project.Project, "sql", "bl"));
        CopyFolder(Path.Combine(RepositoryRoot(), "sql", "checks"), Path.Combine(project.Project, "sql", "checks"));
        var file = project.PathOf("connections.yaml");
        File.WriteAllText(file, File.ReadAllText(file).Replace("password: \"${QVP_PASSWORD}\"", "password: hunter2"));

        var error = Assert.Single(LoadFails(project.Root).Errors);

        Assert.Equal(file, error.File);
        Assert.Contains("'sources.qvp.password' is a literal value", error.Message);
    }

    [Fact]
    public void A_group_naming_a_process_that_does_not_exist_is_still_reported_when_everything_else_loads()
    {
        _folder.Write("tables/qvp/users.yaml", Users);
        var pipelines = _folder.Write("pipelines.yaml", "groups:\n  g: [stg.qvp.usres]\npipelines:\n  p: { groups: [g] }\n");

        var error = LoadFails(_folder.Root).Errors[0];

        Assert.Equal((pipelines, 2), (error.File, error.Line));
        Assert.Contains("'stg.qvp.usres' matches no process (did you mean 'stg.qvp.users'?)", error.Message);
    }

    private static string RepositoryRoot()
    {
        var repo = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(repo, "Ferry.slnx")))
            repo = Path.GetDirectoryName(repo) ?? throw new InvalidOperationException("repository root not found");
        return repo;
    }

    private static void CopyFolder(string from, string to)
    {
        foreach (var path in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, path));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(path, target, overwrite: true);
        }
    }

    [Fact]
    public void Object_store_keys_must_be_environment_references_too()
    {
        using var folder = new MetadataFolder(MetadataFolder.Connections.Replace(
            "object_store: { kind: filesystem, path: .ferry/objects }",
            "object_store:\n  kind: s3\n  bucket: b\n  access_key: \"${OCI_KEY}\"\n  secret_key: AbCdEf\n"));

        var error = Assert.Single(Assert.Throws<MetadataException>(() => MetadataLoader.Load(folder.Root)).Errors);

        Assert.Equal(9, error.Line);
        Assert.Contains("secrets only as ${ENV} references", error.Message);
        Assert.DoesNotContain("AbCdEf", error.Message);
    }

    [Fact]
    public void Hosts_and_ports_are_expanded_from_the_environment_and_passwords_stay_references()
    {
        Environment.SetEnvironmentVariable("FERRY_LOADER_TEST_PORT", "6543");
        using var folder = new MetadataFolder(MetadataFolder.Connections.Replace(
            "qvp: { host: 127.0.0.1, port: 5432,",
            "qvp: { host: \"${FERRY_LOADER_TEST_HOST:-db.internal}\", port: \"${FERRY_LOADER_TEST_PORT:-5432}\","));

        var qvp = MetadataLoader.Load(folder.Root).Sources["qvp"];

        Assert.Equal(("db.internal", 6543), (qvp.Host, qvp.Port));
        Assert.Equal(new SecretRef("QVP_PASSWORD"), qvp.Password);
        Assert.Equal("qvp (ferry@db.internal:6543/qvp)", qvp.ToString());
    }

    [Fact]
    public void An_unset_variable_without_a_default_is_an_error_at_its_line()
    {
        using var folder = new MetadataFolder(MetadataFolder.Connections.Replace("svp: { host: 127.0.0.1,", "svp: { host: \"${FERRY_LOADER_TEST_UNSET}\","));

        var error = Assert.Single(Assert.Throws<MetadataException>(() => MetadataLoader.Load(folder.Root)).Errors);

        Assert.Equal((3, 16), (error.Line, error.Column));
        Assert.Contains("environment variable FERRY_LOADER_TEST_UNSET is not set", error.Message);
    }

    [Fact]
    public void A_port_that_is_not_a_number_is_an_error()
    {
        using var folder = new MetadataFolder(MetadataFolder.Connections.Replace("port: 5432", "port: \"${FERRY_LOADER_TEST_NOPORT:-fivefour}\""));

        var error = Assert.Single(Assert.Throws<MetadataException>(() => MetadataLoader.Load(folder.Root)).Errors);

        Assert.Equal(2, error.Line);
        Assert.Contains("'sources.qvp.port' must be a whole number from 1 to 65535, found 'fivefour'", error.Message);
    }

    [Fact]
    public void A_missing_connections_file_is_named()
    {
        using var folder = new MetadataFolder(connections: null);

        var error = Assert.Single(Assert.Throws<MetadataException>(() => MetadataLoader.Load(folder.Root)).Errors);

        Assert.Equal(folder.PathOf("connections.yaml"), error.File);
        Assert.Null(error.Line);
    }

    [Fact]
    public void A_table_of_a_source_that_connections_yaml_does_not_define_is_an_error()
    {
        var file = _folder.Write("tables/xvp/users.yaml", Users.Replace("source: qvp", "source: xvp"));

        var error = Assert.Single(LoadFails(_folder.Root).Errors);

        Assert.Equal((file, 1, 9), (error.File, error.Line, error.Column));
        Assert.Equal("unknown source 'xvp' (connections.yaml defines: qvp, svp)", error.Message);
    }
}
