using System.CommandLine;
using Ferry.Cli.Commands;
using Ferry.Shared.Metadata;
using Ferry.Worker.Introspection;

namespace Ferry.Tests.Metadata;

public sealed class ValidatorSourceDatabase : SourceDatabaseFixture
{
    protected override string Prefix => "metadata_validate";

    protected override string SetupSql => """
        CREATE TABLE users (
            id int PRIMARY KEY,
            email text,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at text,
            deleted_at timestamptz);
        CREATE TABLE events (id bigint NOT NULL, happened_on date);
        CREATE VIEW active_users AS SELECT * FROM users WHERE deleted_at IS NULL;
        """;
}

public sealed class MetadataValidatorTests(ValidatorSourceDatabase db) : IClassFixture<ValidatorSourceDatabase>, IDisposable
{
    private readonly MetadataFolder _folder = new(db.ConnectionsYaml());

    public void Dispose() => _folder.Dispose();

    private const string GoodUsers = """
        source: qvp
        table: public.users
        key: [id]
        cdc:
          mode: window
          columns: [created_at, deleted_at]
        soft_delete_column: deleted_at
        key_sweep: true
        """;

    private async Task<ValidationReport> ValidateAsync()
    {
        var metadata = MetadataLoader.Load(_folder.Root, out var positions);
        return await MetadataValidator.ValidateAsync(metadata, positions);
    }

    [Fact]
    public async Task Metadata_that_matches_the_source_validates_without_problems()
    {
        _folder.Write("tables/qvp/users.yaml", GoodUsers);
        _folder.Write("tables/qvp/active_users.yaml", "source: qvp\ntable: active_users\nkey: [id]\ncdc: { mode: full }\n");

        var report = await ValidateAsync();

        Assert.True(report.Ok, string.Join("\n", report.Problems));
        Assert.Empty(report.Warnings);
        Assert.Equal((2, 1), (report.TablesChecked, report.SourcesChecked));
    }

    [Fact]
    public async Task A_missing_column_is_reported_with_its_file_and_line()
    {
        var file = _folder.Write("tables/qvp/users.yaml", GoodUsers.Replace("key: [id]", "key: [id, tenant_id]").Replace("soft_delete_column: deleted_at", "soft_delete_column: removed_at"));

        var report = await ValidateAsync();

        Assert.Equal([
            $"{file}:3:11: key column 'tenant_id' does not exist in public.users",
            $"{file}:7:21: soft_delete_column 'removed_at' does not exist in public.users",
        ], report.Problems.Select(p => p.ToString()));
    }

    [Fact]
    public async Task Cdc_columns_must_exist_and_be_timestamps_or_dates()
    {
        var file = _folder.Write("tables/qvp/users.yaml", GoodUsers.Replace("[created_at, deleted_at]", "[created_at, updated_at, deleted_on]"));
        var events = _folder.Write("tables/qvp/events.yaml", "source: qvp\ntable: events\nkey: [id]\ncdc:\n  mode: watermark\n  column: happened_on\n");

        var report = await ValidateAsync();

        Assert.Equal([
            $"{file}:6:25: cdc column 'updated_at' of public.users is text: window mode needs a timestamp, timestamptz or date column",
            $"{file}:6:37: cdc column 'deleted_on' does not exist in public.users (did you mean 'deleted_at'?)",
        ], report.Problems.Select(p => p.ToString()));
        // events has no primary key: a warning, not a problem
        var warning = Assert.Single(report.Warnings);
        Assert.Equal((events, 3), (warning.File, warning.Line));
        Assert.Contains("is not the primary key or a unique index of public.events", warning.Message);
    }

    [Fact]
    public async Task A_table_that_does_not_exist_is_reported_with_a_suggestion()
    {
        var file = _folder.Write("tables/qvp/users.yaml", GoodUsers.Replace("public.users", "public.user"));

        var problem = Assert.Single((await ValidateAsync()).Problems);

        Assert.Equal($"{file}:2:8: table public.user does not exist on source qvp (did you mean public.users?)", problem.ToString());
    }

    [Fact]
    public async Task A_source_that_cannot_be_reached_is_one_problem_at_its_connection()
    {
        using var folder = new MetadataFolder(db.ConnectionsYaml().Replace("qvp: { host: 127.0.0.1, port: \"${FERRY_TEST_PG_PORT}\"", "qvp: { host: 127.0.0.1, port: 1"));
        folder.Write("tables/qvp/users.yaml", GoodUsers);

        var metadata = MetadataLoader.Load(folder.Root, out var positions);
        var report = await MetadataValidator.ValidateAsync(metadata, positions);

        var problem = Assert.Single(report.Problems);
        Assert.Equal((folder.PathOf("connections.yaml"), 2, 3), (problem.File, problem.Line, problem.Column));
        Assert.StartsWith($"source qvp (ferry@127.0.0.1:1/{db.Database}) cannot be checked:", problem.Message);
        Assert.EndsWith("its 1 table(s) were not checked", problem.Message);
    }

    [Fact]
    public async Task The_validate_command_prints_every_problem_with_its_file_and_exits_1()
    {
        var file = _folder.Write("tables/qvp/users.yaml", GoodUsers.Replace("key: [id]", "key: [uid]"));
        var output = new StringWriter();

        var exit = await MetadataCommands.Build().Parse(["validate", "--metadata", _folder.Root])
            .InvokeAsync(new InvocationConfiguration { Output = output, Error = output });

        Assert.Equal(1, exit);
        Assert.Equal($"""
            {file}:3:7: key column 'uid' does not exist in public.users (did you mean 'id'?)
            1 problem(s) found checking 1 table(s) on 1 of 1 source(s)

            """.ReplaceLineEndings(Environment.NewLine), output.ToString());
    }

    [Fact]
    public async Task The_validate_command_reports_files_that_do_not_load_and_exits_1()
    {
        var file = _folder.Write("tables/qvp/users.yaml", GoodUsers.Replace("key_sweep: true", "key_sweep: sometimes"));
        var output = new StringWriter();

        var exit = await MetadataCommands.Build().Parse(["validate", "--metadata", _folder.Root])
            .InvokeAsync(new InvocationConfiguration { Output = output, Error = output });

        Assert.Equal(1, exit);
        Assert.StartsWith($"{file}:8:12: 'key_sweep' must be true or false, found 'sometimes'", output.ToString());
    }

    [Fact]
    public async Task The_generate_command_prints_a_summary_and_the_files_pass_validate()
    {
        var output = new StringWriter();

        var generated = await MetadataCommands.Build().Parse(["generate", "--source", "qvp", "--metadata", _folder.Root, "--window-threshold", "0"])
            .InvokeAsync(new InvocationConfiguration { Output = output, Error = output });
        var validated = await MetadataCommands.Build().Parse(["validate", "--metadata", _folder.Root])
            .InvokeAsync(new InvocationConfiguration { Output = output, Error = output });

        Assert.True(generated == 0 && validated == 0, output.ToString());
        var text = output.ToString();
        Assert.Contains("source qvp: 2 table(s): 1 written, 1 no key", text);
        Assert.Matches(@"public\.users +0 +window +id +written +\S+users\.yaml", text);
        Assert.Contains("1 table file(s) under", text);
        Assert.Contains("OK: 1 table(s) on 1 of 1 source(s) match their metadata", text);
    }
}
