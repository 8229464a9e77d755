using System.Net;
using System.Text.Json;
using Ferry.Cli.Api;
using Ferry.Cli.Commands;
using Ferry.Cli.Rendering;
using Ferry.Coordinator.Api;
using Ferry.Shared.Metadata;
using Ferry.Shared.Stg;
using Ferry.Shared.Verify;
using Ferry.Tests.Api;
using Ferry.Tests.Stg;

namespace Ferry.Tests.Verify;

/// <summary>
/// `ferry verify` as an operator uses it: the targets it takes, a local verification that finds a changed row,
/// keeps it in the target and writes it as JSON and HTML, and the API that lists what was kept.
/// </summary>
public class VerifyCommandTests
{
    private static readonly SourceTable Items = StgTestBed.Table("items", ["id"]);

    [Fact]
    public void Targets_name_verify_processes_or_the_processes_they_check_and_nothing_named_is_everything()
    {
        Assert.Equal(["verify.*"], VerifyTargets.From([]));
        Assert.Equal(["verify.qvp.users", "verify.qvp.*", "verify.files.qvp", "verify.checks", "verify.orphans", "verify.svp.requests"],
            VerifyTargets.From(["stg.qvp.users", "stg.qvp.*", "files.qvp", "bl.*", "verify.svp.requests", "bl.unipacc.users"]));
        var e = Assert.Throws<ArgumentException>(() => VerifyTargets.From(["nightly"]));
        Assert.Contains("'nightly' is not a process id or pattern", e.Message);
    }

    [Fact]
    public async Task A_local_verification_finds_a_changed_row_keeps_it_in_the_target_and_writes_it_as_JSON_and_HTML()
    {
        await using var bed = await StgTestBed.CreateAsync("vcmd");
        await bed.ExecSourceAsync("CREATE TABLE items (id int PRIMARY KEY, name text, price numeric); " +
                                  "INSERT INTO items SELECT g, 'item ' || g, g * 1.25 FROM generate_series(1, 500) g");
        await bed.Process(Items).RunAsync(Items, RunMode.Bulk);
        await bed.ExecTargetAsync("UPDATE stg.src_items SET name = '<b>changed</b>' WHERE id = 42");
        var metadata = bed.Metadata(Items);
        var store = new VerifyStore(bed.TargetConnectionString);

        var verification = await VerifyCommand.RunLocalAsync(metadata, store, VerifyTargets.From([]), VerifySettings.Default, 2, CancellationToken.None);

        Assert.Equal(VerifyOutcome.Differs, verification.Outcome);
        var result = Assert.Single(verification.Results);
        Assert.Equal("verify.src.items", result.ProcessId);
        var difference = Assert.Single(result.Items);
        Assert.Equal(("id=42", DifferenceKind.Different), (difference.Item, difference.Kind));
        Assert.Equal(["name"], difference.Columns);

        // Kept in the target: listed, and read back whole.
        var listed = Assert.Single(await store.ListAsync());
        Assert.Equal((verification.VerificationId, 1, 1, 1L), (listed.VerificationId, listed.Processes, listed.Differs, listed.Differences));
        var kept = await store.GetAsync(verification.VerificationId);
        Assert.Equal(difference, Assert.Single(Assert.Single(kept!.Results).Items), new DifferenceComparer());

        // The JSON has every difference; the HTML page shows both values, escaped, and needs nothing from the network.
        var json = JsonSerializer.Serialize(verification, ApiJson.Options);
        var back = JsonSerializer.Deserialize<Verification>(json, ApiJson.Options)!;
        Assert.Equal("id=42", Assert.Single(Assert.Single(back.Results).Items).Item);
        var html = VerifyHtmlReport.Build(verification, DateTimeOffset.UtcNow);
        Assert.Contains("id=42", html);
        Assert.Contains("item 42", html);
        Assert.Contains("&lt;b&gt;changed&lt;/b&gt;", html);
        Assert.DoesNotContain("<b>changed", html);
        foreach (var external in new[] { "http://", "https://", "<script", "<link", "src=" })
            Assert.DoesNotContain(external, html, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_clean_copy_verifies_equal_and_the_terminal_summary_says_so()
    {
        await using var bed = await StgTestBed.CreateAsync("vcmdok");
        await bed.ExecSourceAsync("CREATE TABLE items (id int PRIMARY KEY, name text); INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 50) g");
        await bed.Process(Items).RunAsync(Items, RunMode.Bulk);

        var verification = await VerifyCommand.RunLocalAsync(bed.Metadata(Items), new VerifyStore(bed.TargetConnectionString), ["verify.src.*"],
            VerifySettings.Default, 1, CancellationToken.None);

        Assert.Equal(VerifyOutcome.Equal, verification.Outcome);
        Assert.StartsWith("[green]equal[/]: all 1 verify processes", VerifyTable.Summary(verification));
    }

    private sealed class DifferenceComparer : IEqualityComparer<VerifyDifference>
    {
        public bool Equals(VerifyDifference? a, VerifyDifference? b) =>
            a!.Kind == b!.Kind && a.Item == b.Item && a.Columns.SequenceEqual(b.Columns) && a.Detail == b.Detail
            && Same(a.Source, b.Source) && Same(a.Target, b.Target);

        private static bool Same(IReadOnlyDictionary<string, string?>? x, IReadOnlyDictionary<string, string?>? y) =>
            x is null ? y is null : y is not null && x.Count == y.Count && x.All(kv => y.TryGetValue(kv.Key, out var v) && v == kv.Value);

        public int GetHashCode(VerifyDifference d) => d.Item.GetHashCode(StringComparison.Ordinal);
    }
}

/// <summary>GET /api/verifications reads what verify processes kept; POST /api/runs passes --max-age on to the runner.</summary>
[Collection(ApiCollection.Name)]
public class VerificationApiTests(ApiTestHost host)
{
    [Fact]
    public async Task The_API_lists_kept_verifications_newest_first_and_answers_404_for_an_unknown_one()
    {
        var store = new VerifyStore(host.RunLogConnectionString);
        var id = $"pl-api-{Guid.NewGuid():N}";
        var differing = new VerifyResult("verify.qvp.users", "public.users → stg.qvp_users", VerifyOutcome.Differs, 10, 9,
            [new VerifyDifference(DifferenceKind.Missing, "id=7", ["name"], new Dictionary<string, string?> { ["name"] = "Ann" })], TimeSpan.FromSeconds(1.5));
        await store.RecordAsync(id, "r-1", differing);
        await store.RecordAsync(id, "r-2", new VerifyResult("verify.checks", "key indicators", VerifyOutcome.Equal, 4, 4, [], TimeSpan.FromSeconds(0.2)));
        using var client = host.Client();

        var list = await client.ListVerificationsAsync(500, CancellationToken.None);
        var summary = Assert.Single(list.Verifications, v => v.VerificationId == id);
        Assert.Equal((2, 1, 1, 1L, VerifyOutcome.Differs), (summary.Processes, summary.Equal, summary.Differs, summary.Differences, summary.Outcome));
        var verification = await client.GetVerificationAsync(id, CancellationToken.None);
        Assert.Equal(["verify.checks", "verify.qvp.users"], verification.Results.Select(r => r.ProcessId));
        Assert.Equal("Ann", verification.Results[1].Items[0].Source!["name"]);

        var e = await Assert.ThrowsAsync<FerryApiException>(() => client.GetVerificationAsync("pl-none", CancellationToken.None));
        Assert.Equal(HttpStatusCode.NotFound, e.Status);
    }

    [Fact]
    public async Task A_run_started_with_a_max_age_passes_it_to_the_pipeline_runner()
    {
        using var client = host.Client();

        await client.StartRunAsync(["verify.maxage.*"], RunMode.Incremental, null, CancellationToken.None, TimeSpan.FromMinutes(5));

        Assert.Contains(host.ReceivedRuns, r => r.Targets.SequenceEqual(["verify.maxage.*"]) && r.MaxAge == TimeSpan.FromMinutes(5));
    }
}
