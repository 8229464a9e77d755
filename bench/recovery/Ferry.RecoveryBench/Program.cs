using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster;
using Akka.Hosting;
using Ferry.RecoveryBench;
using Ferry.Shared.Cluster;
using Ferry.Shared.History;
using Ferry.Shared.Metadata;
using Ferry.Shared.Postgres;
using Ferry.Shared.Processes;
using Ferry.Shared.Storage;
using Ferry.Worker.Processes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

// Start-up recovery of the process entities, before and after snapshots: a journal of N entities × M finished
// runs (as the version without snapshots left it), recovered by a one-worker cluster with remember-entities,
// first with snapshots off, then with them on (its first start compacts the journal), then in the steady state.
var entities = 200; var runs = 50; var snapshotEvery = 20; var tailRuns = 4; var repeat = 3;
string? work = null; var hocon = Path.GetFullPath("hocon");
for (var i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--entities": entities = int.Parse(Next()); break;
        case "--runs": runs = int.Parse(Next()); break;
        case "--snapshot-every": snapshotEvery = int.Parse(Next()); break;
        case "--tail-runs": tailRuns = int.Parse(Next()); break;
        case "--repeat": repeat = int.Parse(Next()); break;
        case "--work": work = Next(); break;
        case "--hocon": hocon = Path.GetFullPath(Next()); break;
        default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
    }
}
work = Path.GetFullPath(work ?? Path.Combine(Path.GetTempPath(), $"ferry-recoverybench-{Environment.ProcessId}"));
var clock = Stopwatch.StartNew();
void Log(string message) => Console.Error.WriteLine($"[{clock.Elapsed:hh\\:mm\\:ss}] {message}");
var ids = Enumerable.Range(0, entities).Select(BenchJournal.ProcessId).ToList();

try
{
    Log($"starting a durable PostgreSQL under {work}");
    await using var pg = await LocalPostgres.StartAsync(Path.Combine(work, "pg"), new LocalPostgresOptions { Durable = true });
    var target = await pg.CreateDatabaseAsync("target");
    const string passwordVariable = "FERRY_RECOVERYBENCH_PASSWORD";
    Environment.SetEnvironmentVariable(passwordVariable, pg.Password);
    var store = new ObjectStoreConfig(ObjectStoreKind.Filesystem, Path.Combine(work, "store"));
    var metadata = new MigrationMetadata(work, new Dictionary<string, PgConnection>(),
        new PgConnection("target", "127.0.0.1", pg.Port, "target", pg.User, new SecretRef(passwordVariable)), store, []);
    var services = new ProcessServices(metadata, ObjectStoreFactory.Create(store), new RunHistory(target));

    IHost Node(bool worker, int every, int port) => FerryNode.CreateBuilder(new NodeOptions
    {
        Roles = [FerryNode.WorkerRole],
        Port = port,
        Seeds = [$"127.0.0.1:{port}"],   // a cluster of one: the node joins itself
        HoconDirectory = hocon,
        PersistenceConnectionString = target,
        Logging = new Ferry.Shared.Logging.LogSettings { Level = Serilog.Events.LogEventLevel.Warning },
    }, (builder, _) =>
    {
        builder.AddHocon($"ferry.process.snapshot-every = {every}", HoconAddMode.Prepend);
        if (worker) builder.AddWorkerRole(services);
    }).Build();

    // The stopwatch starts before the node does: the body sees the time since the node began starting.
    async Task<T> WithNodeAsync<T>(bool worker, int every, Func<IHost, ActorSystem, Stopwatch, Task<T>> body)
    {
        var host = Node(worker, every, LocalPostgres.FreeLoopbackPort());
        var started = Stopwatch.StartNew();
        await host.StartAsync();
        var system = host.Services.GetRequiredService<ActorSystem>();
        try { return await body(host, system, started); }
        finally { await host.StopAsync(); host.Dispose(); }
    }

    // From the node's start until every entity answered its status: remember-entities starts them all, each replays its journal.
    async Task<(double Up, double All)> RecoverAsync(int every, bool awaitCompaction = false) => await WithNodeAsync(true, every, async (host, system, started) =>
    {
        var up = new TaskCompletionSource();
        Cluster.Get(system).RegisterOnMemberUp(() => up.TrySetResult());
        var region = host.Services.GetRequiredService<ActorRegistry>().Get<ProcessRegion>();
        await up.Task;
        var upAt = started.Elapsed.TotalSeconds;
        var answers = await Task.WhenAll(ids.Select(id => region.Ask<ProcessStatus>(new GetProcessStatus(id), TimeSpan.FromMinutes(10))));
        var all = started.Elapsed.TotalSeconds;
        var wrong = answers.Count(a => a.LastSuccess is null || a.Step != ProcessStep.Idle);
        if (wrong > 0) throw new InvalidOperationException($"{wrong} of {answers.Length} entities did not recover their last run");
        // The entities save their snapshots, then delete what they cover, after answering: let that land before the node stops.
        for (var i = 0; awaitCompaction && i < 1200 && await JournalAsync() is var j && (j.Snapshots < entities || j.Events > 0); i++) await Task.Delay(100);
        return (upAt, all);
    });

    async Task<(long Events, long Snapshots, long Bytes)> JournalAsync()
    {
        await using var conn = new NpgsqlConnection(target);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("""
            SELECT (SELECT count(*) FROM ferry_akka.journal WHERE persistence_id LIKE 'process-%' AND NOT deleted),
                   (SELECT count(*) FROM ferry_akka.snapshot WHERE persistence_id LIKE 'process-%'),
                   (SELECT coalesce(sum(octet_length(message)), 0) FROM ferry_akka.journal WHERE persistence_id LIKE 'process-%' AND NOT deleted)
                 + (SELECT coalesce(sum(octet_length(snapshot)), 0) FROM ferry_akka.snapshot WHERE persistence_id LIKE 'process-%')
            """, conn);
        await using var r = await cmd.ExecuteReaderAsync();
        await r.ReadAsync();
        return (r.GetInt64(0), r.GetInt64(1), r.GetInt64(2));
    }

    async Task<List<(double Up, double All)>> TimeAsync(string label, int every)
    {
        var times = new List<(double, double)>();
        for (var i = 0; i < repeat; i++)
        {
            times.Add(await RecoverAsync(every));
            Log($"{label}: all {entities} answered after {times[^1].Item2:F2} s (member up after {times[^1].Item1:F2} s)");
        }
        return times;
    }

    var at = DateTimeOffset.UtcNow.AddHours(-runs - tailRuns - 1);
    Log($"writing {entities} entities × {runs} runs ({entities * runs * 4:N0} events) into the journal");
    await WithNodeAsync(false, 0, async (_, system, _) =>
    {
        await Task.WhenAll(ids.Select(id => BenchJournal.AppendAsync(system, id, Enumerable.Range(0, runs).SelectMany(n => BenchJournal.Run(id, n, at)).ToList())));
        return 0;
    });
    var before = await JournalAsync();
    Log($"journal: {before.Events:N0} events, {before.Bytes / 1e6:F1} MB; registering the entities with remember-entities");
    await RecoverAsync(0);

    var off = await TimeAsync("snapshots off", 0);

    var upgrade = await RecoverAsync(snapshotEvery, awaitCompaction: true);
    Log($"first start with snapshot-every = {snapshotEvery}: {upgrade.All:F2} s (replays everything, then snapshots and deletes)");
    if (tailRuns > 0)
    {
        Log($"appending {tailRuns} more runs per entity ({tailRuns * 4} events after each snapshot: what an entity can have between two snapshots)");
        await WithNodeAsync(false, 0, async (_, system, _) =>
        {
            await Task.WhenAll(ids.Select(id => BenchJournal.AppendAsync(system, id, Enumerable.Range(runs, tailRuns).SelectMany(n => BenchJournal.Run(id, n, at)).ToList())));
            return 0;
        });
    }
    var after = await JournalAsync();
    var on = await TimeAsync("snapshots on", snapshotEvery);

    static double Median(IEnumerable<double> xs) { var s = xs.OrderBy(x => x).ToList(); return s[s.Count / 2]; }
    var offAll = Median(off.Select(t => t.All)); var onAll = Median(on.Select(t => t.All));
    var offRec = Median(off.Select(t => t.All - t.Up)); var onRec = Median(on.Select(t => t.All - t.Up));
    Console.WriteLine($"Ferry recovery benchmark: {entities} process entities × {runs} runs, one worker, remember-entities, SQL journal on a durable local PostgreSQL");
    Console.WriteLine($"  (median of {repeat} starts; \"recovery\" = all entities answered, counted from the member being up; MB = payload recovery can read)");
    Console.WriteLine();
    Console.WriteLine($"  {"",-34} {"journal",22} {"start → all answered",22} {"recovery",10}");
    Console.WriteLine($"  {"snapshots off",-34} {$"{before.Events:N0} ev, {before.Bytes / 1e6:F0} MB",22} {$"{offAll:F2} s",22} {$"{offRec:F2} s",10}");
    Console.WriteLine($"  {$"first start with snapshot-every={snapshotEvery}",-34} {"(compacts)",22} {$"{upgrade.All:F2} s",22} {$"{upgrade.All - upgrade.Up:F2} s",10}");
    Console.WriteLine($"  {$"snapshots on (+{tailRuns * 4} events each)",-34} {$"{after.Events:N0} ev + {after.Snapshots} snap, {after.Bytes / 1e6:F0} MB",22} {$"{onAll:F2} s",22} {$"{onRec:F2} s",10}");
    Console.WriteLine();
    Console.WriteLine($"  recovery, off / on: {offRec / onRec:F1}×   (start to all answered: {offAll / onAll:F1}×)");
    return 0;
}
finally
{
    try { Directory.Delete(work, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
}
