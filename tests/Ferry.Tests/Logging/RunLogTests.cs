using System.Text.Json;
using Ferry.Shared.History;
using Ferry.Shared.Logging;
using Ferry.Tests.Infrastructure;
using Serilog.Events;

namespace Ferry.Tests.Logging;

/// <summary>The run log and the node's log as an operator reads them: real PostgreSQL, a real Serilog pipeline, a real file.</summary>
public sealed class RunLogTests : IAsyncLifetime
{
    private string _db = null!;
    private readonly string _folder = Directory.CreateTempSubdirectory("ferry-logs-").FullName;

    public async Task InitializeAsync()
    {
        _db = await TestPostgres.CreateDatabaseAsync("runlog");
        await new RunHistory(_db).EnsureAsync();
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_folder, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Lines_written_while_a_run_is_active_are_kept_with_process_run_and_step_and_others_are_not()
    {
        await using (var logger = FerryLogging.Create(new LogSettings { Level = LogEventLevel.Warning }, "w1:4053", _db))
        {
            logger.Information("the node started");
            using (RunLogContext.Push("stg.qvp.users", "r-1", "loading", "pl-1"))
            {
                logger.Information("loading part {Part} of {Parts} from {File}", 3, 8, "part-00003.csv.gz");
                // A task started inside the run carries the run's properties too: the data path needs no run id of its own.
                await Task.Run(() => logger.Warning(new InvalidOperationException("disk full"), "could not write part {Part}", 4));
            }
            logger.Information("between runs");
        }

        var lines = await new RunLog(_db).ReadAsync("r-1");
        Assert.Equal(2, lines.Count);
        Assert.All(lines, l => Assert.Equal(("stg.qvp.users", "r-1", "loading", "pl-1", "w1:4053"), (l.ProcessId, l.RunId, l.Step, l.PipelineRunId, l.Node)));
        Assert.Equal(("info", "loading part 3 of 8 from part-00003.csv.gz"), (lines[0].Level, lines[0].Message));
        Assert.Equal(("warning", "could not write part 4"), (lines[1].Level, lines[1].Message));
        Assert.Contains("disk full", lines[1].Exception);
        Assert.True(lines[0].Seq < lines[1].Seq);
        // The info line is kept though the console shows warnings only; the pipeline run id finds the same lines.
        Assert.Equal(lines.Select(l => l.Seq), (await new RunLog(_db).ReadAsync("pl-1")).Select(l => l.Seq));
        Assert.Equal([lines[1].Seq], (await new RunLog(_db).ReadAsync("r-1", afterSeq: lines[0].Seq)).Select(l => l.Seq));
    }

    [Fact]
    public async Task A_run_keeps_at_most_its_limit_of_lines_and_says_so_once()
    {
        var sink = new RunLogSink(_db, new SecretMask([]), "w1:4053", maxLinesPerRun: 3);
        var events = Enumerable.Range(1, 10).Select(i => Event($"line {i}", ("RunId", "r-big"), ("ProcessId", "stg.qvp.big"))).ToList();
        await sink.EmitBatchAsync(events.Take(4).ToList());
        await sink.EmitBatchAsync(events.Skip(4).ToList());

        var lines = await new RunLog(_db).ReadAsync("r-big");
        Assert.Equal(["line 1", "line 2", "line 3"], lines.Take(3).Select(l => l.Message));
        Assert.Equal(4, lines.Count);
        Assert.Equal("warning", lines[3].Level);
        Assert.Contains("not kept (limit 3)", lines[3].Message);
    }

    [Fact]
    public async Task A_secret_never_reaches_the_run_log_or_the_log_file()
    {
        const string password = "s3cr3t-Pa55word!";
        var file = Path.Combine(_folder, "node.json");
        await using (var logger = FerryLogging.Create(new LogSettings { File = file, Secrets = [password, "abc"] }, "w1:4053", _db))
        using (RunLogContext.Push("stg.qvp.users", "r-secret", "extracting", null))
            logger.Error(new Exception($"connect failed: Password={password}"), "connection string Host=db;Password={Password}", password);

        var line = Assert.Single(await new RunLog(_db).ReadAsync("r-secret"));
        Assert.DoesNotContain(password, line.Message + line.Exception);
        Assert.Contains(SecretMask.Mask, line.Message);
        var written = await File.ReadAllTextAsync(Directory.GetFiles(_folder).Single());
        Assert.DoesNotContain(password, written);
        Assert.Contains(SecretMask.Mask, written);
    }

    [Fact]
    public async Task A_json_log_line_of_a_run_carries_its_process_and_run_id()
    {
        var file = Path.Combine(_folder, "node.json");
        await using (var logger = FerryLogging.Create(new LogSettings { Format = LogFormat.Json, File = file }, "w2:4053"))
        using (RunLogContext.Push("bl.unipacc.users", "r-json", "transforming", "pl-9"))
            logger.Information("transformed {Rows} rows", 295);

        var json = JsonDocument.Parse((await File.ReadAllLinesAsync(Directory.GetFiles(_folder).Single())).Single()).RootElement;
        Assert.Equal("transformed 295 rows", json.GetProperty("@m").GetString());
        Assert.Equal("bl.unipacc.users", json.GetProperty("ProcessId").GetString());
        Assert.Equal("r-json", json.GetProperty("RunId").GetString());
        Assert.Equal("transforming", json.GetProperty("Step").GetString());
        Assert.Equal("w2:4053", json.GetProperty("Node").GetString());
        Assert.Equal(295, json.GetProperty("Rows").GetInt32());
    }

    [Fact]
    public async Task A_follower_knows_whether_the_run_is_still_running()
    {
        var history = new RunHistory(_db);
        var start = DateTimeOffset.UtcNow;
        await history.RecordAsync(new RunRecord("stg.qvp.users", "r-live", "pl-live", Shared.Stg.RunMode.Bulk, start, RunStatus.Running, "loading", new Dictionary<string, double>(), null, null, "w1"));
        Assert.True(await new RunLog(_db).IsRunningAsync("r-live"));
        Assert.True(await new RunLog(_db).IsRunningAsync("pl-live"));
        await history.RecordAsync(new RunRecord("stg.qvp.users", "r-live", "pl-live", Shared.Stg.RunMode.Bulk, start, RunStatus.Succeeded, "done", new Dictionary<string, double>(), DateTimeOffset.UtcNow, 10, "w1"));
        Assert.False(await new RunLog(_db).IsRunningAsync("r-live"));
        Assert.False(await new RunLog(_db).IsRunningAsync("r-unknown"));
    }

    [Theory]
    [InlineData("text", true, LogFormat.Text)]
    [InlineData("JSON", true, LogFormat.Json)]
    [InlineData("xml", false, LogFormat.Text)]
    public void Log_formats_parse(string text, bool ok, LogFormat expected)
    {
        Assert.Equal(ok, LogSettings.TryParseFormat(text, out var format));
        Assert.Equal(expected, format);
    }

    [Theory]
    [InlineData("info", LogEventLevel.Information)]
    [InlineData("warning", LogEventLevel.Warning)]
    [InlineData("warn", LogEventLevel.Warning)]
    [InlineData("debug", LogEventLevel.Debug)]
    public void Log_levels_parse(string text, LogEventLevel expected)
    {
        Assert.True(LogSettings.TryParseLevel(text, out var level));
        Assert.Equal(expected, level);
        Assert.False(LogSettings.TryParseLevel("loud", out _));
    }

    private static LogEvent Event(string message, params (string Name, string Value)[] properties) =>
        new(DateTimeOffset.UtcNow, LogEventLevel.Information, null, new Serilog.Parsing.MessageTemplateParser().Parse(message),
            properties.Select(p => new LogEventProperty(p.Name, new ScalarValue(p.Value))));
}
