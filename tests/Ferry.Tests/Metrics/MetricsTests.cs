using Microsoft.Extensions.DependencyInjection;
using System.Globalization;
using System.Text;
using Ferry.Cli.Metrics;
using Ferry.Shared.Files;
using Ferry.Shared.History;
using Ferry.Shared.Metrics;
using Ferry.Shared.Postgres;
using Ferry.Shared.Processes;
using Ferry.Shared.Stg;
using Ferry.Tests.Infrastructure;
using Ferry.Tests.Stg;
using Ferry.Worker.Processes;

namespace Ferry.Tests.Metrics;

/// <summary>
/// A node's /metrics endpoint, read as Prometheus reads it. The registry is process-wide and other tests run in this
/// process at the same time, so every assertion is about this test's own process ids (tables no other test creates),
/// or is a lower bound.
/// </summary>
public class MetricsTests
{
    [Fact]
    public async Task A_node_with_a_metrics_port_counts_each_run_and_its_exact_rows_once()
    {
        const int rows = 137;
        await using var bed = await StgTestBed.CreateAsync("metricsrows");
        await bed.ExecSourceAsync($"CREATE TABLE metrics_orders (id int PRIMARY KEY, v text); INSERT INTO metrics_orders SELECT g, 'v' || g FROM generate_series(1, {rows}) g;");
        var table = StgTestBed.Table("metrics_orders", ["id"]);
        var metadata = bed.Metadata(table);
        var metricsPort = LocalPostgres.FreeLoopbackPort();
        var services = new ProcessServices(metadata, bed.Store, new RunHistory(bed.TargetConnectionString));
        // As ferry's nodes do, the host knows the metadata (health reads the target from it).
        await using var node = await OneNode.StartAsync(metadata, services, bed.TargetConnectionString,
            s => s.AddSingleton(metadata).AddMetricsEndpoint("127.0.0.1", metricsPort));

        var (_, first) = await node.RunAsync([table.ProcessId], RunMode.Bulk);
        Assert.True(first.State == PipelineRunState.Succeeded, OneNode.Describe(first));
        // The same port answers health, worker or coordinator: an Up member whose target and journal answer.
        using (var http = new HttpClient())
        {
            using var health = await http.GetAsync($"http://127.0.0.1:{metricsPort}/healthz");
            var body = await health.Content.ReadAsStringAsync();
            Assert.True(health.StatusCode == System.Net.HttpStatusCode.OK, body);
            using var json = System.Text.Json.JsonDocument.Parse(body);
            Assert.Equal("ok", json.RootElement.GetProperty("status").GetString());
            Assert.Equal(["member", "target", "journal"], json.RootElement.GetProperty("checks").EnumerateArray().Select(c => c.GetProperty("name").GetString()));
        }
        var afterOne = await ScrapeAsync(metricsPort);
        var stg = Labels(("kind", "stg"), ("process", table.ProcessId));
        var process = Labels(("process", table.ProcessId));
        Assert.Equal(1, afterOne.Value("ferry_runs_started_total", stg));
        Assert.Equal(1, afterOne.Value("ferry_runs_succeeded_total", stg));
        Assert.Equal(0, afterOne.ValueOrZero("ferry_runs_failed_total", stg));
        Assert.Equal(rows, afterOne.Value("ferry_rows_extracted_total", process));
        Assert.Equal(rows, afterOne.Value("ferry_rows_loaded_total", process));
        Assert.Equal(rows, afterOne.Value("ferry_rows_inserted_total", process));
        Assert.Equal(0, afterOne.Value("ferry_rows_updated_total", process));
        Assert.True(afterOne.Value("ferry_step_duration_seconds_count", Labels(("kind", "stg"), ("step", "extracting"))) >= 1);
        Assert.True(afterOne.Value("ferry_pipeline_runs_total", Labels(("pipeline", "targets"), ("outcome", "succeeded"))) >= 1);
        Assert.True(afterOne.Value("ferry_process_entities", Labels(("kind", "stg"))) >= 1);   // this entity lives on this node
        // Read every 5 s from the cluster's state: some scrape soon shows this node up.
        Assert.True(await EventuallyAsync(async () => (await ScrapeAsync(metricsPort)).ValueOrZero("ferry_cluster_members", Labels(("status", "up"))) >= 1),
            "ferry_cluster_members{status=\"up\"} stayed 0");

        // A full table reloads every row, but the merge inserts none again: the counters say so.
        var (_, second) = await node.RunAsync([table.ProcessId], RunMode.Bulk);
        Assert.True(second.State == PipelineRunState.Succeeded, OneNode.Describe(second));
        var afterTwo = await ScrapeAsync(metricsPort);
        Assert.Equal(2, afterTwo.Value("ferry_runs_succeeded_total", stg));
        Assert.Equal(2 * rows, afterTwo.Value("ferry_rows_loaded_total", process));
        Assert.Equal(rows, afterTwo.Value("ferry_rows_inserted_total", process));
        Assert.Equal(0, afterTwo.Value("ferry_rows_updated_total", process));
    }

    [Fact]
    public async Task An_entity_that_recovers_on_a_restarted_node_does_not_count_its_past_runs_again()
    {
        const int rows = 61;
        await using var bed = await StgTestBed.CreateAsync("metricsrecover");
        await bed.ExecSourceAsync($"CREATE TABLE metrics_recovered (id int PRIMARY KEY, v text); INSERT INTO metrics_recovered SELECT g, 'v' || g FROM generate_series(1, {rows}) g;");
        var table = StgTestBed.Table("metrics_recovered", ["id"]);
        var metadata = bed.Metadata(table);
        var services = new ProcessServices(metadata, bed.Store, new RunHistory(bed.TargetConnectionString));
        await using (var first = await OneNode.StartAsync(metadata, services, bed.TargetConnectionString))
        {
            var (_, status) = await first.RunAsync([table.ProcessId], RunMode.Bulk);
            Assert.True(status.State == PipelineRunState.Succeeded, OneNode.Describe(status));
        }

        // The second node's entity replays the first run's events from the journal before it runs again.
        var metricsPort = LocalPostgres.FreeLoopbackPort();
        await using var second = await OneNode.StartAsync(metadata, services, bed.TargetConnectionString, s => s.AddMetricsEndpoint("127.0.0.1", metricsPort));
        var (_, again) = await second.RunAsync([table.ProcessId], RunMode.Bulk);

        Assert.True(again.State == PipelineRunState.Succeeded, OneNode.Describe(again));
        var metrics = await ScrapeAsync(metricsPort);
        var stg = Labels(("kind", "stg"), ("process", table.ProcessId));
        var process = Labels(("process", table.ProcessId));
        Assert.Equal(2, metrics.Value("ferry_runs_started_total", stg));
        Assert.Equal(2, metrics.Value("ferry_runs_succeeded_total", stg));
        Assert.Equal(2 * rows, metrics.Value("ferry_rows_extracted_total", process));
        Assert.Equal(2 * rows, metrics.Value("ferry_rows_loaded_total", process));
        Assert.Equal(rows, metrics.Value("ferry_rows_inserted_total", process));
    }

    [Fact]
    public async Task A_failed_run_is_counted_as_failed_and_no_password_from_the_environment_appears_in_the_metrics()
    {
        await using var bed = await StgTestBed.CreateAsync("metricsfail");
        // The table is in the metadata but not in the source: the extract fails for good.
        var table = StgTestBed.Table("metrics_missing", ["id"]);
        var metadata = bed.Metadata(table);
        var metricsPort = LocalPostgres.FreeLoopbackPort();
        var services = new ProcessServices(metadata, bed.Store, new RunHistory(bed.TargetConnectionString));
        await using var node = await OneNode.StartAsync(metadata, services, bed.TargetConnectionString, s => s.AddMetricsEndpoint("127.0.0.1", metricsPort));

        var (_, status) = await node.RunAsync([table.ProcessId], RunMode.Bulk);

        Assert.True(status.State == PipelineRunState.Failed, OneNode.Describe(status));
        var text = await ScrapeTextAsync(metricsPort);
        var metrics = Exposition.Parse(text);
        var stg = Labels(("kind", "stg"), ("process", table.ProcessId));
        Assert.Equal(1, metrics.Value("ferry_runs_started_total", stg));
        Assert.Equal(1, metrics.Value("ferry_runs_failed_total", stg));
        Assert.Equal(0, metrics.ValueOrZero("ferry_runs_succeeded_total", stg));
        Assert.Equal(0, metrics.ValueOrZero("ferry_rows_loaded_total", Labels(("process", table.ProcessId))));
        var password = Environment.GetEnvironmentVariable(TestPostgres.PasswordVariable);
        Assert.False(string.IsNullOrEmpty(password), "the test server's password is in the environment");
        Assert.DoesNotContain(password, text);
        Assert.All(metrics.Samples, s => Assert.DoesNotContain(s.Labels.Values, v => v.Contains(password!)));
    }

    [Fact]
    public async Task A_files_run_counts_its_files_by_outcome_and_a_merge_its_deleted_rows()
    {
        // A process id no other test uses: the registry is the process's own.
        const string files = "files.metricsfiles";
        const string stg = "stg.metricsdeletes.t";
        FerryMetrics.Persisted(ProcessKind.Files, files, new RunSucceeded("r1", new MergeCounts(0, 0, 0, 0), DateTimeOffset.UtcNow, new FileCopyCounts(5, 2, 0)));
        FerryMetrics.Persisted(ProcessKind.Files, files, new RunFailed("r2", "files.metricsfiles: 1 file failed", DateTimeOffset.UtcNow, new FileCopyCounts(3, 7, 1)));
        FerryMetrics.Persisted(ProcessKind.Stg, stg, new RunSucceeded("r3", new MergeCounts(10, 4, 3, 100), DateTimeOffset.UtcNow));

        var metrics = await ExportAsync();

        Assert.Equal(8, metrics.Value("ferry_files_total", Labels(("process", files), ("outcome", "copied"))));
        Assert.Equal(9, metrics.Value("ferry_files_total", Labels(("process", files), ("outcome", "skipped"))));
        Assert.Equal(1, metrics.Value("ferry_files_total", Labels(("process", files), ("outcome", "failed"))));
        Assert.Equal(1, metrics.Value("ferry_runs_failed_total", Labels(("kind", "files"), ("process", files))));
        Assert.Equal(10, metrics.Value("ferry_rows_inserted_total", Labels(("process", stg))));
        Assert.Equal(4, metrics.Value("ferry_rows_updated_total", Labels(("process", stg))));
        Assert.Equal(3, metrics.Value("ferry_rows_deleted_total", Labels(("process", stg))));
    }

    [Fact]
    public async Task An_entity_counts_in_the_active_runs_gauge_once_however_often_it_begins_or_ends()
    {
        var registry = Prometheus.Metrics.NewCustomRegistry();
        var gauge = Prometheus.Metrics.WithCustomRegistry(registry).CreateGauge("ferry_active_runs", "test", "kind");
        var first = new FerryMetrics.ActiveRunMark(gauge.WithLabels("stg"));
        var second = new FerryMetrics.ActiveRunMark(gauge.WithLabels("stg"));

        first.Begin();
        first.Begin();   // resumed after recovery, then the run's own start: still one run
        second.Begin();
        second.End();
        second.End();    // finished, then stopped
        var metrics = await ExportAsync(registry);

        Assert.Equal(1, metrics.Value("ferry_active_runs", Labels(("kind", "stg"))));
    }

    [Theory]
    [InlineData("nope")]
    [InlineData("70000")]
    [InlineData("0")]
    public async Task A_node_refuses_to_start_with_a_metrics_port_that_is_not_a_port(string port)
    {
        // Exit 2, "the node could not start", before it opens any port or database.
        var exit = await Ferry.Cli.Commands.NodeCommands.Worker().Parse(["--metrics-port", port])
            .InvokeAsync(new System.CommandLine.InvocationConfiguration { Output = TextWriter.Null, Error = TextWriter.Null });

        Assert.Equal(2, exit);
    }

    [Fact]
    public void A_metrics_port_is_optional_and_a_valid_one_is_taken()
    {
        Assert.True(MetricsEndpoint.TryParsePort(null, out var none));
        Assert.Null(none);
        Assert.True(MetricsEndpoint.TryParsePort(" 9464 ", out var port));
        Assert.Equal(9464, port);
    }

    [Fact]
    public void The_exposition_parser_reads_labels_with_escapes_and_skips_comments()
    {
        var parsed = Exposition.Parse("""
            # HELP ferry_x A help line
            # TYPE ferry_x counter
            ferry_x{process="stg.a.b",note="say \"hi\"\\n"} 3
            ferry_y 1.5e3
            """);

        Assert.Equal(3, parsed.Value("ferry_x", Labels(("process", "stg.a.b"), ("note", "say \"hi\"\\n"))));
        Assert.Equal(1500, parsed.Value("ferry_y", Labels()));
        Assert.Equal(2, parsed.Samples.Count);
    }

    private static async Task<bool> EventuallyAsync(Func<Task<bool>> condition)
    {
        for (var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30); DateTime.UtcNow < deadline; await Task.Delay(500))
            if (await condition()) return true;
        return false;
    }

    private static Dictionary<string, string> Labels(params (string Name, string Value)[] labels) => labels.ToDictionary(l => l.Name, l => l.Value);

    private static async Task<string> ScrapeTextAsync(int port)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        return await http.GetStringAsync($"http://127.0.0.1:{port}/metrics");
    }

    private static async Task<Exposition> ScrapeAsync(int port) => Exposition.Parse(await ScrapeTextAsync(port));

    private static async Task<Exposition> ExportAsync(Prometheus.CollectorRegistry? registry = null)
    {
        _ = FerryMetrics.Registered;
        using var stream = new MemoryStream();
        await (registry ?? Prometheus.Metrics.DefaultRegistry).CollectAndExportAsTextAsync(stream);
        return Exposition.Parse(Encoding.UTF8.GetString(stream.ToArray()));
    }

    /// <summary>One sample of the text exposition format: a name, its labels, its value.</summary>
    public sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

    /// <summary>
    /// The Prometheus text exposition format, parsed as a scraper does: comment lines skipped, each sample line split into
    /// name, label set (quoted values with \\, \" and \n escapes) and value. A sample is found by its name and its exact label set.
    /// </summary>
    public sealed class Exposition(IReadOnlyList<Sample> samples)
    {
        public IReadOnlyList<Sample> Samples => samples;

        public static Exposition Parse(string text)
        {
            var samples = new List<Sample>();
            foreach (var raw in text.Split('\n'))
            {
                var line = raw.Trim();
                if (line.Length == 0 || line.StartsWith('#')) continue;
                samples.Add(ParseLine(line));
            }
            return new Exposition(samples);
        }

        private static Sample ParseLine(string line)
        {
            var i = 0;
            while (i < line.Length && line[i] != '{' && line[i] != ' ') i++;
            var name = line[..i];
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            if (i < line.Length && line[i] == '{')
            {
                i++;
                while (line[i] != '}')
                {
                    var eq = line.IndexOf('=', i);
                    var label = line[i..eq].Trim();
                    i = eq + 1;
                    if (line[i] != '"') throw new FormatException($"label {label} has no quoted value: {line}");
                    i++;
                    var value = new StringBuilder();
                    while (line[i] != '"')
                    {
                        if (line[i] == '\\')
                        {
                            i++;
                            value.Append(line[i] switch { 'n' => '\n', var c => c });
                        }
                        else value.Append(line[i]);
                        i++;
                    }
                    i++;
                    labels[label] = value.ToString();
                    if (line[i] == ',') i++;
                }
                i++;
            }
            var rest = line[i..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var number = rest[0] switch { "+Inf" => double.PositiveInfinity, "-Inf" => double.NegativeInfinity, "NaN" => double.NaN, var v => double.Parse(v, CultureInfo.InvariantCulture) };
            return new Sample(name, labels, number);
        }

        /// <summary>The value of the one sample with this name and exactly these labels; fails when there is none.</summary>
        public double Value(string name, IReadOnlyDictionary<string, string> labels) =>
            Find(name, labels) ?? throw new Xunit.Sdk.XunitException($"no sample {name}{{{string.Join(",", labels.Select(l => $"{l.Key}=\"{l.Value}\""))}}} in {samples.Count} samples");

        /// <summary>A counter never incremented for a label set is not exported at all: that reads as 0.</summary>
        public double ValueOrZero(string name, IReadOnlyDictionary<string, string> labels) => Find(name, labels) ?? 0;

        private double? Find(string name, IReadOnlyDictionary<string, string> labels) =>
            samples.SingleOrDefault(s => s.Name == name && s.Labels.Count == labels.Count && labels.All(l => s.Labels.TryGetValue(l.Key, out var v) && v == l.Value))?.Value;
    }
}
