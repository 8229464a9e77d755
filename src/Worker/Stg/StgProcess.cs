using System.Diagnostics;
using Ferry.Shared.Metadata;
using Ferry.Shared.Processes;
using Ferry.Shared.Stg;
using Ferry.Shared.Storage;
using Npgsql;

namespace Ferry.Worker.Stg;

/// <summary>What one STG run did, with the time each step took.</summary>
public sealed record StgRunResult(
    string ProcessId,
    string RunId,
    RunMode Mode,
    long RowsExtracted,
    long BytesStored,
    MergeCounts Counts,
    TimeSpan Extract,
    TimeSpan Load,
    TimeSpan Merge,
    IReadOnlyList<string> SchemaChanges,
    string? CompleteReason = null)
{
    public TimeSpan Total => Extract + Load + Merge;
}

/// <summary>
/// One STG process run as plain async code: extract → load → merge, each step retried on transient
/// connection failures and safe to repeat. The cluster's process actor drives the same three steps one
/// by one; the CLI runs them here in a row.
/// </summary>
public sealed class StgProcess(MigrationMetadata metadata, IObjectStore store)
{
    public int MaxAttempts { get; init; } = 3;
    public TimeSpan FirstBackoff { get; init; } = TimeSpan.FromSeconds(1);

    private string StgSchema => metadata.Target.StgSchema;
    private string TargetConnectionString => metadata.Target.ToConnectionString("ferry-stg");

    public async Task<Manifest> ExtractAsync(SourceTable table, RunMode mode, string runId, bool? keySweep = null,
        IProgress<StepProgress>? progress = null, CancellationToken ct = default)
    {
        if (!metadata.Sources.TryGetValue(table.Source, out var source))
            throw new InvalidOperationException($"{table.ProcessId}: source '{table.Source}' is not defined in connections.yaml");
        var request = new ExtractRequest(table, source.ToConnectionString("ferry-extract"), TargetConnectionString, StgSchema, mode, runId,
            KeySweep: mode == RunMode.Incremental && (keySweep ?? table.KeySweep),
            MaxParallelism: Math.Max(1, source.MaxConcurrentExtracts));
        return await Step(table.ProcessId, "extract", () => new Extractor(store).ExtractAsync(request, progress, ct), ct);
    }

    public Task<LoadResult> LoadAsync(Manifest manifest, IProgress<StepProgress>? progress = null, CancellationToken ct = default)
    {
        var table = metadata.FindTable(manifest.ProcessId) ?? throw new InvalidOperationException($"{manifest.ProcessId} is not in the metadata");
        var folder = RunLayout.RunFolder(table, manifest.RunId);
        return Step(manifest.ProcessId, "load",
            () => new Loader(store).LoadAsync(manifest, folder, TargetConnectionString, StgSchema, table.Chunking.Parallelism, progress, ct), ct);
    }

    /// <param name="progress">Reported when the merge starts (0 of the loaded rows) and when it is done; the merge is one statement.</param>
    public async Task<MergeCounts> MergeAsync(Manifest manifest, long loadedRows, IProgress<StepProgress>? progress = null, CancellationToken ct = default)
    {
        var tally = new ProgressTotal(manifest.ProcessId, ProcessStep.Merging, loadedRows, progress);
        var counts = await Step(manifest.ProcessId, "merge", () => Merger.MergeAsync(manifest, TargetConnectionString, StgSchema, loadedRows, ct), ct);
        tally.Add(loadedRows, 0);
        tally.Finish();
        return counts;
    }

    /// <summary>A whole run: extract from the source, then load and merge its files.</summary>
    public async Task<StgRunResult> RunAsync(SourceTable table, RunMode mode, bool? keySweep = null,
        IProgress<StepProgress>? progress = null, CancellationToken ct = default)
    {
        var runId = RunLayout.NewRunId(DateTimeOffset.UtcNow);
        var clock = Stopwatch.StartNew();
        var manifest = await ExtractAsync(table, mode, runId, keySweep, progress, ct);
        var extract = clock.Elapsed;
        return await LoadAndMergeAsync(manifest, extract, progress, ct);
    }

    /// <summary>Re-loads an earlier run's files without touching the source.</summary>
    public async Task<StgRunResult> ReplayAsync(SourceTable table, string runId, IProgress<StepProgress>? progress = null, CancellationToken ct = default)
    {
        var manifest = await ReadManifestAsync(table, runId, ct);
        return await LoadAndMergeAsync(manifest, TimeSpan.Zero, progress, ct);
    }

    public async Task<Manifest> ReadManifestAsync(SourceTable table, string runId, CancellationToken ct = default)
    {
        var key = RunLayout.RunFolder(table, runId) + Manifest.FileName;
        try
        {
            return Manifest.FromJson(await store.GetBytesAsync(key, ct), $"{key} in {store.Describe()}");
        }
        catch (ObjectNotFoundException)
        {
            throw new InvalidOperationException($"{table.ProcessId}: run {runId} has no manifest in {store.Describe()} (an extract that did not finish, or a wrong run id)");
        }
        catch (InvalidDataException e)
        {
            // Nothing has been loaded yet: the manifest is read before any part.
            throw new LoadFailedException($"{table.ProcessId}: load failed: {e.Message}; STG unchanged", e);
        }
    }

    /// <summary>Run ids with a complete extract (a manifest), oldest first.</summary>
    public async Task<IReadOnlyList<string>> ListRunsAsync(SourceTable table, CancellationToken ct = default)
    {
        var folder = RunLayout.TableFolder(table);
        var runs = new List<string>();
        await foreach (var o in store.ListAsync(folder, ct))
            if (o.Key.EndsWith("/" + Manifest.FileName, StringComparison.Ordinal))
                runs.Add(o.Key[folder.Length..^(Manifest.FileName.Length + 1)]);
        runs.Sort(StringComparer.Ordinal);
        return runs;
    }

    /// <summary>Load and merge an extract's files; <paramref name="extract"/> is how long the extract took, for the report.</summary>
    public async Task<StgRunResult> LoadAndMergeAsync(Manifest manifest, TimeSpan extract, IProgress<StepProgress>? progress, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var loaded = await LoadAsync(manifest, progress, ct);
        var load = clock.Elapsed;
        var counts = loaded.Counts;
        if (!loaded.MergedDirectly)
            counts = await MergeAsync(manifest, loaded.Rows, progress, ct);
        var merge = clock.Elapsed - load;
        return new StgRunResult(manifest.ProcessId, manifest.RunId, manifest.Mode, manifest.TotalRows, manifest.Parts.Sum(p => p.Bytes),
            counts!, extract, load, merge, loaded.SchemaChanges, manifest.CompleteReason);
    }

    /// <summary>Runs a step, retrying transient connection failures with exponential backoff; names the step in any other failure.</summary>
    private async Task<T> Step<T>(string processId, string step, Func<Task<T>> work, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await work();
            }
            catch (Exception e) when (IsTransient(e) && attempt < MaxAttempts && !ct.IsCancellationRequested)
            {
                await Task.Delay(FirstBackoff * Math.Pow(2, attempt - 1), ct);
            }
            catch (Exception e) when (e is not (LoadFailedException or SchemaDriftException or OperationCanceledException or StepFailedException))
            {
                throw new StepFailedException(processId, step, e);
            }
        }
    }

    public static bool IsTransient(Exception e) => e switch
    {
        PostgresException pg => pg.IsTransient,
        NpgsqlException npg => npg.IsTransient,
        IOException => true,
        _ => false,
    };
}

/// <summary>A step failure, in one line a person can act on: process, step, cause.</summary>
public sealed partial class StepFailedException(string processId, string step, Exception inner)
    : Exception(Describe(processId, step, inner), inner)
{
    public string ProcessId { get; } = processId;
    public string Step { get; } = step;

    /// <summary>
    /// "&lt;process&gt;: &lt;step&gt; failed: &lt;cause&gt;", naming process and step once however many layers wrap the
    /// cause (the process actor wraps the step's own failure again), and once only when the cause names the process itself.
    /// </summary>
    public static string Describe(string processId, string step, Exception inner)
    {
        var cause = ErrorText.Of(inner);
        var own = processId + ": ";
        if (!cause.StartsWith(own, StringComparison.Ordinal)) return $"{own}{step} failed: {cause}";
        var rest = cause[own.Length..];
        // Already "<process>: load failed: …" (or another step's own wording): keep it.
        return StepWording().IsMatch(rest) ? cause : $"{own}{step} failed: {rest}";
    }

    [System.Text.RegularExpressions.GeneratedRegex("^[a-z]+ failed: ")]
    private static partial System.Text.RegularExpressions.Regex StepWording();
}

/// <summary>IProgress that reports on the calling thread (Progress&lt;T&gt; posts to the thread pool and reorders reports).</summary>
public sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}

/// <summary>One line for a person: the database's own message (not Npgsql's multi-line form), or the exception's first line.</summary>
public static class ErrorText
{
    public static string Of(Exception e) => e switch
    {
        PostgresException pg => $"{pg.MessageText} (SQLSTATE {pg.SqlState}{(pg.TableName is { } t ? $", table {t}" : "")})",
        _ => e.Message.Split('\n', 2)[0].Trim(),
    };
}
