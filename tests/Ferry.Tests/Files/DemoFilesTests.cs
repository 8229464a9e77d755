using Ferry.Cli.Demo;
using Ferry.Shared.Storage;
using Ferry.Tests.Infrastructure;
using Npgsql;

namespace Ferry.Tests.Files;

public sealed class DemoFilesTests
{
    [Fact]
    public async Task Demo_source_objects_have_exactly_the_bytes_whose_md5_the_generator_wrote_and_are_created_once()
    {
        await using var bed = await FilesTestBed.CreateAsync("files_demo");
        await using (var conn = new NpgsqlConnection(bed.SourceConnectionString))
        {
            await conn.OpenAsync();
            // The generator's own function, from sql/demo/helpers.sql, in this session.
            await using (var helpers = new NpgsqlCommand(await File.ReadAllTextAsync(SqlFolder.File("demo/helpers.sql")), conn))
                await helpers.ExecuteNonQueryAsync();
            await using var fill = new NpgsqlCommand("""
                INSERT INTO public.file_storage (object_key, size_bytes, checksum_md5, created_at, deleted_at)
                SELECT k, s, md5(pg_temp.file_content(k, s)), now(), CASE WHEN s = 13 THEN now() END
                FROM (VALUES ('uploads/2024/03/1/7.pdf', 5000::bigint), ('legacy/9/12-契約書.pdf', 8191), ('ab/ü', 13), ('empty', 0), ('x', 1),
                             ('legacy/3/4-bank statement "March".pdf', 777)) v(k, s)
                """, conn);
            await fill.ExecuteNonQueryAsync();
        }
        var files = FilesTestBed.Definition();
        var store = bed.Store(files.SourceStore);

        var first = await DemoFiles.CreateSourceObjectsAsync(bed.SourceConnectionString, files, store, default);
        var second = await DemoFiles.CreateSourceObjectsAsync(bed.SourceConnectionString, files, store, default);

        Assert.Equal((6L, 0L), first);
        Assert.Equal((0L, 6L), second);
        var rows = await Ferry.Tests.Stg.StgTestBed.RowsAsync(bed.SourceConnectionString, "SELECT object_key, size_bytes::text, checksum_md5 FROM public.file_storage");
        foreach (var row in rows)
        {
            var bytes = await store.GetBytesAsync(row[0]!);
            Assert.Equal((long.Parse(row[1]!), row[2]), ((long)bytes.Length, FilesTestBed.Md5Hex(bytes)));
        }
        // And the files process accepts every one of them as verified (the soft-deleted row is not copied).
        var result = await bed.RunAsync(files, Ferry.Shared.Stg.RunMode.Bulk, "r1");
        Assert.Equal(new Ferry.Shared.Files.FileCopyCounts(5, 0, 0), result.Counts);
    }
}
