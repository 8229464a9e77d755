using Ferry.Shared.Metadata;
using Ferry.Shared.Verify;
using Ferry.Tests.Bl;

namespace Ferry.Tests.Verify;

public sealed class CheckFileTests
{
    private const string Good = """
        -- title: Invoice totals per month
        -- tolerance: 0.01
        --
        -- A free comment: with a colon.
        -- source: qvp
        SELECT 'a' AS key, 1 AS value
        -- source: svp
        SELECT 'a', 2;
        -- target
        -- the target rows are summed too
        SELECT 'a', 3
        """;

    [Fact]
    public void A_check_file_gives_its_title_tolerance_and_one_query_per_side_with_its_line()
    {
        var check = CheckFile.Parse("/x/invoice_totals.sql", Good);
        Assert.Equal("invoice_totals", check.Name);
        Assert.Equal("Invoice totals per month", check.Title);
        Assert.Equal(0.01m, check.Tolerance);
        Assert.Equal(["qvp", "svp"], check.Sources.Select(s => s.Source));
        Assert.Equal([5, 7], check.Sources.Select(s => s.Line));
        Assert.Equal("SELECT 'a', 2", check.Sources[1].Sql);
        Assert.Equal(9, check.Target.Line);
        Assert.Contains("SELECT 'a', 3", check.Target.Sql);
        Assert.Equal(11, check.Target.LineOf(check.Target.Sql.IndexOf("SELECT", StringComparison.Ordinal) + 1));
    }

    [Fact]
    public void Without_a_tolerance_a_check_tolerates_no_difference()
    {
        var check = CheckFile.Parse("c.sql", "-- title: T\n-- source: qvp\nSELECT 'a', 1\n-- target\nSELECT 'a', 1\n");
        Assert.Equal(0m, check.Tolerance);
    }

    [Theory]
    [InlineData("-- title: T\n-- tolerence: 1\n-- source: qvp\nSELECT 1, 1\n-- target\nSELECT 1, 1", "bad.sql:2: unknown header field 'tolerence'")]
    [InlineData("-- tolerance: 1\n-- source: qvp\nSELECT 1, 1\n-- target\nSELECT 1, 1", "bad.sql:1: the header has no 'title:' line")]
    [InlineData("-- title: T\n-- tolerance: a cent\n-- source: qvp\nSELECT 1, 1\n-- target\nSELECT 1, 1", "bad.sql:2: tolerance 'a cent' is not a non-negative number")]
    [InlineData("-- title: T\nSELECT 1, 1\n-- source: qvp\nSELECT 1, 1\n-- target\nSELECT 1, 1", "bad.sql:2: SQL before the first '-- source: <name>' line")]
    [InlineData("-- title: T\n-- source: qvp\nSELECT 1, 1\n-- source: qvp\nSELECT 1, 1\n-- target\nSELECT 1, 1", "bad.sql:4: source 'qvp' has two queries (first on line 2)")]
    [InlineData("-- title: T\n-- source: qvp\n-- only a comment\n-- target\nSELECT 1, 1", "bad.sql:2: the query of source 'qvp' is empty")]
    [InlineData("-- title: T\n-- source: qvp\nSELECT 1, 1\n", "bad.sql:4: no '-- target' query")]
    [InlineData("-- title: T\n-- source:\nSELECT 1, 1\n-- target\nSELECT 1, 1", "bad.sql:2: '-- source:' needs a source name")]
    public void A_malformed_check_is_reported_with_its_file_and_line(string text, string expected)
    {
        var e = Assert.Throws<CheckFileException>(() => CheckFile.Parse("/checks/bad.sql", text));
        Assert.StartsWith(expected, e.Message);
    }

    [Fact]
    public void The_metadata_loader_names_the_file_and_line_of_a_malformed_check_and_of_an_unknown_source()
    {
        var root = CopyOfDemoMetadata();
        var checks = Path.Combine(root, "checks");
        File.WriteAllText(Path.Combine(checks, "broken.sql"), "-- title: Broken\n-- tolerance: -1\n-- source: qvp\nSELECT 1, 1\n-- target\nSELECT 1, 1\n");
        File.WriteAllText(Path.Combine(checks, "elsewhere.sql"), "-- title: Elsewhere\n-- source: crm\nSELECT 1, 1\n-- target\nSELECT 1, 1\n");

        var e = Assert.Throws<MetadataException>(() => MetadataLoader.Load(Path.Combine(root, "metadata")));
        Assert.Contains(e.Errors, x => x.File.EndsWith("broken.sql", StringComparison.Ordinal) && x.Line == 2 && x.Message.Contains("tolerance '-1'"));
        Assert.Contains(e.Errors, x => x.File.EndsWith("elsewhere.sql", StringComparison.Ordinal) && x.Line == 2 && x.Message.Contains("unknown source 'crm'"));
    }

    [Fact]
    public void The_demo_metadata_loads_the_demo_checks()
    {
        var metadata = MetadataLoader.Load(Path.Combine(BlTestBed.SqlRoot, "..", "metadata"));
        Assert.True(metadata.Checks.Count >= 6, $"{metadata.Checks.Count} checks");
        Assert.Contains(metadata.Checks, c => c.Name == "invoice_totals_per_month");
    }

    /// <summary>metadata/ and sql/ of the repository copied to a temporary project, with connections.yaml pointing at checks/ there.</summary>
    private static string CopyOfDemoMetadata()
    {
        var root = Path.Combine(Path.GetTempPath(), "ferry-checks-" + Guid.NewGuid().ToString("N"));
        var repo = Path.GetFullPath(Path.Combine(BlTestBed.SqlRoot, ".."));
        foreach (var file in Directory.EnumerateFiles(Path.Combine(repo, "metadata"), "*", SearchOption.AllDirectories))
        {
            var to = Path.Combine(root, Path.GetRelativePath(repo, file));
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(file, to);
        }
        Directory.CreateDirectory(Path.Combine(root, "checks"));
        var connections = Path.Combine(root, "metadata", "connections.yaml");
        File.WriteAllText(connections, File.ReadAllText(connections)
            .Replace("transforms: ../sql/bl", "transforms: " + Path.Combine(repo, "sql", "bl"), StringComparison.Ordinal)
            .Replace("checks: ../sql/checks", "checks: ../checks", StringComparison.Ordinal));
        return root;
    }
}
