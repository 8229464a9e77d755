using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Akka.Persistence;
using Ferry.Shared.Cluster;
using Ferry.Shared.History;
using Ferry.Shared.Metrics;
using Ferry.Shared.Processes;
using Ferry.Worker.Stg;

namespace Ferry.Worker.Processes;

/// <summary>
/// One process, sharded across the workers and persistent. Its state machine depends on its kind: an
/// STG table goes Idle → Extracting → Loading → Merging → Idle, a BL transform Idle → Transforming → Idle,
/// a files process Idle → Listing → Copying → Idle, a verify process Idle → Verifying → Idle. Every completed step is persisted as an event, so an entity
/// restarted on another worker resumes after its last completed step (an extracted run is loaded from its
/// files, not extracted again; a copy works from the run's listing and skips what it recorded). Between runs it
/// saves a snapshot every few events and deletes what the snapshot covers, so recovery stays short however many
/// runs the process has had. Each attempt of a step runs in a child; a failed attempt is retried by this entity
/// after a backoff timer, up to ferry.process.max-retries (a transform's SQL error ends the run at once). The
/// entity itself never blocks and keeps answering status and cancel while a step runs or waits for its retry.
/// </summary>
public sealed class ProcessActor : ReceivePersistentActor, IWithTimers
{
    public ITimerScheduler Timers { get; set; } = null!;

    private const string RetryTimer = "retry";

    private readonly string _processId;
    private readonly ProcessServices _services;
    private readonly StepRetryPolicy _retry;
    private readonly SnapshotPolicy _snapshots;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly string _node;
    private ProcessState _state;
    private IActorRef? _step;
    private int _attempts;
    private DateTime _firstFailureAt;
    private string? _lastError;
    private StepProgress? _progress;
    private long _snapshotSequenceNr;
    private readonly Dictionary<string, double> _stepSeconds = new();
    private Task _historyWrites = Task.CompletedTask;
    private readonly ProcessKind _kind;
    private readonly FerryMetrics.ActiveRunMark _activeRun;
    private readonly FerryMetrics.EntityMark _entity;

    /// <summary>The retry timer's message: the next attempt of this run's step.</summary>
    private sealed record RetryStep(string RunId, ProcessStep Step);

    public ProcessActor(string processId, ProcessServices services)
    {
        _processId = processId;
        _services = services;
        var kind = ProcessKinds.Of(processId) ?? ProcessKind.Stg;
        _state = ProcessState.Initial(kind);
        _kind = kind;
        _activeRun = FerryMetrics.ActiveRun(kind);
        _entity = FerryMetrics.Entity(kind);
        _retry = StepRetryPolicy.From(Context.System.Settings.Config);
        _snapshots = SnapshotPolicy.From(Context.System.Settings.Config);
        _node = ((ExtendedActorSystem)Context.System).Provider.DefaultAddress.ToString();

        Recover<SnapshotOffer>(offer =>
        {
            _state = ProcessState.From(kind, offer.Snapshot as ProcessSnapshot
                ?? throw new InvalidOperationException($"{_processId}: unknown snapshot {offer.Snapshot.GetType().Name}"));
            _snapshotSequenceNr = offer.Metadata.SequenceNr;
        });
        Recover<IProcessEvent>(e => _state = _state.Apply(e));
        Recover<RecoveryCompleted>(_ =>
        {
            if (_state.Active is { } run)
            {
                _log.For(_processId, run).Info("{0}: resuming run {1} at {2}", _processId, run.RunId, run.Step);
                _activeRun.Begin();
                StartStep();
            }
            else SnapshotIfDue();   // a journal written before snapshots existed is compacted on its first start
        });

        Command<StartRun>(OnStartRun);
        Command<GetProcessStatus>(_ => Sender.Tell(Status()));
        Command<CancelRun>(_ =>
        {
            var run = _state.Active;
            Sender.Tell(new CancelAccepted(_processId, run?.RunId));
            if (run is not null) Fail(run, "cancelled by request");
        });
        Command<StepProgressed>(p => { if (p.RunId == _state.Active?.RunId) _progress = p.Progress; });
        Command<StepAttemptFailed>(OnAttemptFailed);
        Command<RetryStep>(r =>
        {
            if (_step is null && _state.Active is { } run && run.RunId == r.RunId && run.Step == r.Step) StartAttempt(run);
        });
        Command<StepSucceeded>(OnStepSucceeded);
        Command<SaveSnapshotSuccess>(ok =>
        {
            // The snapshot holds everything before it: those events and older snapshots are never read again.
            DeleteMessages(ok.Metadata.SequenceNr);
            DeleteSnapshots(new SnapshotSelectionCriteria(ok.Metadata.SequenceNr - 1));
        });
        Command<SaveSnapshotFailure>(f => _log.Warning("{0}: could not save a snapshot (recovery replays the events instead): {1}", _processId, f.Cause.Message));
        Command<DeleteMessagesSuccess>(_ => { });
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteMessagesFailure>(f => _log.Warning("{0}: could not delete events before sequence nr {1}: {2}", _processId, f.ToSequenceNr, f.Cause.Message));
        Command<DeleteSnapshotsFailure>(f => _log.Warning("{0}: could not delete old snapshots: {1}", _processId, f.Cause.Message));
    }

    /// <summary>A step child that throws (a bug: the data path's own errors arrive as <see cref="StepAttemptFailed"/>) is stopped and counts as a failed attempt.</summary>
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(cause =>
    {
        if (_state.Active is { } run) Self.Tell(new StepAttemptFailed(run.RunId, run.Step, cause.Message));
        return Directive.Stop;
    });

    /// <summary>A run that moves to another node (rebalance, passivation) counts as active there, no longer here.</summary>
    protected override void PostStop()
    {
        _activeRun.End();
        _entity.Gone();
        base.PostStop();
    }

    public override string PersistenceId => $"{ProcessSharding.TypeName}-{_processId}";

    private void OnStartRun(StartRun start)
    {
        if (_state.Active is { } active)
        {
            Sender.Tell(new RunRejected(_processId, $"run {active.RunId} is already {active.Step.ToString().ToLowerInvariant()}", active.RunId));
            return;
        }
        if (!_services.Metadata.HasProcess(_processId))
        {
            Sender.Tell(new RunRejected(_processId, "no such process in the metadata", null));
            return;
        }
        var runId = RunLayout.NewRunId(DateTimeOffset.UtcNow);
        var sender = Sender;
        Persist(new RunStarted(runId, start.Mode, start.KeySweep, DateTimeOffset.UtcNow, start.PipelineRunId, start.MaxAge), e =>
        {
            _state = _state.Apply(e);
            FerryMetrics.Persisted(_kind, _processId, e);
            _activeRun.Begin();
            sender.Tell(new RunAccepted(_processId, runId));
            _stepSeconds.Clear();
            Record(_state.Active!, RunStatus.Running, null, null);
            _log.For(_processId, _state.Active!).Info("{0}: run {1} started ({2}{3})", _processId, runId, start.Mode.ToString().ToLowerInvariant(),
                start.PipelineRunId is { } pr ? $", pipeline run {pr}" : "");
            StartStep();
        });
    }

    private void OnStepSucceeded(StepSucceeded done)
    {
        if (_step is null || done.RunId != _state.Active?.RunId || done.Step != _state.Active.Step) return;
        StopStep();
        var stepName = done.Step.ToString().ToLowerInvariant();
        _stepSeconds[stepName] = done.Event switch
        {
            Extracted x => x.Took.TotalSeconds,
            Loaded l => l.Took.TotalSeconds,
            FilesListed fl => fl.Took.TotalSeconds,
            _ => (DateTimeOffset.UtcNow - _state.Active.StartedAt).TotalSeconds - _stepSeconds.Values.Sum(),
        };
        Persist(done.Event, e =>
        {
            var run = _state.Active!;
            _state = _state.Apply(e);
            FerryMetrics.Persisted(_kind, _processId, e);
            FerryMetrics.StepCompleted(_kind, stepName, _stepSeconds[stepName]);
            if (_state.Active is null) _activeRun.End();
            if (e is RunSucceeded ok)
            {
                Record(run, RunStatus.Succeeded, ok.Counts, null, ok.Files);
                Finished(_state.LastSuccess!);
                _log.For(_processId, run).Info("{0}: run {1} succeeded: {2}", _processId, ok.RunId, (object?)ok.Files ?? ok.Counts);
                SnapshotIfDue();
            }
            else if (e is RunFailed failed)
            {
                // A step that ends the run itself: a files run in which some files failed (the others are copied).
                Record(run, RunStatus.Failed, null, failed.Error, failed.Files);
                Finished(_state.LastFailure!);
                _log.For(_processId, run).Error("{0}: run {1} failed: {2}", _processId, failed.RunId, failed.Error);
                SnapshotIfDue();
            }
            else
            {
                Record(_state.Active!, RunStatus.Running, null, null);
                StartStep();
            }
        });
    }

    /// <summary>A failed attempt: the run fails if the failure is permanent or the retries are used up, else the step starts again after a backoff.</summary>
    private void OnAttemptFailed(StepAttemptFailed f)
    {
        if (_step is null || _state.Active is not { } run || f.RunId != run.RunId || f.Step != run.Step) return;
        StopStep();
        _attempts++;
        _lastError = f.Error;
        if (_attempts == 1) _firstFailureAt = DateTime.UtcNow;
        if (f.Permanent || !_retry.Retries(_attempts, f.ConnectionLoss, DateTime.UtcNow - _firstFailureAt))
        {
            Fail(run, f.Error);
            return;
        }
        var wait = _retry.Backoff(_attempts, Random.Shared.NextDouble(), f.ConnectionLoss);
        var of = f.ConnectionLoss ? $"(connection lost: retried for up to {_retry.RetryHealableFor.TotalSeconds:0} s)" : $"of {_retry.MaxRetries + 1}";
        _log.For(_processId, run).Warning("{0}: {1} attempt {2} {3} failed, next in {4:0.0} s: {5}", _processId, f.Step, _attempts, of, wait.TotalSeconds, f.Error);
        Timers.StartSingleTimer(RetryTimer, new RetryStep(run.RunId, run.Step), wait);
    }

    /// <summary>The current step of the active run, from its first attempt.</summary>
    private void StartStep()
    {
        _attempts = 0;
        _lastError = null;
        _progress = null;
        StartAttempt(_state.Active!);
    }

    private void StartAttempt(ActiveRun run)
    {
        StopStep();
        var step = run.Step.ToString().ToLowerInvariant();
        _step = Context.ActorOf(Props.Create(() => new StepActor(Self, _processId, run, _services)), $"step-{run.RunId}-{step}-{_attempts + 1}");
    }

    private void StopStep()
    {
        if (_step is null) return;
        Context.Stop(_step);
        _step = null;
    }

    private void Fail(ActiveRun run, string error)
    {
        Timers.Cancel(RetryTimer);
        StopStep();
        if (_state.Active?.RunId != run.RunId) return;
        Persist(new RunFailed(run.RunId, error, DateTimeOffset.UtcNow), e =>
        {
            _state = _state.Apply(e);
            FerryMetrics.Persisted(_kind, _processId, e);
            _activeRun.End();
            Record(run, RunStatus.Failed, null, error);
            Finished(_state.LastFailure!);
            _log.For(_processId, run).Error("{0}: run {1} failed: {2}", _processId, run.RunId, error);
            SnapshotIfDue();
        });
    }

    private void SnapshotIfDue()
    {
        if (!_snapshots.Due(LastSequenceNr, _snapshotSequenceNr, _state.Active is not null)) return;
        SaveSnapshot(_state.ToSnapshot());
        _snapshotSequenceNr = LastSequenceNr;
    }

    private void Finished(RunSummary summary) => _services.RunFinishedListener.Tell(new ProcessRunFinished(_processId, summary));

    /// <summary>Writes the run's row in ferry.run_history, off this thread; a failure to write is logged, not fatal.</summary>
    private void Record(ActiveRun run, RunStatus status, Shared.Stg.MergeCounts? counts, string? error, Shared.Files.FileCopyCounts? files = null)
    {
        var record = new RunRecord(_processId, run.RunId, run.PipelineRunId, run.Mode, run.StartedAt, status, run.Step.ToString().ToLowerInvariant(),
            new Dictionary<string, double>(_stepSeconds), status == RunStatus.Running ? null : DateTimeOffset.UtcNow, run.RowsExtracted, _node,
            counts, error, files, run.CompleteReason);
        var log = _log;
        var id = _processId;
        var history = _services.History;
        // One write at a time, in event order, so a slow "running" row never lands after "succeeded".
        _historyWrites = _historyWrites.ContinueWith(_ => history.RecordAsync(record), TaskScheduler.Default).Unwrap()
            .ContinueWith(t => { if (t.IsFaulted) log.Warning("{0}: could not write run history: {1}", id, t.Exception?.GetBaseException().Message); },
                TaskScheduler.Default);
    }

    private ProcessStatus Status() => new(_processId, _state.Step, _state.Active?.RunId, _state.Active?.Mode, _state.Active?.StartedAt,
        _attempts, _lastError, _state.LastSuccess, _state.LastFailure, _node, _state.Active is null ? null : _progress);
}
