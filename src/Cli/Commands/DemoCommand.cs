using System.CommandLine;
using System.Diagnostics;
using Ferry.Cli.Api;
using Ferry.Cli.Demo;
using Ferry.Coordinator.Api;
using Ferry.Shared.Cluster;
using Ferry.Shared.Logging;
using Ferry.Cli.Embedded;
using Ferry.Cli.Rendering;
using Ferry.Coordinator.Pipelines;
using Ferry.Shared.Metadata;
using Ferry.Shared.Postgres;
using Npgsql;
using Ferry.Shared.Stg;
using Spectre.Console;

namespace Ferry.Cli.Commands;

/// <summary>
/// `ferry demo`: the whole migration on embedded defaults. Starts a local PostgreSQL under .ferry/,
/// creates the demo QVP and SVP sources and the UniPACC target, bulk-loads every table into STG and
/// builds the business layer, lets "one day" of changes happen in the sources, runs the incremental
/// load and transforms, checks the business layer against a full rebuild, ends with `ferry verify` on the same
/// cluster (sources against STG, key indicators, orphans, attachments), and prints the UniPACC row counts.
/// </summary>
public static class DemoCommand
{
    public static Command Build()
    {
        var scale = new Option<int>("--scale") { Description = "Size of the demo sources: 1 ≈ a few thousand rows, 1000 ≈ millions", DefaultValueFactory = _ => 1 };
        var home = new Option<DirectoryInfo>("--home") { Description = "Where the local PostgreSQL and the object store live", DefaultValueFactory = _ => new DirectoryInfo(".ferry") };
        var parallel = new Option<int>("--parallel", "-p") { Description = "Processes run at once", DefaultValueFactory = _ => 2 };
        var keep = new Option<bool>("--keep-running") { Description = "Leave PostgreSQL running afterwards and print how to connect" };
        var metadataOption = CommonOptions.Metadata();
        var command = new Command("demo", "Run the demo migration end to end on a local PostgreSQL: bulk load, one day of changes, incremental load")
            { scale, home, parallel, keep, metadataOption };
        command.SetAction(async (r, ct) => await RunAsync(r.GetValue(scale), r.GetValue(home)!, r.GetValue(parallel), r.GetValue(keep),
            CommonOptions.MetadataDirectory(r.GetValue(metadataOption)), ct));
        return command;
    }

    private static async Task<int> RunAsync(int scale, DirectoryInfo home, int parallel, bool keepRunning, string metadataDir, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        AnsiConsole.MarkupLine($"[bold]Ferry demo[/] (scale {scale}) in {Markup.Escape(home.FullName)}");
        AnsiConsole.MarkupLine("Starting a local PostgreSQL…");
        var embedded = await EmbeddedEnvironment.StartAsync(home.FullName, fresh: true, keepRunning, ct);
        await using var _ = embedded;
        var server = embedded.Server;
        AnsiConsole.MarkupLine($"  PostgreSQL on 127.0.0.1:{server.Port} (data in {Markup.Escape(server.DataDirectory)})");
        var qvp = embedded.ConnectionString("qvp");
        var svp = embedded.ConnectionString("svp");
        var objects = embedded.ObjectsDirectory;

        await AnsiConsole.Status().StartAsync("Generating the demo QVP and SVP sources…", _ => DemoSources.CreateAsync(qvp, svp, scale, ct));
        await DemoTarget.ApplySchemaAsync(embedded.ConnectionString("unipacc"), ct);
        AnsiConsole.MarkupLine($"  sources and the UniPACC schema ready ({clock.Elapsed.TotalSeconds:0.0} s)");

        var metadata = MetadataLoader.Load(metadataDir);
        var tables = metadata.Tables;
        if (metadata.Files.Count > 0)
        {
            var created = await DemoFiles.CreateSourceObjectsAsync(metadata, ct);
            AnsiConsole.MarkupLine($"  {created:N0} attachment objects in the source buckets under {Markup.Escape(embedded.BucketsDirectory)}");
        }

        // The demo goes through the cluster like any real run: a standalone node (coordinator and worker
        // roles) in this process, driven through its HTTP API with the same client as `ferry run`.
        AnsiConsole.MarkupLine("Starting a standalone Ferry node (coordinator + worker)…");
        var selfPort = LocalPostgres.FreeLoopbackPort();
        var token = ApiToken.Generate();
        var api = new ApiOptions { Token = token, Address = System.Net.IPAddress.Loopback, Port = LocalPostgres.FreeLoopbackPort() };
        using var node = NodeCommands.BuildHost(new NodeCommands.RoleOptions([FerryNode.CoordinatorRole, FerryNode.WorkerRole], metadataDir,
            "127.0.0.1", selfPort, [$"127.0.0.1:{selfPort}"], api, new LogSettings { Level = Serilog.Events.LogEventLevel.Warning },
            // A cluster of one on loopback, with a secret of its own: nothing else can join it.
            ClusterSecret: ApiToken.Generate()));
        await node.StartAsync(ct);
        using var client = new FerryApiClient(new Uri($"http://127.0.0.1:{api.Port}"), token);
        await WaitUntilUpAsync(client, ct);
        AnsiConsole.MarkupLine($"  node up on 127.0.0.1:{selfPort}, API on 127.0.0.1:{api.Port}");

        // STG and the attachments first, then the business layer level by level (one group of patterns: the
        // runner orders BL after the rest).
        string[] everything = [
            "stg.*",
            .. metadata.Files.Count > 0 ? new[] { "files.*" } : [],
            .. metadata.Transforms.Count > 0 ? new[] { "bl.*" } : [],
        ];
        AnsiConsole.MarkupLine("[bold]Day 1: bulk load into STG and copy the attachments, then the business layer[/]");
        var bulk = await ClusterCommands.RunOnClusterAsync(client, everything, RunMode.Bulk, null, wait: true, ct);

        var mutation = await DemoSources.MutateAsync(qvp, svp, asOf: null, ct);
        var newObjects = metadata.Files.Count > 0 ? await DemoFiles.CreateSourceObjectsAsync(metadata, ct) : 0;
        AnsiConsole.MarkupLine($"One day later in the sources: {mutation.Inserted:N0} rows inserted, {mutation.Updated:N0} updated, " +
            $"{mutation.SoftDeleted:N0} soft-deleted, {mutation.HardDeleted:N0} hard-deleted, {newObjects:N0} new attachment objects");

        AnsiConsole.MarkupLine("[bold]Day 2: incremental load into STG and copy of new attachments, then the business layer[/]");
        var incremental = await ClusterCommands.RunOnClusterAsync(client, everything, RunMode.Incremental, null, wait: true, ct);

        var rebuild = 0;
        var blDrift = new List<string>();
        if (metadata.Transforms.Count > 0 && incremental == 0)
        {
            // The incremental transforms read only what changed; a full rebuild must then find nothing to change.
            AnsiConsole.MarkupLine("[bold]Check: a full rebuild of the business layer[/] (after the incremental run it must change nothing)");
            rebuild = await ClusterCommands.RunOnClusterAsync(client, ["bl.*"], RunMode.Bulk, null, wait: true, ct);
            blDrift = await RebuildChangesAsync(metadata, ct);
        }
        // The cutover check an operator runs, on the same cluster: every source table against STG, the key
        // indicators, the target's foreign keys and the attachments. The sources are quiet now, so nothing is in flight.
        AnsiConsole.MarkupLine("[bold]ferry verify[/]: the sources against STG, the key indicators, orphans and the attachments");
        var verification = await VerifyCommand.RunOnClusterAsync(client, VerifyTargets.From([]), TimeSpan.Zero, AnsiConsole.Console, ct);
        await node.StopAsync(CancellationToken.None);
        var verified = false;
        if (verification is not null)
        {
            AnsiConsole.Write(VerifyTable.Build(verification, keys: 10));
            var report = Path.Combine(home.FullName, "verify-report.html");
            await File.WriteAllTextAsync(report, VerifyHtmlReport.Build(verification, DateTimeOffset.UtcNow), ct);
            AnsiConsole.MarkupLine($"  HTML report: {Markup.Escape(report)}");
            verified = verification.Outcome == Shared.Verify.VerifyOutcome.Equal;
        }
        if (metadata.Transforms.Count > 0)
        {
            if (incremental == 0 && rebuild == 0 && blDrift.Count == 0)
                AnsiConsole.MarkupLine("[green]The business layer matches a full rebuild[/]: the incremental transforms left nothing for it to change.");
            foreach (var d in blDrift)
                AnsiConsole.MarkupLine($"[red]drift[/] {Markup.Escape(d)}");
            var counts = await DemoTarget.CountAsync(metadata.Target.ToConnectionString("ferry demo"), ct);
            AnsiConsole.MarkupLine("UniPACC now holds: " + string.Join(", ", counts.Select(c => $"{c.Table} {c.Rows:N0}")));
            if (counts.Any(c => c.Table == "attachments"))
            {
                var located = await CountAsync(metadata.Target.ToConnectionString("ferry demo"), "SELECT count(*) FROM unipacc.attachments WHERE target_key IS NOT NULL", ct);
                AnsiConsole.MarkupLine($"  {located:N0} of {counts.Single(c => c.Table == "attachments").Rows:N0} attachments point at their copy in the unified bucket (target_key).");
            }
        }

        AnsiConsole.MarkupLine($"Done in {clock.Elapsed.TotalSeconds:0.0} s. Extracts are kept in {Markup.Escape(objects)} (replay them with `ferry replay`).");
        if (keepRunning)
            AnsiConsole.MarkupLine($"PostgreSQL keeps running on 127.0.0.1:{server.Port}, user {server.User}; the password is in {Markup.Escape(Path.Combine(home.FullName, "pg", "password"))}.");
        return bulk == 0 && incremental == 0 && rebuild == 0 && verified && blDrift.Count == 0 ? 0 : 1;
    }

    private static async Task WaitUntilUpAsync(FerryApiClient client, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            try
            {
                var cluster = await client.GetClusterAsync(ct);
                if (cluster.Members.Any(m => m.Status == "up")) return;
            }
            catch (Exception e) when (e is FerryApiException or HttpRequestException && DateTime.UtcNow < deadline)
            {
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException("the standalone node did not come up within 60 s");
            await Task.Delay(250, ct);
        }
    }

    /// <summary>What the last (full) run of each BL process changed, from dwh.bl_runs: anything but nothing is drift.</summary>
    private static async Task<List<string>> RebuildChangesAsync(MigrationMetadata metadata, CancellationToken ct)
    {
        await using var conn = new NpgsqlConnection(metadata.Target.ToConnectionString("ferry demo"));
        await conn.OpenAsync(ct);
        await using var cmd = new NpgsqlCommand("""
            SELECT DISTINCT ON (process_id) process_id, mode, inserted, updated, deleted
            FROM dwh.bl_runs ORDER BY process_id, started_at DESC
            """, conn);
        var drift = new List<string>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            var (id, mode, ins, upd, del) = (r.GetString(0), r.GetString(1), r.GetInt64(2), r.GetInt64(3), r.GetInt64(4));
            if (mode != "full") drift.Add($"{id}: its last run was not the full rebuild");
            else if (ins + upd + del > 0) drift.Add($"{id}: the full rebuild inserted {ins:N0}, updated {upd:N0}, deleted {del:N0} rows the incremental run had missed");
        }
        return drift;
    }

    private static async Task<long> CountAsync(string connectionString, string sql, CancellationToken ct)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync(ct);
        await using var cmd = new NpgsqlCommand(sql, conn);
        return (long)(await cmd.ExecuteScalarAsync(ct))!;
    }
}
