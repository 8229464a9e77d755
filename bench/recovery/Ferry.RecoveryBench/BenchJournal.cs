using Akka.Actor;
using Akka.Persistence;
using Ferry.Shared.Cluster;
using Ferry.Shared.Processes;
using Ferry.Shared.Stg;

namespace Ferry.RecoveryBench;

/// <summary>The events a process entity persists for its runs, written straight into the journal (no data moves).</summary>
public static class BenchJournal
{
    public static string ProcessId(int i) => $"stg.bench.table_{i:D3}";

    /// <summary>One finished STG run, as the entity journals it: started, extracted (with its manifest), loaded, succeeded.</summary>
    public static IEnumerable<IProcessEvent> Run(string processId, int n, DateTimeOffset at)
    {
        var runId = $"{at.AddHours(n):yyyyMMddTHHmmssZ}-{n:D6}";
        var manifest = Manifest(processId, runId, at.AddHours(n));
        yield return new RunStarted(runId, RunMode.Incremental, null, at.AddHours(n), null);
        yield return new Extracted(runId, manifest, TimeSpan.FromSeconds(3));
        yield return new Loaded(runId, manifest.TotalRows, null, TimeSpan.FromSeconds(2));
        yield return new RunSucceeded(runId, new MergeCounts(100, 20, 1, manifest.TotalRows - 121), at.AddHours(n).AddMinutes(1));
    }

    /// <summary>A manifest the size of a real table's: 14 columns, two parts, a key file (about 2 KB of JSON).</summary>
    private static Manifest Manifest(string processId, string runId, DateTimeOffset at)
    {
        string[] columns = ["id", "order_no", "customer_id", "email", "name", "phone", "status", "street", "city", "amount", "paid", "note", "created_at", "updated_at"];
        return new Manifest(processId, runId, "bench", "public." + processId.Split('.')[^1], "bench_" + processId.Split('.')[^1],
            RunMode.Incremental, false, new CdcBounds("window", at.AddDays(-7), ["created_at", "updated_at"], null), at,
            columns.Select(c => new ColumnSpec(c, c.EndsWith("_at") ? "timestamp with time zone" : c == "id" ? "bigint" : "text",
                c.EndsWith("_at") ? "timestamptz" : c == "id" ? "bigint" : "text")).ToList(),
            ["id"],
            [new PartInfo("part-00000.csv.gz", 60_000, 4_100_000, "3f1e0c9b8a7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f", "id in [-inf, 500000)"),
             new PartInfo("part-00001.csv.gz", 58_000, 3_950_000, "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90", "id in [500000, +inf)")],
            new PartInfo("keys.csv.gz", 1_000_000, 2_900_000, "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"),
            "deleted_at", at, ExtractSettings.Pinned);
    }

    /// <summary>Appends <paramref name="events"/> to a process's journal, after whatever (snapshot and events) is already there.</summary>
    public static async Task AppendAsync(ActorSystem system, string processId, IReadOnlyList<IProcessEvent> events)
    {
        var writer = system.ActorOf(Props.Create(() => new Writer($"{ProcessSharding.TypeName}-{processId}", events)));
        await writer.Ask<Done>(Write.Instance, TimeSpan.FromMinutes(10));
        await writer.GracefulStop(TimeSpan.FromSeconds(10));
    }

    private sealed record Write { public static readonly Write Instance = new(); }

    private sealed record Done { public static readonly Done Instance = new(); }

    private sealed class Writer : ReceivePersistentActor
    {
        private readonly string _id;
        public override string PersistenceId => _id;

        public Writer(string persistenceId, IReadOnlyList<IProcessEvent> events)
        {
            _id = persistenceId;
            Recover<object>(_ => { });   // only the sequence number matters: appends go after it
            Command<Write>(_ =>
            {
                var replyTo = Sender;
                PersistAll(events, e => { if (ReferenceEquals(e, events[^1])) replyTo.Tell(Done.Instance); });
            });
        }
    }
}
