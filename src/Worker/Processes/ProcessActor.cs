using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using Akka.Pattern;
using Akka.Persistence;
using Ferry.Shared.Processes;
using Ferry.Worker.Stg;

namespace Ferry.Worker.Processes;

/// <summary>
/// One process, sharded across the workers and persistent. Its state machine depends on its kind: an
/// STG table goes Idle → Extracting → Loading → Merging → Idle, a BL transform Idle → Transforming → Idle,
/// a files process Idle → Listing → Copying → Idle. Every completed step is persisted as an event, so an entity
/// restarted on another worker resumes after its last completed step (an extracted run is loaded from its
/// files, not extracted again; a copy works from the run's listing and skips what it recorded). The steps run in a child under a backoff
/// supervisor (a transform's SQL error ends the run at once); the entity itself never blocks and keeps
/// answering status and cancel while they run.
/// </summary>
public sealed class ProcessActor : ReceivePersistentActor, IWithTimers
{
    public ITimerScheduler Timers { get; set; } = null!;

    public const string TypeName = "process";

    private readonly string _processId;
    private readonly ProcessServices _services;
    private readonly StepRetryPolicy _retry;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly string _node;
    private ProcessState _state;
    private IActorRef? _step;
    private int _attempts;
    private string? _lastError;
    private StepProgress? _progress;
    private readonly Dictionary<string, double> _stepSeconds = new();
    private Task _historyWrites = Task.CompletedTask;

    private sealed record StepGaveUp(string RunId, ProcessStep Step);

    public ProcessActor(string processId, ProcessServices services)
    {
        _processId = processId;
        _services = services;
        _state = ProcessState.Initial(ProcessKinds.Of(processId) ?? ProcessKind.Stg);
        _retry = StepRetryPolicy.From(Context.System.Settings.Config);
        _node = ((ExtendedActorSystem)Context.System).Provider.DefaultAddress.ToString();

        Recover<IProcessEvent>(e => _state = _state.Apply(e));
        Recover<RecoveryCompleted>(_ =>
        {
            if (_state.Active is { } run)
            {
                _log.Info("{0}: resuming run {1} at {2}", _processId, run.RunId, run.Step);
                StartStep();
            }
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
        Command<StepAttemptFailed>(f =>
        {
            if (f.RunId != _state.Active?.RunId) return;
            _attempts++;
            _lastError = f.Error;
            if (f.Permanent)
            {
                Fail(_state.Active, f.Error);
                return;
            }
            _log.Warning("{0}: {1} attempt {2} of {3} failed: {4}", _processId, f.Step, _attempts, _retry.MaxRetries + 1, f.Error);
        });
        Command<StepSucceeded>(OnStepSucceeded);
        Command<Terminated>(t =>
        {
            // The backoff supervisor stops once its child stopped for good: after success, or after the last retry.
            // The step's own last message may still be on its way, so decide a moment later.
            if (t.ActorRef.Equals(_step) && _state.Active is { } run)
            {
                _step = null;
                Timers.StartSingleTimer("gave-up", new StepGaveUp(run.RunId, run.Step), TimeSpan.FromMilliseconds(300));
            }
        });
        Command<StepGaveUp>(g =>
        {
            if (_step is null && _state.Active is { } run && run.RunId == g.RunId && run.Step == g.Step)
                Fail(run, _lastError ?? $"{g.Step.ToString().ToLowerInvariant()} stopped without a result");
        });
    }

    public override string PersistenceId => $"{TypeName}-{_processId}";

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
        Persist(new RunStarted(runId, start.Mode, start.KeySweep, DateTimeOffset.UtcNow, start.PipelineRunId), e =>
        {
            _state = _state.Apply(e);
            sender.Tell(new RunAccepted(_processId, runId));
            _stepSeconds.Clear();
            Record(_state.Active!, "running", null, null);
            StartStep();
        });
    }

    private void OnStepSucceeded(StepSucceeded done)
    {
        if (done.RunId != _state.Active?.RunId || done.Step != _state.Active.Step) return;
        _stepSeconds[done.Step.ToString().ToLowerInvariant()] = done.Event switch
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
            if (e is RunSucceeded ok)
            {
                Record(run, "succeeded", ok.Counts, null, ok.Files);
                Finished(_state.LastSuccess!);
                _log.Info("{0}: run {1} succeeded: {2}", _processId, ok.RunId, (object?)ok.Files ?? ok.Counts);
            }
            else if (e is RunFailed failed)
            {
                // A step that ends the run itself: a files run in which some files failed (the others are copied).
                Record(run, "failed", null, failed.Error, failed.Files);
                Finished(_state.LastFailure!);
                _log.Error("{0}: run {1} failed: {2}", _processId, failed.RunId, failed.Error);
            }
            else
            {
                Record(_state.Active!, "running", null, null);
                StartStep();
            }
        });
    }

    private void StartStep()
    {
        var run = _state.Active!;
        _attempts = 0;
        _lastError = null;
        _progress = null;
        if (_step is not null) { Context.Unwatch(_step); Context.Stop(_step); }
        var child = Props.Create(() => new StepActor(Self, _processId, run, _services));
        var options = Backoff.OnFailure(child, $"{run.Step.ToString().ToLowerInvariant()}", _retry.MinBackoff, _retry.MaxBackoff, 0.2, _retry.MaxRetries)
            .WithAutoReset(TimeSpan.FromDays(1));
        _step = Context.ActorOf(BackoffSupervisor.Props(options), $"step-{run.RunId}-{run.Step.ToString().ToLowerInvariant()}");
        Context.Watch(_step);
    }

    private void Fail(ActiveRun run, string error)
    {
        if (_step is not null) { Context.Unwatch(_step); Context.Stop(_step); _step = null; }
        if (_state.Active?.RunId != run.RunId) return;
        Persist(new RunFailed(run.RunId, error, DateTimeOffset.UtcNow), e =>
        {
            _state = _state.Apply(e);
            Record(run, "failed", null, error);
            Finished(_state.LastFailure!);
            _log.Error("{0}: run {1} failed: {2}", _processId, run.RunId, error);
        });
    }

    private void Finished(RunSummary summary) => _services.RunFinishedListener.Tell(new ProcessRunFinished(_processId, summary));

    /// <summary>Writes the run's row in ferry.run_history, off this thread; a failure to write is logged, not fatal.</summary>
    private void Record(ActiveRun run, string status, Shared.Stg.MergeCounts? counts, string? error, Shared.Files.FileCopyCounts? files = null)
    {
        var steps = new Dictionary<string, double>(_stepSeconds);
        var finished = status == "running" ? (DateTimeOffset?)null : DateTimeOffset.UtcNow;
        var log = _log;
        var id = _processId;
        var node = _node;
        var history = _services.History;
        // One write at a time, in event order, so a slow "running" row never lands after "succeeded".
        _historyWrites = _historyWrites.ContinueWith(_ => history.RecordAsync(id, run, status, run.Step.ToString().ToLowerInvariant(), steps, finished, counts, error, node, files),
                TaskScheduler.Default).Unwrap()
            .ContinueWith(t => { if (t.IsFaulted) log.Warning("{0}: could not write run history: {1}", id, t.Exception?.GetBaseException().Message); },
                TaskScheduler.Default);
    }

    private ProcessStatus Status() => new(_processId, _state.Step, _state.Active?.RunId, _state.Active?.Mode, _state.Active?.StartedAt,
        _attempts, _lastError, _state.LastSuccess, _state.LastFailure, _node, _state.Active is null ? null : _progress);
}
