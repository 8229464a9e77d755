using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Ferry.Cli.Api;
using Ferry.Coordinator.Api;
using Ferry.Shared.Processes;
using Ferry.Shared.Stg;
using Ferry.Shared.Cluster;
using Ferry.Shared.History;

namespace Ferry.Tests.Api;

[Collection(ApiCollection.Name)]
public sealed class CoordinatorApiTests(ApiTestHost host)
{
    private static readonly CancellationToken None = CancellationToken.None;

    private static async Task<JsonElement> JsonOf(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    [Fact]
    public async Task Every_api_path_refuses_a_request_without_a_token_or_with_a_wrong_one()
    {
        using var anonymous = host.Http();
        using var wrong = host.Http(ApiToken.Generate());
        foreach (var (method, path) in new[] { ("GET", "api/runs"), ("POST", "api/runs"), ("GET", "api/processes"), ("GET", "api/cluster"),
                     ("GET", "api/sharding"), ("GET", "api/history"), ("GET", "api/runs/r-1/log"), ("GET", "api/no-such-thing"), ("GET", "API/runs"), ("GET", "//api/runs") })
        {
            foreach (var client in new[] { anonymous, wrong })
            {
                // Absolute, so that "//api/runs" reaches the server as a path rather than naming a host.
                var uri = new Uri(host.BaseUri.GetLeftPart(UriPartial.Authority) + "/" + path);
                using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), uri)
                    { Content = method == "POST" ? JsonContent.Create(new { targets = new[] { "sneaky" } }) : null });
                Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
                Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
                Assert.False(string.IsNullOrEmpty((await JsonOf(response)).GetProperty("error").GetString()));
            }
        }
        Assert.DoesNotContain(host.ReceivedRuns, r => r.Targets.Contains("sneaky"));
    }

    [Fact]
    public async Task The_token_never_appears_in_a_response_or_a_log_line()
    {
        using var anonymous = host.Http();
        using var authorized = host.Http(host.Token);
        var seen = new StringBuilder();
        async Task Collect(HttpResponseMessage response)
        {
            seen.AppendLine(response.ToString()).AppendLine(await response.Content.ReadAsStringAsync());
            response.Dispose();
        }
        foreach (var path in new[] { "api/runs", "api/runs/pr-known", "api/runs/nope", "api/processes", "api/processes/stg.qvp.users", "api/cluster",
                     "api/sharding", "api/history", "api/history?limit=abc", "api/nothing", "healthz" })
        {
            await Collect(await anonymous.GetAsync(path));
            await Collect(await authorized.GetAsync(path));
        }
        await Collect(await authorized.PostAsync("api/runs", new StringContent("{not json", Encoding.UTF8, "application/json")));
        await Collect(await authorized.PostAsJsonAsync("api/runs", new { targets = new[] { "busy" } }));

        Assert.DoesNotContain(host.Token, seen.ToString());
        Assert.NotEmpty(host.Logs.Lines);
        Assert.DoesNotContain(host.Logs.Lines, line => line.Contains(host.Token));
    }

    [Fact]
    public async Task The_health_probes_answer_without_a_token_from_the_nodes_real_state()
    {
        using var anonymous = host.Http();
        foreach (var path in new[] { "healthz", "readyz" })
        {
            using var response = await anonymous.GetAsync(path);
            // This host's target is not a database it can reach: the probe says so instead of a constant "ok".
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            var report = await JsonOf(response);
            Assert.Equal("failing", report.GetProperty("status").GetString());
            var checks = report.GetProperty("checks").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!, c => c);
            Assert.True(checks["member"].GetProperty("ok").GetBoolean(), checks["member"].GetProperty("detail").GetString());
            Assert.False(checks["target"].GetProperty("ok").GetBoolean());
            Assert.Contains("target database 127.0.0.1:5432/unipacc", checks["target"].GetProperty("detail").GetString());
            Assert.False(checks["journal"].GetProperty("ok").GetBoolean());
            Assert.Equal(path == "readyz", checks.ContainsKey("pipeline runner"));
        }
    }

    [Fact]
    public async Task Starting_a_run_answers_202_with_the_plan_and_passes_mode_and_key_sweep_to_the_runner()
    {
        using var http = host.Http(host.Token);
        using var response = await http.PostAsync("api/runs",
            new StringContent("""{"targets": ["daily"], "mode": "bulk", "keySweep": true}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("/api/runs/pr-daily", response.Headers.Location?.ToString());
        var body = await JsonOf(response);
        Assert.Equal("pr-daily", body.GetProperty("pipelineRunId").GetString());
        Assert.Equal("daily", body.GetProperty("name").GetString());
        var plan = body.GetProperty("plan").EnumerateArray().Select(g => g.EnumerateArray().Select(p => p.GetString()!).ToList()).ToList();
        Assert.Equal(StubPipelineRunner.Plan.Select(g => g.ToList()), plan);
        Assert.Contains(host.ReceivedRuns, r => r.Targets.SequenceEqual(["daily"]) && r.Mode == RunMode.Bulk && r.KeySweep == true && r.RequestedBy == "api");
    }

    [Fact]
    public async Task A_rejected_run_answers_409_with_the_reason_and_the_active_pipeline_run()
    {
        using var http = host.Http(host.Token);
        using var response = await http.PostAsJsonAsync("api/runs", new { targets = new[] { "busy" } });

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var body = await JsonOf(response);
        Assert.Equal("stg.qvp.users is already running in pipeline run pr-busy", body.GetProperty("reason").GetString());
        Assert.Equal("pr-busy", body.GetProperty("activePipelineRunId").GetString());

        using var client = host.Client();
        var start = await client.StartRunAsync(["busy"], RunMode.Incremental, null, None);
        Assert.Null(start.Accepted);
        Assert.Equal("pr-busy", start.Rejected?.ActivePipelineRunId);
    }

    [Fact]
    public async Task A_run_request_without_targets_or_with_broken_json_is_a_400_with_a_message()
    {
        using var http = host.Http(host.Token);
        using var empty = await http.PostAsJsonAsync("api/runs", new { targets = Array.Empty<string>() });
        using var broken = await http.PostAsync("api/runs", new StringContent("{\"targets\": [", Encoding.UTF8, "application/json"));
        using var badMode = await http.PostAsJsonAsync("api/runs", new { targets = new[] { "x" }, mode = "sometimes" });

        foreach (var response in new[] { empty, broken, badMode })
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.DoesNotContain('\n', (await JsonOf(response)).GetProperty("error").GetString()!);
        }
    }

    [Fact]
    public async Task A_pipeline_run_status_round_trips_through_the_api_and_the_client()
    {
        using var client = host.Client();
        var status = await client.GetRunAsync("pr-known", None);
        var list = await client.ListRunsAsync(1, None);

        Assert.Equal(JsonSerializer.Serialize(StubPipelineRunner.Known, ApiJson.Options), JsonSerializer.Serialize(status, ApiJson.Options));
        Assert.Equal(new MergeCounts(1000, 3, 1, 10), status.Processes[0].Result?.Counts);
        Assert.Equal(JsonSerializer.Serialize(StubPipelineRunner.Known, ApiJson.Options), JsonSerializer.Serialize(Assert.Single(list.Runs), ApiJson.Options));

        using var http = host.Http(host.Token);
        var raw = await JsonOf(await http.GetAsync("api/runs/pr-known"));
        Assert.Equal("succeeded", raw.GetProperty("state").GetString());
        Assert.Equal("bulk", raw.GetProperty("mode").GetString());
    }

    [Fact]
    public async Task An_unknown_pipeline_run_is_a_404()
    {
        using var client = host.Client();
        var e = await Assert.ThrowsAsync<FerryApiException>(() => client.GetRunAsync("pr-nope", None));
        Assert.Equal(HttpStatusCode.NotFound, e.Status);
        Assert.Contains("no pipeline run pr-nope", e.Message);
    }

    [Fact]
    public async Task A_runs_log_is_served_page_by_page_with_whether_it_still_runs()
    {
        var sink = new Ferry.Shared.Logging.RunLogSink(host.RunLogConnectionString, new Ferry.Shared.Logging.SecretMask([]), "w1:4053");
        var template = new Serilog.Parsing.MessageTemplateParser();
        await sink.EmitBatchAsync(new[] { "extracted 10 rows", "loaded 10 rows" }.Select(m => new Serilog.Events.LogEvent(DateTimeOffset.UtcNow,
            Serilog.Events.LogEventLevel.Information, null, template.Parse(m),
            [new("RunId", new Serilog.Events.ScalarValue("r-api-log")), new("ProcessId", new Serilog.Events.ScalarValue("stg.qvp.users"))])).ToList());
        using var client = host.Client();

        var page = await client.GetRunLogAsync("r-api-log", 0, None);
        Assert.Equal(["extracted 10 rows", "loaded 10 rows"], page.Lines.Select(l => l.Message));
        Assert.False(page.Running);
        var rest = await client.GetRunLogAsync("r-api-log", page.Next, None);
        Assert.Empty(rest.Lines);
        Assert.Equal(page.Next, rest.Next);
        Assert.Empty((await client.GetRunLogAsync("r-nothing", 0, None)).Lines);
    }

    [Fact]
    public async Task Cancelling_a_run_answers_with_the_run_as_it_stands_after_the_cancel()
    {
        using var client = host.Client();
        var status = await client.CancelRunAsync("pr-cancel", None);
        Assert.Equal(PipelineRunState.Cancelled, status.State);

        var e = await Assert.ThrowsAsync<FerryApiException>(() => client.CancelRunAsync("pr-nope", None));
        Assert.Equal(HttpStatusCode.NotFound, e.Status);
    }

    [Fact]
    public async Task The_process_list_shows_every_process_of_the_metadata_and_marks_one_that_does_not_answer()
    {
        using var client = host.Client();
        var list = await client.GetProcessesAsync(None);

        Assert.Equal(["stg.qvp.users", "stg.qvp.orders", "stg.svp.slow", "verify.qvp.users", "verify.qvp.orders", "verify.svp.slow"],
            list.Processes.Select(p => p.ProcessId));
        var users = list.Processes[0];
        Assert.True(users.Answered);
        Assert.Equal(new MergeCounts(1000, 0, 0, 0), users.Status?.LastSuccess?.Counts);
        Assert.Equal(ProcessStep.Loading, list.Processes[1].Status?.Step);
        var silent = list.Processes[2];
        Assert.False(silent.Answered);
        Assert.Null(silent.Status);
    }

    [Fact]
    public async Task One_process_answers_with_its_status_an_unknown_one_is_404_and_a_silent_one_is_503()
    {
        using var client = host.Client();
        var status = await client.GetProcessAsync("stg.qvp.orders", None);
        Assert.Equal("r-orders-2", status.ActiveRunId);
        Assert.Equal("stg.qvp.orders: load failed: part-00003.csv.gz is truncated", status.LastFailure?.Error);

        var unknown = await Assert.ThrowsAsync<FerryApiException>(() => client.GetProcessAsync("stg.qvp.typo", None));
        Assert.Equal(HttpStatusCode.NotFound, unknown.Status);

        var silent = await Assert.ThrowsAsync<FerryApiException>(() => client.GetProcessAsync(StubProcessRegion.SilentProcess, None));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, silent.Status);
        Assert.Contains("did not answer within 3 s", silent.Message);
    }

    [Fact]
    public async Task The_history_comes_from_the_run_history_table_filtered_by_process_and_pipeline_run()
    {
        var start = DateTimeOffset.UtcNow.AddMinutes(-5);
        await host.History.RecordAsync(new RunRecord("stg.qvp.users", "r-h-1", "pr-h", RunMode.Bulk, start, RunStatus.Succeeded, "idle",
            new Dictionary<string, double> { ["extracting"] = 1.5 }, start.AddMinutes(1), null, "akka.tcp://ferry@w1:4053", new MergeCounts(10, 2, 1, 7)));
        await host.History.RecordAsync(new RunRecord("stg.qvp.orders", "r-h-2", null, RunMode.Incremental, start.AddMinutes(2), RunStatus.Running, "loading",
            new Dictionary<string, double>(), null, null, "akka.tcp://ferry@w2:4053"));

        using var client = host.Client();
        var users = await client.GetHistoryAsync("stg.qvp.users", null, 10, None);
        var row = Assert.Single(users.Runs, r => r.RunId == "r-h-1");
        Assert.Equal((10L, 2L, 1L, 7L), (row.Inserted, row.Updated, row.Deleted, row.Unchanged));
        Assert.Equal(RunStatus.Succeeded, row.Status);
        Assert.All(users.Runs, r => Assert.Equal("stg.qvp.users", r.ProcessId));

        var ofPipeline = await client.GetHistoryAsync(null, "pr-h", 10, None);
        Assert.Equal("r-h-1", Assert.Single(ofPipeline.Runs).RunId);

        var newest = await client.GetHistoryAsync(null, null, 1, None);
        Assert.Equal("r-h-2", Assert.Single(newest.Runs).RunId);

        var badLimit = await Assert.ThrowsAsync<FerryApiException>(() => client.GetHistoryAsync(null, null, 0, None));
        Assert.Equal(HttpStatusCode.BadRequest, badLimit.Status);
    }

    [Fact]
    public async Task The_cluster_endpoint_shows_the_single_self_member_up_and_leading()
    {
        using var client = host.Client();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        ClusterMembership membership;
        do
        {
            membership = await client.GetClusterAsync(None);
            if (membership.Members.Any(m => m.Status == "up")) break;
            await Task.Delay(200);
        } while (DateTime.UtcNow < deadline);

        Assert.Equal(host.SelfAddress, membership.Self);
        var self = Assert.Single(membership.Members);
        Assert.Equal(host.SelfAddress, self.Address);
        Assert.Equal("up", self.Status);
        Assert.True(self.Reachable);
        Assert.Contains("coordinator", self.Roles);
        Assert.Equal(host.SelfAddress, membership.Leader);
        Assert.Empty(membership.Unreachable);
    }

    [Fact]
    public async Task Downing_a_member_that_is_not_in_the_cluster_is_404_and_names_it()
    {
        using var client = host.Client();
        var missing = await Assert.ThrowsAsync<FerryApiException>(() => client.DownAsync("akka.tcp://ferry@127.0.0.1:1", None));
        Assert.Equal(HttpStatusCode.NotFound, missing.Status);
        Assert.Contains("no member akka.tcp://ferry@127.0.0.1:1", missing.Message);
    }

    [Fact]
    public async Task The_sharding_endpoint_reports_shards_and_entities_per_node()
    {
        using var client = host.Client();
        var sharding = await client.GetShardingAsync(None);

        var region = Assert.Single(sharding.Regions);
        Assert.Equal(ProcessSharding.TypeName, region.TypeName);
        Assert.Equal((3, 6), (region.Shards, region.Entities));
        Assert.Equal(["akka.tcp://ferry@w1:4053", "akka.tcp://ferry@w2:4053"], region.Nodes.Select(n => n.Address));
        Assert.Equal((2, 4), (region.Nodes[0].Shards, region.Nodes[0].Entities));
        Assert.Equal(["4"], region.Nodes[1].FailedShards);
    }
}
