using System.Diagnostics;
using Ferry.Shared.History;
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
            MaxParallelism: Math.Max(1, source.MaxConcurrentExtracts),
            // DEV (object_store.env: dev) applies the tables' obfuscation rules; PROD never does, even where rules exist.
            Obfuscate: ObfuscationPolicy.AppliesIn(metadata.ObjectStore));
        return await Step(table.ProcessId, "extract", () => new Extractor(store).ExtractAsync(request, progress, ct), ct);
    }

    /// <summary>Gives up waiting for another writer of the same STG table after this long (null: wait until cancelled).</summary>
    public TimeSpan? WriterWaitLimit { get; init; }

    /// <summary>Called when this process waits for the STG table's writer lock, with who holds it.</summary>
    public Action<string, string>? WaitingForWriter { get; init; }

    /// <summary>Loads a run's files under the table's writer lock (the cluster's process actor runs load and merge as separate steps).</summary>
    public async Task<LoadResult> LoadAsync(Manifest manifest, IProgress<StepProgress>? progress = null, CancellationToken ct = default)
    {
        await using var writer = await WriterLockAsync(manifest, "load", ct);
        return await LoadLockedAsync(manifest, progress, ct);
    }

    /// <param name="progress">Reported when the merge starts (0 of the loaded rows) and when it is done; the merge is one statement.</param>
    public async Task<MergeCounts> MergeAsync(Manifest manifest, long loadedRows, IProgress<StepProgress>? progress = null, CancellationToken ct = default)
    {
        await using var writer = await WriterLockAsync(manifest, "merge", ct);
        return await MergeLockedAsync(manifest, loadedRows, progress, ct);
    }

    /// <summary>The STG table's writer lock, for this run: one writer per STG table at a time.</summary>
    /// <param name="step">The step that needs it, named in a failure to take it.</param>
    private Task<StgWriterLock> WriterLockAsync(Manifest manifest, string step, CancellationToken ct) =>
        Step(manifest.ProcessId, step, () => StgWriterLock.AcquireAsync(TargetConnectionString, StgSchema, manifest.StgTable,
            $"{manifest.ProcessId} run {manifest.RunId}", WaitingForWriter is { } w ? holder => w(manifest.ProcessId, holder) : null, WriterWaitLimit, ct), ct);

    private async Task<LoadResult> LoadLockedAsync(Manifest manifest, IProgress<StepProgress>? progress, CancellationToken ct)
    {
        var table = metadata.FindTable(manifest.ProcessId) ?? throw new InvalidOperationException($"{manifest.ProcessId} is not in the metadata");
        var folder = RunLayout.RunFolder(table, manifest.RunId);
        return await DroppingLoadTablesOnFailure(manifest, () => Step(manifest.ProcessId, "load",
            () => new Loader(store).LoadAsync(manifest, folder, TargetConnectionString, StgSchema, table.Chunking.Parallelism, progress, ct), ct));
    }

    private async Task<MergeCounts> MergeLockedAsync(Manifest manifest, long loadedRows, IProgress<StepProgress>? progress, CancellationToken ct)
    {
        var tally = new ProgressTotal(manifest.ProcessId, ProcessStep.Merging, loadedRows, progress);
        var counts = await DroppingLoadTablesOnFailure(manifest, () => Step(manifest.ProcessId, "merge",
            () => Merger.MergeAsync(manifest, TargetConnectionString, StgSchema, loadedRows, ct), ct));
        tally.Add(loadedRows, 0);
        tally.Finish();
        return counts;
    }

    /// <summary>A failed load or merge leaves no load table behind (the next attempt loads the files again).</summary>
    private async Task<T> DroppingLoadTablesOnFailure<T>(Manifest manifest, Func<Task<T>> work)
    {
        try
        {
            return await work();
        }
        catch
        {
            try { await Loader.DropLoadTablesAsync(TargetConnectionString, manifest, CancellationToken.None); }
            catch (Exception e) when (e is NpgsqlException or ConnectionFailedException) { /* the database is gone: the failure above says why */ }
            throw;
        }
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
    /// <param name="force">Replay even a run older than the one STG last took in (it rolls STG back to that run); see <see cref="ReplayGuard"/>.</param>
    public async Task<StgRunResult> ReplayAsync(SourceTable table, string runId, bool force = false, IProgress<StepProgress>? progress = null, CancellationToken ct = default)
    {
        var manifest = await ReadManifestAsync(table, runId, ct);
        if (ReplayGuard.Refusal(table.ProcessId, runId, await LastRunAsync(manifest, ct), force) is { } refusal)
            throw new ReplayRefusedException(refusal);
        // A replay is a run of its own in the history, naming the run whose files it loads.
        var replay = new RunRecord(table.ProcessId, RunLayout.NewRunId(DateTimeOffset.UtcNow), null, manifest.Mode, DateTimeOffset.UtcNow,
            RunStatus.Running, "loading", new Dictionary<string, double>(), null, manifest.TotalRows, Environment.MachineName, ReplayOf: runId);
        await RecordAsync(replay);
        try
        {
            var result = await LoadAndMergeAsync(manifest, TimeSpan.Zero, progress, ct);
            await RecordAsync(replay with
            {
                Status = RunStatus.Succeeded, Step = "merging", FinishedAt = DateTimeOffset.UtcNow, Counts = result.Counts,
                Steps = new Dictionary<string, double> { ["loading"] = result.Load.TotalSeconds, ["merging"] = result.Merge.TotalSeconds },
            });
            return result;
        }
        catch (Exception e)
        {
            await RecordAsync(replay with { Status = RunStatus.Failed, FinishedAt = DateTimeOffset.UtcNow, Error = e.Message });
            throw;
        }
    }

    /// <summary>Where replays are recorded (ferry.run_history); null: not recorded.</summary>
    public RunHistory? History { get; init; }

    /// <summary>Told what went wrong when the history could not be written (the replay itself goes on: the history is a record, not a step).</summary>
    public Action<string>? HistoryWarning { get; init; }

    private async Task RecordAsync(RunRecord record)
    {
        if (History is null) return;
        try { await History.RecordAsync(record); }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            HistoryWarning?.Invoke($"{record.ProcessId}: could not write run history for replay {record.RunId}: {ErrorText.Of(e)}");
        }
    }

    /// <summary>The newest run STG holds rows of (whoever wrote it: the entity, a replay, a --local run), or null when STG is empty or missing.</summary>
    private async Task<string?> LastRunAsync(Manifest manifest, CancellationToken ct)
    {
        var stg = Ferry.Shared.Sql.SqlText.Qualified(StgSchema, manifest.StgTable);
        return await Step(manifest.ProcessId, "replay", async () =>
        {
            await using var conn = await PgConnect.OpenAsync(TargetConnectionString, ct);
            await using var exists = new NpgsqlCommand("SELECT to_regclass($1) IS NOT NULL", conn) { Parameters = { new() { Value = stg } } };
            if (!(bool)(await exists.ExecuteScalarAsync(ct))!) return null;
            await using var cmd = new NpgsqlCommand($"SELECT max(stg_run_id) FROM {stg}", conn);
            return await cmd.ExecuteScalarAsync(ct) as string;
        }, ct);
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
        await using var writer = await WriterLockAsync(manifest, "load", ct);
        var clock = Stopwatch.StartNew();
        var loaded = await LoadLockedAsync(manifest, progress, ct);
        var load = clock.Elapsed;
        var counts = loaded.Counts;
        if (!loaded.MergedDirectly)
            counts = await MergeLockedAsync(manifest, loaded.Rows, progress, ct);
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
            catch (Exception e) when (e is not (LoadFailedException or SchemaDriftException or OperationCanceledException or StepFailedException or ReplayRefusedException))
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

/// <summary>A replay that would roll STG back, asked without --force.</summary>
public sealed class ReplayRefusedException(string message) : Exception(message);

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
