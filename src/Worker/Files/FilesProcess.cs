using System.Threading.Channels;
using Ferry.Shared.Files;
using Ferry.Shared.Metadata;
using Ferry.Shared.Processes;
using Ferry.Shared.Sql;
using Ferry.Shared.Stg;
using Ferry.Shared.Storage;
using Ferry.Worker.Stg;
using Npgsql;

namespace Ferry.Worker.Files;

/// <summary>A file that could not be copied in a run, and why.</summary>
public sealed record FileFailure(string SourceKey, string Error);

/// <summary>The Listing step's result: the rows listed and when (the incremental window is counted back from then).</summary>
public sealed record FilesListing(long Rows, DateTimeOffset At);

/// <summary>What a files run did; <see cref="Failures"/> holds at most the first <see cref="FilesProcess.MaxReportedFailures"/>.</summary>
public sealed record FilesRunResult(FileCopyCounts Counts, IReadOnlyList<FileFailure> Failures);

/// <summary>
/// One files process run as plain async code, in the two steps of its state machine: list the source table's
/// objects (<see cref="ListAsync"/>, <see cref="FileListing"/>), then copy and verify each with bounded
/// parallelism (<see cref="CopyAsync"/>, <see cref="FileCopier"/>), and record every attempt in
/// stg.file_copies (<see cref="FileCopyTable"/>). A file that fails is a row with status 'failed', never an
/// exception; the run throws only when it cannot go on (a database unreachable, the target store refusing
/// every write). Safe to repeat after a crash at any point: copies are idempotent, a verified object is
/// skipped, and rows are upserts.
/// </summary>
public sealed class FilesProcess(MigrationMetadata metadata)
{
    public const int MaxReportedFailures = 100;

    /// <summary>Outcomes written to stg.file_copies per statement.</summary>
    private const int BatchSize = 500;

    private string StgSchema => metadata.Target.StgSchema;

    /// <summary>A whole run in one call: <see cref="ListAsync"/>, then <see cref="CopyAsync"/> (`ferry files run`, tests).</summary>
    public async Task<FilesRunResult> RunAsync(FilesDefinition files, RunMode mode, string runId, IProgress<StepProgress>? progress, CancellationToken ct)
    {
        var listed = await ListAsync(files, progress, ct);
        return await CopyAsync(files, mode, runId, listed, progress, ct);
    }

    /// <summary>
    /// The Listing step: checks the target store answers, then streams the source table's live rows into the
    /// run's listing table on the target (<see cref="FileListing"/>), where the Copying step reads them.
    /// </summary>
    public Task<FilesListing> ListAsync(FilesDefinition files, CancellationToken ct) => ListAsync(files, null, ct);

    /// <param name="progress">Listing: at the start (0), and the files listed at the end.</param>
    public async Task<FilesListing> ListAsync(FilesDefinition files, IProgress<StepProgress>? progress, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(files);
        var sourceDb = SourceOf(files);
        var target = ObjectStoreFactory.Create(files.TargetStore, metadata.ProjectFolder);
        try
        {
            await using var session = await OpenLockedAsync(files, ct);
            await Step(files, "check the target store", async () => await target.StatAsync(files.TargetKeyOf("ferry-probe"), ct) ?? null);
            var tally = new ProgressTotal(files.ProcessId, ProcessStep.Listing, null, progress);
            var listedAt = DateTimeOffset.UtcNow;
            var rows = await Step(files, $"list {files.ListingTable} on {files.Source}",
                () => FileListing.LoadAsync(files, sourceDb.ToConnectionString("ferry-files"), session, ct));
            tally.Add(rows, 0);
            tally.Finish();
            return new FilesListing(rows, listedAt);
        }
        finally
        {
            (target as IDisposable)?.Dispose();
        }
    }

    /// <summary>
    /// The Copying step: copies and verifies the listed objects the mode selects (bulk: all; incremental: created within
    /// the window before <see cref="FilesListing.At"/>, plus every one not yet copied), records every outcome, and drops
    /// the listing. A listing that is gone or cut short (a database crash empties unlogged tables) is made again first.
    /// </summary>
    public async Task<FilesRunResult> CopyAsync(FilesDefinition files, RunMode mode, string runId, FilesListing listed, IProgress<StepProgress>? progress, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentException.ThrowIfNullOrWhiteSpace(runId);
        var sourceDb = SourceOf(files);
        var source = ObjectStoreFactory.Create(files.SourceStore, metadata.ProjectFolder);
        var target = ObjectStoreFactory.Create(files.TargetStore, metadata.ProjectFolder);
        try
        {
            await using var session = await OpenLockedAsync(files, ct);
            await using var writer = new NpgsqlConnection(metadata.Target.ToConnectionString("ferry-files"));
            await Step(files, "connect to the target database", async () => { await writer.OpenAsync(ct); return true; });
            var rows = listed.Rows;
            if (await FileListing.CountAsync(files, session, ct) != listed.Rows)
                rows = await Step(files, $"list {files.ListingTable} on {files.Source} again (the listing table was lost)",
                    () => FileListing.LoadAsync(files, sourceDb.ToConnectionString("ferry-files"), session, ct));
            var since = FileListing.CreatedSince(files, mode, listed.At);
            // A bulk copy looks at every listed file; an incremental one at a window of them, not counted beforehand.
            var tally = new ProgressTotal(files.ProcessId, ProcessStep.Copying, since is null ? rows : null, progress);
            var result = await CopyAllAsync(files, runId, new FileCopier(files, source, target),
                FileListing.ReadAsync(session, files, StgSchema, since, ct), writer, tally, ct);
            tally.Finish();
            await FileListing.DropAsync(files, session, ct);
            return result;
        }
        finally
        {
            (source as IDisposable)?.Dispose();
            (target as IDisposable)?.Dispose();
        }
    }

    private PgConnection SourceOf(FilesDefinition files) =>
        metadata.Sources.TryGetValue(files.Source, out var sourceDb) ? sourceDb
        : throw new InvalidOperationException($"{files.ProcessId}: source '{files.Source}' is not defined in connections.yaml");

    /// <summary>
    /// A target session holding the process's advisory lock (one step of one run at a time; the lock goes with the
    /// session if this process dies), with stg.file_copies in place.
    /// </summary>
    private async Task<LockedSession> OpenLockedAsync(FilesDefinition files, CancellationToken ct)
    {
        var conn = new NpgsqlConnection(metadata.Target.ToConnectionString("ferry-files"));
        try
        {
            await Step(files, "connect to the target database", async () =>
            {
                await conn.OpenAsync(ct);
                await FileCopyTable.EnsureAsync(conn, StgSchema, ct);
                return true;
            });
            await conn.ExecAsync("SELECT pg_advisory_lock(hashtext($1))", ct, new NpgsqlParameter { Value = LockName(files) });
            return new LockedSession(conn, LockName(files));
        }
        catch
        {
            await conn.DisposeAsync();
            throw;
        }
    }

    private static string LockName(FilesDefinition files) => "ferry.files:" + files.ProcessId;

    /// <summary>The target connection of a step, its advisory lock released when it is disposed.</summary>
    private sealed class LockedSession(NpgsqlConnection conn, string lockName) : IAsyncDisposable
    {
        public static implicit operator NpgsqlConnection(LockedSession s) => s.Connection;

        public NpgsqlConnection Connection { get; } = conn;

        public async ValueTask DisposeAsync()
        {
            if (Connection.State == System.Data.ConnectionState.Open)
                try { await Connection.ExecAsync("SELECT pg_advisory_unlock(hashtext($1))", CancellationToken.None, new NpgsqlParameter { Value = lockName }); }
                catch (NpgsqlException) { } // the session is going anyway, and the lock with it
            await Connection.DisposeAsync();
        }
    }

    /// <summary>The failed files in stg.file_copies, of one process or all, by process and key.</summary>
    public async Task<IReadOnlyList<FileCopyRecord>> ListFailuresAsync(string? processId, int limit, CancellationToken ct)
    {
        await using var conn = await PgConnect.OpenAsync(metadata.Target.ToConnectionString("ferry-files"), ct);
        return await FileCopyTable.ListFailedAsync(conn, StgSchema, processId, Math.Max(0, limit), ct);
    }

    private async Task<FilesRunResult> CopyAllAsync(FilesDefinition files, string runId, FileCopier copier, IAsyncEnumerable<ListedFile> listed,
        NpgsqlConnection writer, ProgressTotal tally, CancellationToken ct)
    {
        long copied = 0, skipped = 0, failed = 0;
        var failures = new List<FileFailure>();
        var targetFailuresInARow = 0;
        // Enough consecutive failures of the target store (and no success in between) to say it is unusable, not unlucky.
        var targetBreaker = Math.Max(10, 2 * files.Parallelism);
        var outcomes = Channel.CreateBounded<FileCopyRow>(new BoundedChannelOptions(4 * BatchSize) { SingleReader = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var recording = RecordAsync(files, runId, outcomes.Reader, writer, stop);

        try
        {
            await Parallel.ForEachAsync(listed, new ParallelOptions { MaxDegreeOfParallelism = files.Parallelism, CancellationToken = stop.Token },
                async (file, token) =>
                {
                    var outcome = await copier.CopyAsync(file, token);
                    switch (outcome.Status)
                    {
                        case CopyStatus.Skipped:
                            Interlocked.Increment(ref skipped);
                            Volatile.Write(ref targetFailuresInARow, 0);
                            break;
                        case CopyStatus.Copied:
                            Interlocked.Increment(ref copied);
                            Volatile.Write(ref targetFailuresInARow, 0);
                            break;
                        default:
                            Interlocked.Increment(ref failed);
                            lock (failures)
                                if (failures.Count < MaxReportedFailures) failures.Add(new FileFailure(file.SourceKey, outcome.Error!));
                            if (outcome.TargetFailure && Interlocked.Increment(ref targetFailuresInARow) >= targetBreaker)
                                throw new StepFailedException(files.ProcessId, "copy",
                                    new IOException($"the target store is not usable ({targetBreaker} writes in a row failed; last: {file.SourceKey}: {outcome.Error})"));
                            break;
                    }
                    if (outcome.Status != CopyStatus.Skipped)
                        await outcomes.Writer.WriteAsync(new FileCopyRow(file.SourceKey, outcome.TargetKey, outcome.SizeBytes, outcome.Checksum,
                            outcome.Status == CopyStatus.Copied ? FileCopyTable.Copied : FileCopyTable.Failed, outcome.Error, file.CreatedAt), token);
                    tally.Add(1, outcome.Status == CopyStatus.Copied ? outcome.SizeBytes ?? 0 : 0);
                });
            outcomes.Writer.Complete();
            await recording;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested && recording.IsFaulted)
        {
            // The workers stopped because recording failed: that failure is the one to report.
            await recording;
            throw;
        }
        catch
        {
            outcomes.Writer.TryComplete();
            await stop.CancelAsync();
            try { await recording; } catch (Exception) { } // the first failure is the one to report
            throw;
        }

        lock (failures)
            return new FilesRunResult(new FileCopyCounts(copied, skipped, failed), [.. failures]);
    }

    /// <summary>Writes outcomes to stg.file_copies in batches, as they come.</summary>
    private async Task RecordAsync(FilesDefinition files, string runId, ChannelReader<FileCopyRow> outcomes, NpgsqlConnection writer, CancellationTokenSource stop)
    {
        var ct = stop.Token;
        var batch = new List<FileCopyRow>(BatchSize);
        await Task.Yield();
        try
        {
            while (await outcomes.WaitToReadAsync(ct))
            {
                while (batch.Count < BatchSize && outcomes.TryRead(out var row)) batch.Add(row);
                await Step(files, "record", async () => { await FileCopyTable.WriteAsync(writer, StgSchema, files.ProcessId, runId, batch, ct); return true; });
                batch.Clear();
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await stop.CancelAsync(); // the copiers would otherwise wait on a full channel forever
            throw;
        }
    }

    private static async Task<T> Step<T>(FilesDefinition files, string step, Func<Task<T>> work)
    {
        try
        {
            return await work();
        }
        catch (Exception e) when (e is not (OperationCanceledException or StepFailedException))
        {
            throw new StepFailedException(files.ProcessId, step, e);
        }
    }

}
