using Ferry.Shared.Metadata;
using Ferry.Worker.Introspection;

namespace Ferry.Tests.Metadata;

public sealed class ProcessValidatorDatabase : SourceDatabaseFixture
{
    protected override string Prefix => "metadata_validate_processes";

    // One database plays source and target: a listing table for a files process, a BL target and one STG table.
    protected override string SetupSql => """
        CREATE TABLE public.file_storage (id bigint PRIMARY KEY, object_key text NOT NULL, size_bytes bigint NOT NULL, created_at timestamptz NOT NULL);
        CREATE SCHEMA stg;
        CREATE TABLE stg.src_people (id int PRIMARY KEY, name text, stg_updated_at timestamptz NOT NULL DEFAULT now());
        CREATE SCHEMA bl;
        CREATE TABLE bl.people (id bigint PRIMARY KEY, name text);
        """;
}

/// <summary>`ferry metadata validate` on BL transforms (compiled against the target, nothing written) and files processes.</summary>
public sealed class ProcessValidatorTests(ProcessValidatorDatabase db) : IClassFixture<ProcessValidatorDatabase>, IDisposable
{
    private readonly MetadataFolder _folder = new(db.ConnectionsYaml().Replace("target: { ", "target: { transforms: ../sql/bl, "));

    public void Dispose() => _folder.Dispose();

    private string WriteTransform(string name, string text)
    {
        var path = Path.Combine(_folder.Project, "sql", "bl", name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text.ReplaceLineEndings("\n"));
        return path;
    }

    private async Task<ValidationReport> ValidateAsync()
    {
        var metadata = MetadataLoader.Load(_folder.Root, out var positions);
        return await MetadataValidator.ValidateAsync(metadata, positions);
    }

    [Fact]
    public async Task A_transform_with_a_SQL_error_is_a_problem_at_its_file_and_line_and_one_over_an_unloaded_STG_table_a_warning()
    {
        WriteTransform("people.sql", """
            -- target: bl.people
            -- key: id
            SELECT dwh.map_id('src', 'person', p.id::text) AS id, p.name
            FROM stg.src_people p WHERE p.stg_updated_at >= @since
            """);
        var broken = WriteTransform("pets.sql", """
            -- target: bl.people
            -- key: id

            SELECT p.id, p.nmae AS name
            FROM stg.src_people p
            """.Replace("bl.people", "bl.pets"));
        var unloaded = WriteTransform("later.sql", """
            -- target: bl.people
            -- key: id
            SELECT id, name FROM stg.not_loaded_yet
            """.Replace("bl.people", "bl.later"));
        await db.ExecuteAsync("CREATE TABLE IF NOT EXISTS bl.pets (id int PRIMARY KEY, name text); CREATE TABLE IF NOT EXISTS bl.later (id int PRIMARY KEY, name text)");

        var report = await ValidateAsync();

        var problem = Assert.Single(report.Problems);
        Assert.Equal((broken, 4), (problem.File, problem.Line));
        Assert.Contains("column p.nmae does not exist", problem.Message);
        var warning = Assert.Single(report.Warnings);
        Assert.Equal((unloaded, 3), (warning.File, warning.Line));
        Assert.StartsWith("not checked: relation \"stg.not_loaded_yet\" does not exist", warning.Message);
        Assert.Equal(3, report.TransformsChecked);
        // Nothing was written: the DWH objects the check needed were rolled back.
        await using var conn = new Npgsql.NpgsqlConnection(db.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new Npgsql.NpgsqlCommand("SELECT to_regnamespace('dwh') IS NULL", conn);
        Assert.True((bool)(await cmd.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task A_missing_target_table_and_a_files_listing_column_that_does_not_exist_are_problems()
    {
        var transform = WriteTransform("ghost.sql", "-- target: bl.ghost\n-- key: id\nSELECT 1 AS id\n");
        Directory.CreateDirectory(Path.Combine(_folder.Project, "buckets", "qvp"));
        var files = _folder.Write("files/qvp.yaml", """
            source: qvp
            table: public.file_storage
            columns: { key: object_key, size: size_bytes, checksum: checksum_md5, created_at: created_at }
            source_store: { kind: filesystem, path: buckets/qvp }
            target_store: { kind: filesystem, path: buckets/unipacc }
            target_key: "qvp/{key}"
            """);

        var report = await ValidateAsync();

        Assert.Equal(2, report.Problems.Count);
        Assert.Contains(report.Problems, p => p.File == transform && p.Message.StartsWith("target table bl.ghost does not exist"));
        Assert.Contains(report.Problems, p => p.File == files && p.Line == 2
            && p.Message == "columns.checksum: column 'checksum_md5' does not exist in public.file_storage");
        Assert.Equal(1, report.FilesChecked);
    }
}
