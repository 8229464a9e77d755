using System.Diagnostics;
using System.Text.Json;
using Ferry.Shared.Metadata;
using Ferry.Shared.Verify;
using Ferry.Worker.Verify;

namespace Ferry.Bench;

/// <summary>One Ferry verify of the bench table, as the parent describes it to the child process.</summary>
public sealed record VerifyCaseSpec(int Port, string User, int LeafRows, int Fanout, string ResultFile);

/// <summary>What the child reports: the verify's own figures, the keys it found, and its peak memory.</summary>
public sealed record VerifyCaseResult(string Outcome, long SourceRows, long TargetRows, long Ranges, double Seconds,
    IReadOnlyList<string> Items, long PeakRssKb, long PeakWorkingSetKb, long AllocatedBytes, double ColdSeconds);

/// <summary>
/// Ferry's side of the verify benchmark: <see cref="TableVerifier.VerifyAsync"/> on public.orders against
/// stg.shop_orders, in a child process (this binary with --verify-case) so that its peak memory is the verifier's alone.
/// </summary>
public static class VerifyCase
{
    public const string Flag = "--verify-case";

    public static Task<(VerifyCaseResult Result, TimeSpan Wall)> RunChildAsync(VerifyCaseSpec spec, string specFile,
        IReadOnlyDictionary<string, string> environment) =>
        ChildRun.RunAsync<VerifyCaseSpec, VerifyCaseResult>(Flag, spec, specFile, spec.ResultFile, environment, "verify");

    public static async Task<int> ChildMainAsync(string specFile)
    {
        var spec = JsonSerializer.Deserialize<VerifyCaseSpec>(await File.ReadAllBytesAsync(specFile))
                   ?? throw new InvalidOperationException($"{specFile} is empty");
        var fake = new FerryCaseSpec(spec.Port, spec.User, "", 7, 0, 0, 1, Shared.Stg.RunMode.Bulk, "");
        var table = FerryCase.Table(fake);
        var metadata = FerryCase.Metadata(fake, table);
        var settings = new VerifySettings(TimeSpan.FromMinutes(15), spec.LeafRows, spec.Fanout);
        Task<VerifyResult> Verify() => TableVerifier.VerifyAsync(table, metadata.Sources["shop"].ToConnectionString("ferry-bench"),
            metadata.Target.ToConnectionString("ferry-bench"), "stg", settings);
        // Twice: the first pays the process's JIT and first connections (the cold figure); the second is what a
        // long-lived worker pays, and what compares with the baseline's queries run from the warm parent.
        var clock = Stopwatch.StartNew();
        await Verify();
        var cold = clock.Elapsed.TotalSeconds;
        clock.Restart();
        var result = await Verify();
        var seconds = clock.Elapsed.TotalSeconds;
        using var self = Process.GetCurrentProcess();
        var report = new VerifyCaseResult(result.Outcome.ToString(), result.SourceRows, result.TargetRows, result.Ranges, seconds,
            result.Items.Select(i => $"{i.Kind} {i.Item} [{string.Join(",", i.Columns)}]").ToList(), FerryCase.PeakRssKb(),
            self.PeakWorkingSet64 / 1024, GC.GetTotalAllocatedBytes(), cold);
        await File.WriteAllBytesAsync(spec.ResultFile, JsonSerializer.SerializeToUtf8Bytes(report));
        return 0;
    }
}
