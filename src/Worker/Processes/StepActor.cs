using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Ferry.Shared.Bl;
using Ferry.Shared.Metadata;
using Ferry.Shared.Processes;
using Ferry.Shared.Stg;
using Ferry.Worker.Bl;
using Ferry.Worker.Files;
using Ferry.Worker.Stg;
using Ferry.Worker.Verify;
using Ferry.Shared.Verify;
using Npgsql;

namespace Ferry.Worker.Processes;

/// <summary>The outcome of one step, sent to the process entity.</summary>
public sealed record StepSucceeded(string RunId, ProcessStep Step, IProcessEvent Event);

/// <summary>
/// One failed attempt of a step; the entity decides whether another follows, unless the failure is
/// <see cref="Permanent"/> (the same input fails the same way: a SQL error in a transform), which ends the run at once.
/// </summary>
public sealed record StepAttemptFailed(string RunId, ProcessStep Step, string Error, bool Permanent = false, bool ConnectionLoss = false);

/// <summary>The running step's latest progress, sent to its entity (for status queries).</summary>
public sealed record StepProgressed(string RunId, StepProgress Progress);

/// <summary>
/// Runs one attempt of one step of one run off the entity's thread: the I/O runs in a task piped back to
/// this actor, which reports the outcome to the entity and stops. The entity starts a new one for a retry
/// (every step is safe to repeat).
/// </summary>
public sealed class StepActor : ReceiveActor
{
    private readonly CancellationTokenSource _cts = new();
    private readonly IActorRef _entity;
    private readonly ActiveRun _run;
    private readonly ProcessServices _services;
    private readonly string _processId;
    private readonly ILoggingAdapter _log;
    private readonly System.Diagnostics.Stopwatch _clock = new();

    private sealed record Done(IProcessEvent Event);

    public StepActor(IActorRef entity, string processId, ActiveRun run, ProcessServices services)
    {
        _entity = entity;
        _processId = processId;
        _run = run;
        _services = services;
        _log = Context.GetLogger().For(processId, run);
        Receive<Done>(d =>
        {
            _log.Info("{0}: {1} done in {2:0.0} s", _processId, Step, _clock.Elapsed.TotalSeconds);
            _entity.Tell(new StepSucceeded(_run.RunId, _run.Step, d.Event));
            Context.Stop(Self);
        });
        Receive<Status.Failure>(f =>
        {
            var cause = f.Cause is AggregateException { InnerExceptions.Count: 1 } a ? a.InnerException! : f.Cause;
            _log.Warning("{0}: {1} attempt failed after {2:0.0} s: {3}", _processId, Step, _clock.Elapsed.TotalSeconds, cause.Message);
            _entity.Tell(new StepAttemptFailed(_run.RunId, _run.Step, cause.Message, StepFailures.IsPermanent(cause), StepFailures.IsConnectionLoss(cause)));
            Context.Stop(Self);
        });
    }

    protected override void PreStart()
    {
        var self = Self;
        var entity = _entity;
        var runId = _run.RunId;
        var since = DateTimeOffset.UtcNow;
        var progress = new SyncProgress<StepProgress>(p => entity.Tell(new StepProgressed(runId, p with { Since = since })));
        _log.Info("{0}: {1} started (run {2})", _processId, Step, runId);
        _clock.Start();
        // What the data path logs while the step runs carries the run's properties (the task keeps them).
        using (RunLogging.Push(_processId, _run))
            RunAsync(progress, _cts.Token).PipeTo(self, success: e => new Done(e));
    }

    private string Step => _run.Step.ToString().ToLowerInvariant();

    protected override void PostStop()
    {
        _cts.Cancel();
        _cts.Dispose();
    }

    /// <summary>"3 of 120 files failed (…): key: error; …" with the first few failures; `ferry files failures` lists them all.</summary>
    private string FilesFailed(FilesRunResult result)
    {
        const int shown = 3;
        var c = result.Counts;
        var first = string.Join("; ", result.Failures.Take(shown).Select(f => $"{f.SourceKey}: {f.Error}"));
        var more = c.Failed > shown ? $"; and {c.Failed - shown:N0} more" : "";
        return $"{c.Failed:N0} of {c.Total:N0} files failed ({c.Copied:N0} copied, {c.Skipped:N0} already there; " +
               $"ferry files failures --process {_processId}): {first}{more}";
    }

    private Task<IProcessEvent> RunAsync(IProgress<StepProgress> progress, CancellationToken ct) => _run switch
    {
        BlRun => TransformAsync(ct),
        VerifyRun verify => VerifyAsync(verify, progress, ct),
        FilesRun { Step: ProcessStep.Listing } => ListAsync(progress, ct),
        FilesRun { Step: ProcessStep.Copying } files => CopyAsync(files, progress, ct),
        StgRun stg => StgStepAsync(stg, progress, ct),
        _ => throw new InvalidOperationException($"{_processId}: no step to run for a {_run.GetType().Name} at {_run.Step}"),
    };

    /// <summary>
    /// A verify run: compare, record what was found under the verification (the pipeline run, or this run when
    /// started alone), and end the run failed when anything differs, so a cutover pipeline shows it. A comparison
    /// that throws (a source down) is retried like any step; one that could not be made (a check's SQL fails) ends the run.
    /// </summary>
    private async Task<IProcessEvent> VerifyAsync(VerifyRun run, IProgress<StepProgress> progress, CancellationToken ct)
    {
        var settings = run.MaxAge is { } maxAge ? VerifySettings.Default with { MaxAge = maxAge } : VerifySettings.Default;
        var result = await Verifier.RunAsync(_processId, _services.Metadata, settings, progress, ct);
        await _services.Verifications.RecordAsync(run.PipelineRunId ?? run.RunId, run.RunId, result, ct);
        return result.Outcome == VerifyOutcome.Equal
            ? new RunSucceeded(run.RunId, MergeCounts.Zero, DateTimeOffset.UtcNow)
            : new RunFailed(run.RunId, Verifier.Summary(result), DateTimeOffset.UtcNow);
    }

    /// <summary>A BL run: one transaction; a bulk run is a full rebuild, an incremental one runs in the file's own mode.</summary>
    private async Task<IProcessEvent> TransformAsync(CancellationToken ct)
    {
        var transform = _services.Metadata.FindTransform(_processId)
            ?? throw new InvalidOperationException($"{_processId} is not a transform in this worker's metadata");
        if (_services.Metadata.Files.Count > 0)
        {
            // BL joins the files processes' STG table; before their first run it is there, empty (no attachment copied yet).
            await using var conn = new NpgsqlConnection(_services.TargetConnectionString);
            await conn.OpenAsync(ct);
            await FileCopyTable.EnsureAsync(conn, _services.Metadata.Target.StgSchema, ct);
        }
        var counts = await Transformer.RunAsync(transform, _services.TargetConnectionString, _run.RunId, ct,
            _run.Mode == RunMode.Bulk ? TransformMode.Full : null);
        return new RunSucceeded(_run.RunId, counts, DateTimeOffset.UtcNow);
    }

    /// <summary>A files run's first step: the source table's objects listed into the target, for the Copying step.</summary>
    private async Task<IProcessEvent> ListAsync(IProgress<StepProgress> progress, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var listed = await _services.Files.ListAsync(Files(), progress, ct);
        return new FilesListed(_run.RunId, listed.Rows, listed.At, clock.Elapsed);
    }

    /// <summary>A files run's copy: failed files end the run failed (the others are copied and recorded; the next run retries them, whatever their age).</summary>
    private async Task<IProcessEvent> CopyAsync(FilesRun run, IProgress<StepProgress> progress, CancellationToken ct)
    {
        var listed = new FilesListing(run.ListedFiles ?? -1, run.ListedAt ?? run.StartedAt);
        var result = await _services.Files.CopyAsync(Files(), run.Mode, run.RunId, listed, progress, ct);
        return result.Counts.Failed == 0
            ? new RunSucceeded(run.RunId, MergeCounts.Zero, DateTimeOffset.UtcNow, result.Counts)
            : new RunFailed(run.RunId, FilesFailed(result), DateTimeOffset.UtcNow, result.Counts);
    }

    private FilesDefinition Files() => _services.Metadata.FindFiles(_processId)
        ?? throw new InvalidOperationException($"{_processId} is not a files process in this worker's metadata");

    /// <summary>One step of an STG run: extract, load or merge.</summary>
    private async Task<IProcessEvent> StgStepAsync(StgRun run, IProgress<StepProgress> progress, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var table = _services.Metadata.FindTable(_processId)
            ?? throw new InvalidOperationException($"{_processId} is not in this worker's metadata");
        switch (run.Step)
        {
            case ProcessStep.Extracting:
                var manifest = await _services.Stg.ExtractAsync(table, run.Mode, run.RunId, run.KeySweep, progress, ct);
                return new Extracted(run.RunId, manifest, clock.Elapsed);
            case ProcessStep.Loading:
                var loaded = await _services.Stg.LoadAsync(run.Manifest!, progress, ct);
                return new Loaded(run.RunId, loaded.Rows, loaded.MergedDirectly ? loaded.Counts : null, clock.Elapsed);
            case ProcessStep.Merging:
                if (run.MergedDirectly is { } direct)
                    return new RunSucceeded(run.RunId, direct, DateTimeOffset.UtcNow);
                try
                {
                    return new RunSucceeded(run.RunId, await _services.Stg.MergeAsync(run.Manifest!, run.LoadedRows!.Value, progress, ct), DateTimeOffset.UtcNow);
                }
                catch (LoadTableMissingException)
                {
                    // The load table went away (a restarted database drops unlogged tables): load the files again, then merge.
                    var reloaded = await _services.Stg.LoadAsync(run.Manifest!, progress, ct);
                    var counts = reloaded.MergedDirectly ? reloaded.Counts! : await _services.Stg.MergeAsync(run.Manifest!, reloaded.Rows, progress, ct);
                    return new RunSucceeded(run.RunId, counts, DateTimeOffset.UtcNow);
                }
            default:
                throw new InvalidOperationException($"{_processId}: no step to run in state {run.Step}");
        }
    }
}
