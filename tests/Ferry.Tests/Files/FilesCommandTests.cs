using Ferry.Shared.Stg;
using Ferry.Tests.EndToEnd;
using Ferry.Tests.Infrastructure;
using Npgsql;

namespace Ferry.Tests.Files;

/// <summary>`ferry files run` and `ferry files failures`, as the real binary, against a metadata folder on the test PostgreSQL.</summary>
public sealed class FilesCommandTests
{
    [Fact]
    public async Task Ferry_files_failures_lists_the_files_that_failed_with_attempts_error_and_last_run()
    {
        await using var bed = await FilesTestBed.CreateAsync("files_cli");
        var files = FilesTestBed.Definition();
        var source = bed.Store(files.SourceStore);
        await bed.AddFileAsync("ok/1.pdf", 900, TimeSpan.FromDays(40), source);
        await bed.AddFileAsync("lost/2.pdf", 900, TimeSpan.FromDays(40), store: null);
        var server = await TestPostgres.GetAsync();
        string Db(string cs) => new NpgsqlConnectionStringBuilder(cs).Database!;
        var metadata = Path.Combine(bed.Project, "metadata");
        await File.WriteAllTextAsync(Path.Combine(metadata, "connections.yaml"), $$"""
            sources:
              qvp: { host: 127.0.0.1, port: {{server.Port}}, database: {{Db(bed.SourceConnectionString)}}, user: {{server.User}}, password: "${{{TestPostgres.PasswordVariable}}}" }
            target: { host: 127.0.0.1, port: {{server.Port}}, database: {{Db(bed.TargetConnectionString)}}, user: {{server.User}}, password: "${{{TestPostgres.PasswordVariable}}}" }
            object_store: { kind: filesystem, path: objects }
            """);
        Directory.CreateDirectory(Path.Combine(metadata, "files"));
        await File.WriteAllTextAsync(Path.Combine(metadata, "files", "qvp.yaml"), """
            source: qvp
            table: public.file_storage
            columns: { key: object_key, size: size_bytes, checksum: checksum_md5, created_at: created_at, deleted: deleted_at }
            source_store: { kind: filesystem, path: buckets/qvp }
            target_store: { kind: filesystem, path: buckets/unipacc }
            target_key: "qvp/{key}"
            """);
        var env = new Dictionary<string, string> { [TestPostgres.PasswordVariable] = server.Password };

        var none = await FerryCli.RunAsync(bed.Project, env, "files", "failures", "--metadata", metadata);
        var run = await FerryCli.RunAsync(bed.Project, env, "files", "run", "files.qvp", "--mode", "bulk", "--metadata", metadata);
        var failures = await FerryCli.RunAsync(bed.Project, env, "files", "failures", "--process", "files.qvp", "--metadata", metadata);
        var unknown = await FerryCli.RunAsync(bed.Project, env, "files", "failures", "--process", "files.nope", "--metadata", metadata);

        Assert.Equal(0, none.ExitCode);
        Assert.Contains("No failed files", none.Output);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("1 copied, 0 skipped, 1 failed", run.Output);
        Assert.Contains("failed: lost/2.pdf: source object lost/2.pdf not found", run.Output);
        Assert.Equal(0, failures.ExitCode);
        var lines = failures.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("PROCESS", lines[0]);
        Assert.Matches(@"^files\.qvp\s+lost/2\.pdf\s+1\s+\d{8}T\d{6}Z-[0-9a-f]{6}\s+source object lost/2\.pdf not found in filesystem ", lines[1]);
        Assert.Contains("1 failed file(s)", failures.Output);
        Assert.DoesNotContain(server.Password, run.Output + failures.Output);
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("files.nope is not a files process (defined: files.qvp)", unknown.Output);
        Assert.Equal("copied", (await bed.CopyAsync("ok/1.pdf")).Status);
    }
}
