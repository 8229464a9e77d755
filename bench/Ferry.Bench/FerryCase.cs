using System.Diagnostics;
using System.Text.Json;
using Ferry.Shared.Metadata;
using Ferry.Shared.Stg;
using Ferry.Shared.Storage;
using Ferry.Worker.Stg;

namespace Ferry.Bench;

/// <summary>One Ferry run as the parent describes it to the child process.</summary>
public sealed record FerryCaseSpec(int Port, string User, string StoreRoot, int WindowDays, long ThresholdRows, long RowsPerChunk,
    int Parallelism, RunMode Mode, string ResultFile, int Runs = 1);

/// <summary>What the child reports back: the run's result and its own peak memory.</summary>
public sealed record FerryCaseResult(long RowsExtracted, long BytesStored, long Inserted, long Updated, long Deleted, long Unchanged,
    double ExtractSeconds, double LoadSeconds, double MergeSeconds, double RunSeconds, long PeakRssKb, long AllocatedBytes, int Parts,
    double? WarmRunSeconds = null, double RepeatSeconds = 0);

/// <summary>
/// Ferry's side of the benchmark: the real data path, <see cref="StgProcess.RunAsync"/>, with a filesystem
/// object store and metadata built in code. It runs in a child process (this binary with --ferry-case) so
/// that its peak resident memory (VmHWM) is Ferry's alone, and so every run pays the same process start.
/// </summary>
public static class FerryCase
{
    public const string Flag = "--ferry-case";
    public const string StgTable = "stg.shop_orders";

    public static SourceTable Table(FerryCaseSpec spec) => new(
        Source: "shop", Schema: "public", Table: "orders", Name: "orders", StgTable: "shop_orders", Key: ["id"],
        Cdc: new CdcSpec(CdcMode.Window, ["created_at", "updated_at"], Days: spec.WindowDays),
        Chunking: new ChunkingSpec(spec.ThresholdRows, spec.RowsPerChunk, spec.Parallelism));

    public static MigrationMetadata Metadata(FerryCaseSpec spec, SourceTable table)
    {
        var password = new SecretRef(BenchServer.PasswordVariable);
        var source = new PgConnection("shop", "127.0.0.1", spec.Port, "source", spec.User, password, MaxConcurrentExtracts: spec.Parallelism);
        var target = new PgConnection("target", "127.0.0.1", spec.Port, "target", spec.User, password, StgSchema: "stg");
        var store = new ObjectStoreConfig(ObjectStoreKind.Filesystem, spec.StoreRoot, Prefix: "ferry", Env: "bench");
        return new MigrationMetadata(spec.StoreRoot, new Dictionary<string, PgConnection> { ["shop"] = source }, target, store, [table]);
    }

    /// <summary>Parent side: runs the child and returns its report and its wall-clock time from start to exit, less any repeated runs.</summary>
    public static async Task<(FerryCaseResult Result, TimeSpan Wall)> RunChildAsync(FerryCaseSpec spec, string specFile,
        IReadOnlyDictionary<string, string> environment)
    {
        var (result, wall) = await ChildRun.RunAsync<FerryCaseSpec, FerryCaseResult>(Flag, spec, specFile, spec.ResultFile, environment, "Ferry");
        // The figure is the first (cold) run: the process's life without the repeats it timed itself.
        return (result, wall - TimeSpan.FromSeconds(result.RepeatSeconds));
    }

    /// <summary>Child side: one StgProcess run, then the report (with VmHWM read last, so it covers the whole run).</summary>
    public static async Task<int> ChildMainAsync(string specFile)
    {
        var spec = JsonSerializer.Deserialize<FerryCaseSpec>(await File.ReadAllBytesAsync(specFile))
                   ?? throw new InvalidOperationException($"{specFile} is empty");
        var table = Table(spec);
        var metadata = Metadata(spec, table);
        var process = new StgProcess(metadata, ObjectStoreFactory.Create(metadata.ObjectStore));
        var clock = Stopwatch.StartNew();
        var run = await process.RunAsync(table, spec.Mode);
        var seconds = clock.Elapsed.TotalSeconds;
        // Further runs (only sensible when they change nothing) show what a long-lived worker pays: JIT and connection pools warm.
        double? warm = null;
        var repeats = 0.0;
        for (var i = 1; i < spec.Runs; i++)
        {
            clock.Restart();
            var again = await process.RunAsync(table, spec.Mode);
            warm = clock.Elapsed.TotalSeconds;
            repeats += warm.Value;
            if (again.Counts.Changed != 0)
                throw new InvalidOperationException($"{table.ProcessId}: a repeated run changed STG ({again.Counts})");
        }
        var manifest = await process.ReadManifestAsync(table, run.RunId);
        var result = new FerryCaseResult(run.RowsExtracted, run.BytesStored, run.Counts.Inserted, run.Counts.Updated, run.Counts.Deleted,
            run.Counts.Unchanged, run.Extract.TotalSeconds, run.Load.TotalSeconds, run.Merge.TotalSeconds, seconds, PeakRssKb(),
            GC.GetTotalAllocatedBytes(), manifest.Parts.Count, warm, repeats);
        await File.WriteAllBytesAsync(spec.ResultFile, JsonSerializer.SerializeToUtf8Bytes(result));
        return 0;
    }

    /// <summary>VmHWM: the peak resident set of this process over its whole life, from the kernel.</summary>
    internal static long PeakRssKb()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                return long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0]);
        return -1;
    }
}
