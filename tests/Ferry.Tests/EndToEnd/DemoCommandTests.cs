namespace Ferry.Tests.EndToEnd;

public class DemoCommandTests
{
    [Fact]
    public async Task Ferry_demo_runs_bulk_and_incremental_loads_end_to_end_BL_matches_a_full_rebuild_and_ferry_verify_finds_everything_equal()
    {
        var home = Path.Combine(Path.GetTempPath(), $"ferry-demo-{Guid.NewGuid():N}");
        try
        {
            var result = await FerryCli.RunAsync(Path.GetTempPath(), null, "demo", "--home", home, "--scale", "2");

            Assert.True(result.ExitCode == 0, result.Output);
            Assert.Contains("Day 1: bulk load into STG", result.Output);
            Assert.Contains("Day 2: incremental load into STG", result.Output);
            Assert.Contains("(stg.* files.* bl.*, bulk): succeeded", result.Output);
            Assert.Contains("(stg.* files.* bl.*, incremental): succeeded", result.Output);
            Assert.Matches(@"([\d,]+) of \1 attachments point at their copy in the unified bucket", result.Output);
            // It ends with ferry verify on its own cluster: every source table, the indicators, orphans and attachments equal.
            Assert.Matches(@"equal: all \d+ verify processes found source and target the same", result.Output);
            var report = await File.ReadAllTextAsync(Path.Combine(home, "verify-report.html"));
            Assert.Contains("verify.qvp.users", report);
            Assert.Contains("verify.checks", report);
            // The business layer: built after STG, incremental equal to a full rebuild, counts printed.
            Assert.Contains("(bl.*, bulk): succeeded", result.Output);
            Assert.Contains("The business layer matches a full rebuild", result.Output);
            Assert.Matches(@"UniPACC now holds: organisations [1-9][\d,]*, users [1-9][\d,]*, verification_requests [1-9]", result.Output);
            // The extracts are kept, with their manifests, for replay.
            Assert.NotEmpty(Directory.GetFiles(Path.Combine(home, "objects"), "manifest.json", SearchOption.AllDirectories));
            // The attachments are in the unified bucket, under each system's prefix.
            Assert.NotEmpty(Directory.GetFiles(Path.Combine(home, "buckets", "unipacc", "qvp"), "*", SearchOption.AllDirectories));
            Assert.NotEmpty(Directory.GetFiles(Path.Combine(home, "buckets", "unipacc", "svp"), "*", SearchOption.AllDirectories));
        }
        finally
        {
            try { Directory.Delete(home, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    [Fact]
    public async Task A_malformed_metadata_file_is_reported_with_its_path_and_line_and_nothing_runs()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"ferry-badmeta-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path.Combine(dir, "tables", "qvp"));
        File.Copy(Path.Combine(AppContext.BaseDirectory, "metadata", "connections.yaml"), Path.Combine(dir, "connections.yaml"));
        await File.WriteAllTextAsync(Path.Combine(dir, "tables", "qvp", "users.yaml"), "source: qvp\ntable: public.users\nkey: [id]\ncdc:\n  mode: sometimes\n");
        try
        {
            var result = await FerryCli.RunAsync(Path.GetTempPath(), null, "run", "stg.qvp.users", "--local", "--metadata", dir);

            Assert.Equal(2, result.ExitCode);
            Assert.Contains(Path.Combine(dir, "tables", "qvp", "users.yaml") + ":5:", result.Output);
            Assert.Contains("sometimes", result.Output);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
