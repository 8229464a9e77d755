using System.Threading.Channels;
using Ferry.Shared.Files;
using Ferry.Shared.Metadata;
using Ferry.Shared.Stg;
using Ferry.Shared.Storage;
using Ferry.Worker.Stg;
using Npgsql;

namespace Ferry.Worker.Files;

/// <summary>A file that could not be copied in a run, and why.</summary>
public sealed record FileFailure(string SourceKey, string Error);

/// <summary>What a files run did; <see cref="Failures"/> holds at most the first <see cref="FilesProcess.MaxReportedFailures"/>.</summary>
public sealed record FilesRunResult(FileCopyCounts Counts, IReadOnlyList<FileFailure> Failures);

/// <summary>
/// One files process run as plain async code: list the source table's objects (<see cref="FileListing"/>),
/// copy and verify each with bounded parallelism (<see cref="FileCopier"/>), and record every attempt in
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

    /// <summary>Relative filesystem stores live beside metadata/, as for the extract store.</summary>
    private string ProjectFolder => Path.GetDirectoryName(Path.GetFullPath(metadata.Root)) ?? Path.GetFullPath(metadata.Root);

    public async Task<FilesRunResult> RunAsync(FilesDefinition files, RunMode mode, string runId, IProgress<StgProgress>? progress, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentException.ThrowIfNullOrWhiteSpace(runId);
        if (!metadata.Sources.TryGetValue(files.Source, out var sourceDb))
            throw new InvalidOperationException($"{files.ProcessId}: source '{files.Source}' is not defined in connections.yaml");

        var source = ObjectStoreFactory.Create(files.SourceStore, ProjectFolder);
        var target = ObjectStoreFactory.Create(files.TargetStore, ProjectFolder);
        try
        {
            await using var session = new NpgsqlConnection(metadata.Target.ToConnectionString("ferry-files"));
            await using var writer = new NpgsqlConnection(metadata.Target.ToConnectionString("ferry-files"));
            await Step(files, "connect to the target database", async () =>
            {
                await session.OpenAsync(ct);
                await writer.OpenAsync(ct);
                await FileCopyTable.EnsureAsync(writer, StgSchema, ct);
                return true;
            });
            // One run per process at a time; the lock goes with the session if this process dies.
            await Exec(session, "SELECT pg_advisory_lock(hashtext($1))", ct, "ferry.files:" + files.ProcessId);
            try
            {
                await Step(files, "check the target store", async () => await target.StatAsync(files.TargetKeyOf("ferry-probe"), ct) ?? null);
                await Step(files, $"list {files.ListingTable} on {files.Source}",
                    () => FileListing.LoadAsync(files, sourceDb.ToConnectionString("ferry-files"), session, ct));
                var since = FileListing.CreatedSince(files, mode, DateTimeOffset.UtcNow);
                var result = await CopyAllAsync(files, runId, new FileCopier(files, source, target),
                    FileListing.ReadAsync(session, StgSchema, files.ProcessId, since, ct), writer, progress, ct);
                await FileListing.DropAsync(session, ct);
                return result;
            }
            finally
            {
                if (session.State == System.Data.ConnectionState.Open)
                    await Exec(session, "SELECT pg_advisory_unlock(hashtext($1))", CancellationToken.None, "ferry.files:" + files.ProcessId);
            }
        }
        finally
        {
            (source as IDisposable)?.Dispose();
            (target as IDisposable)?.Dispose();
        }
    }

    /// <summary>The failed files in stg.file_copies, of one process or all, by process and key.</summary>
    public async Task<IReadOnlyList<FileCopyRecord>> ListFailuresAsync(string? processId, int limit, CancellationToken ct)
    {
        await using var conn = new NpgsqlConnection(metadata.Target.ToConnectionString("ferry-files"));
        await conn.OpenAsync(ct);
        return await FileCopyTable.ListFailedAsync(conn, StgSchema, processId, Math.Max(0, limit), ct);
    }

    private async Task<FilesRunResult> CopyAllAsync(FilesDefinition files, string runId, FileCopier copier, IAsyncEnumerable<ListedFile> listed,
        NpgsqlConnection writer, IProgress<StgProgress>? progress, CancellationToken ct)
    {
        long copied = 0, skipped = 0, failed = 0, done = 0;
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
                    if (progress is not null)
                        lock (failures) progress.Report(new StgProgress(files.ProcessId, StgStep.Loading, ++done));
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

    private static async Task Exec(NpgsqlConnection conn, string sql, CancellationToken ct, string value)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        cmd.Parameters.Add(new NpgsqlParameter { Value = value });
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
