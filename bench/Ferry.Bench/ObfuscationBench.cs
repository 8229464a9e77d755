using System.Diagnostics;
using Ferry.Shared.Metadata;
using Ferry.Shared.Stg;
using Ferry.Shared.Storage;
using Ferry.Worker.Stg;

namespace Ferry.Bench;

/// <summary>
/// <c>--obfuscate</c>: the bulk extract of the bench table in DEV with three rules (e-mail, phone, name) against
/// the same extract in PROD (plain), in one process, alternating so both see the same server and caches.
/// Prints the best time of each, the ratio and the process's peak memory.
/// </summary>
public static class ObfuscationBench
{
    private const int Rounds = 2;

    public static async Task<int> RunAsync(BenchOptions options, Action<string> log)
    {
        var work = Path.GetFullPath(options.WorkDirectory ?? Path.Combine(Path.GetTempPath(), $"ferry-bench-obf-{Environment.ProcessId}"));
        var storeRoot = Path.Combine(work, "store");
        Directory.CreateDirectory(storeRoot);
        try
        {
            await using var server = await BenchServer.StartAsync(Path.Combine(work, "pg"), options.SharedBuffers);
            foreach (var (name, value) in server.ChildEnvironment) Environment.SetEnvironmentVariable(name, value);
            if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(ObfuscationPolicy.KeyVariable)))
                Environment.SetEnvironmentVariable(ObfuscationPolicy.KeyVariable, "bench-obfuscation-key");
            var source = new ShopSource(server, Path.Combine(AppContext.BaseDirectory, "sql"));
            log($"generating {options.Rows:N0} rows in {ShopSource.Table}");
            await source.CreateAsync(options.Rows);
            var rows = await source.CountAsync();

            var spec = new FerryCaseSpec(server.Port, server.User, storeRoot, 7, options.ThresholdRows, options.RowsPerChunk, options.Parallelism,
                RunMode.Bulk, Path.Combine(work, "unused.json"));
            var table = FerryCase.Table(spec) with
            {
                Cdc = CdcSpec.Full,
                Obfuscate = new Dictionary<string, ObfuscationRule>
                {
                    ["customer_email"] = new(ObfuscationKind.Email), ["customer_phone"] = new(ObfuscationKind.Phone), ["customer_name"] = new(ObfuscationKind.Name, "full"),
                },
            };
            StgProcess ProcessIn(string env)
            {
                var metadata = FerryCase.Metadata(spec, table);
                metadata = metadata with { ObjectStore = metadata.ObjectStore with { Env = env } };
                return new StgProcess(metadata, ObjectStoreFactory.Create(metadata.ObjectStore));
            }
            var plain = ProcessIn("prod");
            var dev = ProcessIn("dev");
            var best = new Dictionary<string, double> { ["plain"] = double.MaxValue, ["obfuscated"] = double.MaxValue };
            var bytes = new Dictionary<string, long>();
            for (var round = 1; round <= Rounds; round++)
                foreach (var (label, process) in new[] { ("plain", plain), ("obfuscated", dev) })
                {
                    var clock = Stopwatch.StartNew();
                    var manifest = await process.ExtractAsync(table, RunMode.Bulk, RunLayout.NewRunId(DateTimeOffset.UtcNow));
                    var seconds = clock.Elapsed.TotalSeconds;
                    if (manifest.TotalRows != rows) throw new InvalidOperationException($"{label}: {manifest.TotalRows:N0} rows extracted, expected {rows:N0}");
                    if ((label == "obfuscated") != (manifest.Obfuscation is not null)) throw new InvalidOperationException($"{label}: wrong obfuscation in the manifest");
                    best[label] = Math.Min(best[label], seconds);
                    bytes[label] = manifest.Parts.Sum(p => p.Bytes);
                    log($"  round {round} {label,-10} {seconds,6:F1} s");
                }
            Console.WriteLine();
            Console.WriteLine($"Obfuscated extract (email, phone, name) vs plain extract, {rows:N0} rows, best of {Rounds}, parallelism {options.Parallelism}");
            Console.WriteLine($"  plain       {best["plain"],7:F1} s   {bytes["plain"] / 1e6,8:F1} MB gzipped");
            Console.WriteLine($"  obfuscated  {best["obfuscated"],7:F1} s   {bytes["obfuscated"] / 1e6,8:F1} MB gzipped");
            Console.WriteLine($"  ratio       {best["obfuscated"] / best["plain"],7:F2}x (goal <= 1.3x)");
            Console.WriteLine($"  peak memory {FerryCase.PeakRssKb() / 1024,7:N0} MB (VmHWM of the whole bench process, both extracts)");
            return 0;
        }
        finally
        {
            if (!options.Keep)
                try { Directory.Delete(work, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
