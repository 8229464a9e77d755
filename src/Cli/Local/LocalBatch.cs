using System.Collections.Concurrent;
using Ferry.Shared.Metadata;
using Ferry.Shared.Stg;
using Ferry.Worker.Stg;

namespace Ferry.Cli.Local;

/// <summary>The outcome of one process in a batch: its result, or the one-line error that stopped it.</summary>
public sealed record ProcessOutcome(string ProcessId, StgRunResult? Result, string? Error)
{
    public bool Succeeded => Error is null;
}

/// <summary>
/// Runs a set of STG processes inside this process, a few at a time and never more at once per source
/// than its connection allows. A failure stops only its own process. The cluster's pipeline runner
/// takes this job over when Ferry runs as a cluster.
/// </summary>
public sealed class LocalBatch(MigrationMetadata metadata, StgProcess process)
{
    public async Task<IReadOnlyList<ProcessOutcome>> RunAsync(IReadOnlyList<SourceTable> tables, RunMode mode, int parallelism,
        bool? keySweep = null, IProgress<Ferry.Shared.Processes.StepProgress>? progress = null, Action<ProcessOutcome>? finished = null, CancellationToken ct = default)
    {
        var perSource = metadata.Sources.ToDictionary(s => s.Key, s => new SemaphoreSlim(Math.Max(1, s.Value.MaxConcurrentExtracts)));
        var outcomes = new ConcurrentDictionary<string, ProcessOutcome>();
        await Parallel.ForEachAsync(tables, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, parallelism), CancellationToken = ct },
            async (table, token) =>
            {
                ProcessOutcome outcome;
                var gate = perSource.GetValueOrDefault(table.Source);
                try
                {
                    // Only the extract holds the source's slot: loading and merging touch the target alone.
                    Manifest manifest;
                    var clock = System.Diagnostics.Stopwatch.StartNew();
                    if (gate is not null) await gate.WaitAsync(token);
                    try { manifest = await process.ExtractAsync(table, mode, RunLayout.NewRunId(DateTimeOffset.UtcNow), keySweep, progress, token); }
                    finally { gate?.Release(); }
                    outcome = new ProcessOutcome(table.ProcessId, await process.LoadAndMergeAsync(manifest, clock.Elapsed, progress, token), null);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    outcome = new ProcessOutcome(table.ProcessId, null, e.Message);
                }
                outcomes[table.ProcessId] = outcome;
                finished?.Invoke(outcome);
            });
        return tables.Select(t => outcomes[t.ProcessId]).ToList();
    }
}
