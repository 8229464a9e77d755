using System.Security.Cryptography;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using Ferry.Shared.Bl;
using Ferry.Shared.Metadata;
using Ferry.Shared.Processes;

using ForeignKey = (Ferry.Shared.Metadata.QualifiedName Child, Ferry.Shared.Metadata.QualifiedName Parent, string Constraint);

namespace Ferry.Coordinator.Pipelines;

/// <summary>
/// Runs pipelines across the cluster: a persistent cluster singleton on the coordinator. A run is a
/// plan of groups in sequence; the processes of a group start together, each by a StartRun to its
/// entity through the process shard region, within a per-source limit.
///
/// Rules a data engineer can rely on:
/// <list type="bullet">
/// <item>Per source, at most <see cref="PgConnection.MaxConcurrentExtracts"/> processes run at once, over
/// every pipeline run. It counts whole process runs, not only their extracts: stricter than needed
/// (loading and merging touch only the target), but it is what the runner can see from outside. A
/// process found busy with a run the runner did not start holds a slot too: it loads the source all the same.</item>
/// <item>A process busy with another run is not an error: the runner waits and tries again. A process in
/// two active pipeline runs runs for one, then for the other.</item>
/// <item>RunTargets says the mode; a pipeline's own mode and key_sweep apply to its scheduled runs
/// (key_sweep also when the request leaves it unset).</item>
/// <item>A failed process does not stop the others of its group, and later groups still run, so the
/// rest of the data moves; the pipeline then ends Failed, naming the processes that failed.</item>
/// <item>A pipeline is never running twice at once: a second request is rejected with the active run's
/// id, and a scheduled start that finds it running is skipped.</item>
/// <item>Completion comes from the entities (<see cref="ProcessRunFinished"/>) and, because a message can
/// be lost while the singleton moves, from polling each running process's status every poll interval.</item>
/// <item>Every decision is an event; after a crash or a move the runner recovers and carries on,
/// starting only processes that never accepted a run and polling the rest.</item>
/// </list>
/// </summary>
public sealed class PipelineRunner : ReceivePersistentActor, IWithTimers
{
    public const string DefaultPersistenceId = "pipeline-runner";

    /// <summary>A snapshot every this many events bounds recovery to the snapshot plus fewer events.</summary>
    public const int SnapshotEvery = 100;

    public static readonly TimeSpan DefaultPollInterval = TimeSpan.FromSeconds(5);

    /// <summary>An entity may first have to recover on its worker before it answers.</summary>
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan StatusTimeout = TimeSpan.FromSeconds(10);

    public ITimerScheduler Timers { get; set; } = null!;

    private readonly MigrationMetadata _metadata;
    private readonly IActorRef _region;
    private readonly Func<DateTimeOffset> _clock;
    private readonly TimeSpan _pollInterval;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<string, string> _sourceOf;
    private readonly Dictionary<string, int> _limits;
    private readonly Dictionary<string, PipelineSchedule> _schedules;

    private PipelineRunnerState _state = PipelineRunnerState.Empty;

    /// <summary>
    /// What is under way for a Pending process of an active run (nothing persisted: after a restart every
    /// such process is Unchecked). Absent: ready to start.
    /// </summary>
    private enum Phase
    {
        /// <summary>A StartRun may have reached it before (an earlier runner, a lost reply): ask its status before starting.</summary>
        Unchecked,
        Checking,
        Starting,
        /// <summary>It is running another run; its status is checked again every poll.</summary>
        Busy,
    }

    private readonly Dictionary<(string Run, string Process), Phase> _phases = new();
    private readonly HashSet<(string Run, string Process)> _polling = new();
    private readonly HashSet<string> _finishing = new(StringComparer.Ordinal);

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }

    private sealed record StartReplied(string PipelineRunId, string ProcessId, object? Reply, string? Error);

    private sealed record StatusChecked(string PipelineRunId, string ProcessId, ProcessStatus? Status, string? Error);

    private sealed record StatusPolled(string PipelineRunId, string ProcessId, string RunId, ProcessStatus? Status, string? Error);

    private sealed record ScheduleDue(string Pipeline, DateTimeOffset Occurrence);

    /// <summary>The target's foreign keys arrived (or could not be read) for a run whose plan holds BL processes.</summary>
    private sealed record ForeignKeysRead(RunTargets? Request, ScheduleDue? Due, IActorRef? ReplyTo, IReadOnlyList<ForeignKey>? Keys, string? Error);

    /// <summary>Reads the target's foreign keys (child, parent, constraint) to order BL processes.</summary>
    public delegate Task<IReadOnlyList<ForeignKey>> ForeignKeyReader(CancellationToken ct);

    private static readonly TimeSpan ForeignKeyTimeout = TimeSpan.FromSeconds(30);

    private readonly ForeignKeyReader? _foreignKeys;

    /// <param name="metadata">The migration: its tables (process ids, sources), sources (limits) and pipelines.</param>
    /// <param name="processRegion">Where StartRun, GetProcessStatus and CancelRun go: the process shard region or its proxy.</param>
    /// <param name="clock">Now, in UTC; injectable so a test can drive the schedules.</param>
    /// <param name="pollInterval">How often running processes are polled, busy ones retried and schedules looked at (default 5 s).</param>
    /// <param name="foreignKeys">Reads the target's foreign keys when a run holds BL processes; null orders them by declared depends only.</param>
    public static Props Props(MigrationMetadata metadata, IActorRef processRegion, Func<DateTimeOffset>? clock = null, TimeSpan? pollInterval = null,
        ForeignKeyReader? foreignKeys = null)
    {
        var now = clock ?? (() => DateTimeOffset.UtcNow);
        var poll = pollInterval ?? DefaultPollInterval;
        return Akka.Actor.Props.Create(() => new PipelineRunner(metadata, processRegion, now, poll, foreignKeys));
    }

    public PipelineRunner(MigrationMetadata metadata, IActorRef processRegion, Func<DateTimeOffset> clock, TimeSpan pollInterval,
        ForeignKeyReader? foreignKeys = null)
    {
        _metadata = metadata;
        _foreignKeys = foreignKeys;
        _region = processRegion;
        _clock = clock;
        _pollInterval = pollInterval;
        _sourceOf = metadata.Tables.ToDictionary(t => t.ProcessId, t => t.Source, StringComparer.Ordinal);
        _limits = metadata.Sources.ToDictionary(s => s.Key, s => Math.Max(1, s.Value.MaxConcurrentExtracts), StringComparer.Ordinal);
        _schedules = PipelineSchedule.Of(metadata).ToDictionary(s => s.Pipeline.Name, StringComparer.Ordinal);

        Recover<SnapshotOffer>(o =>
        {
            if (o.Snapshot is PipelineRunnerState s) _state = s;
        });
        Recover<IPipelineEvent>(e => _state = _state.Apply(e));
        Recover<RecoveryCompleted>(_ => OnRecovered());

        Command<RunTargets>(OnRunTargets);
        Command<GetPipelineRun>(g => Sender.Tell(_state.Find(g.PipelineRunId)?.ToStatus() ?? (object)new PipelineRunNotFound(g.PipelineRunId)));
        Command<ListPipelineRuns>(l => Sender.Tell(new PipelineRunList(
            _state.Runs.Reverse().Take(Math.Clamp(l.Limit, 1, PipelineRunnerState.KeptRuns)).Select(r => r.ToStatus()).ToList())));
        Command<CancelPipelineRun>(OnCancel);
        Command<ProcessRunFinished>(OnProcessRunFinished);
        Command<StartReplied>(OnStartReplied);
        Command<StatusChecked>(OnStatusChecked);
        Command<StatusPolled>(OnStatusPolled);
        Command<Tick>(_ => OnTick());
        Command<ScheduleDue>(OnScheduleDue);
        Command<ForeignKeysRead>(OnForeignKeysRead);
        Command<CancelAccepted>(_ => { });
        Command<SaveSnapshotSuccess>(s => DeleteSnapshots(new SnapshotSelectionCriteria(s.Metadata.SequenceNr - 1)));
        Command<SaveSnapshotFailure>(f => _log.Warning("pipeline runner: snapshot at {0} failed (recovery replays more events): {1}", f.Metadata.SequenceNr, f.Cause.Message));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(f => _log.Warning("pipeline runner: could not delete old snapshots: {0}", f.Cause.Message));
    }

    public override string PersistenceId => DefaultPersistenceId;

    private DateTimeOffset Now() => _clock().ToUniversalTime();

    private void Save(IPipelineEvent e, Action then)
    {
        Persist(e, ev =>
        {
            _state = _state.Apply(ev);
            if (LastSequenceNr % SnapshotEvery == 0) SaveSnapshot(_state);
            then();
        });
    }

    private void OnRecovered()
    {
        var active = _state.Active.ToList();
        foreach (var run in active)
        {
            // The crashed runner may have sent StartRun to these before it could record the answer.
            var g = run.CurrentGroup();
            if (g >= run.Groups.Count) continue;
            foreach (var pid in run.Groups[g].Where(p => run.Processes[p].State == ProcessRunState.Pending))
                _phases[(run.PipelineRunId, pid)] = Phase.Unchecked;
        }
        if (active.Count > 0)
            _log.Info("pipeline runner: recovered {0} running pipeline run(s): {1}", active.Count, string.Join(", ", active.Select(r => $"{r.Name} ({r.PipelineRunId})")));
        Timers.StartPeriodicTimer("tick", Tick.Instance, _pollInterval);
        ArmSchedules();
        CheckWaiting();
        PollRunning();
        Advance();
    }

    // ---- Starting pipeline runs ------------------------------------------------------------------

    private void OnRunTargets(RunTargets request)
    {
        PipelinePlan plan;
        try
        {
            plan = PipelinePlan.Resolve(_metadata, request.Targets);
        }
        catch (ArgumentException e)
        {
            Sender.Tell(new PipelineRunRejected(e.Message));
            return;
        }
        if (NeedsForeignKeys(plan))
        {
            ReadForeignKeys(request, null, Sender);
            return;
        }
        StartRequested(request, plan, Sender);
    }

    private bool NeedsForeignKeys(PipelinePlan plan) => _foreignKeys is not null && plan.HasTransforms(_metadata);

    /// <summary>Reads the target's foreign keys off the actor's thread; the answer comes back as <see cref="ForeignKeysRead"/>.</summary>
    private void ReadForeignKeys(RunTargets? request, ScheduleDue? due, IActorRef? replyTo)
    {
        var read = _foreignKeys!;
        async Task<ForeignKeysRead> ReadAsync()
        {
            using var cts = new CancellationTokenSource(ForeignKeyTimeout);
            try
            {
                return new ForeignKeysRead(request, due, replyTo, await read(cts.Token), null);
            }
            catch (Exception e)
            {
                return new ForeignKeysRead(request, due, replyTo, null, e is OperationCanceledException ? $"no answer within {ForeignKeyTimeout.TotalSeconds:0} s" : e.Message);
            }
        }
        ReadAsync().PipeTo(Self);
    }

    private void OnForeignKeysRead(ForeignKeysRead read)
    {
        var what = read.Request is { } r ? string.Join(" ", r.Targets) : read.Due!.Pipeline;
        PipelinePlan plan;
        try
        {
            if (read.Error is not null)
                throw new ArgumentException($"cannot order the business layer: the target's foreign keys could not be read: {read.Error}");
            plan = PipelinePlan.Resolve(_metadata, read.Request?.Targets ?? [read.Due!.Pipeline], read.Keys);
        }
        catch (ArgumentException e)
        {
            if (read.Request is not null) read.ReplyTo?.Tell(new PipelineRunRejected(e.Message));
            else _log.Error("pipeline {0}: scheduled start at {1:u} failed: {2}", what, read.Due!.Occurrence, e.Message);
            return;
        }
        if (read.Request is { } request) StartRequested(request, plan, read.ReplyTo!);
        else StartScheduled(read.Due!, plan);
    }

    private void StartRequested(RunTargets request, PipelinePlan plan, IActorRef replyTo)
    {
        if (_state.ActiveNamed(plan.Name) is { } active)
        {
            replyTo.Tell(new PipelineRunRejected($"{plan.Name} is already running as {active.PipelineRunId} (started {active.StartedAt:yyyy-MM-dd HH:mm:ss}Z)",
                active.PipelineRunId));
            return;
        }
        StartPipeline(plan, request.Mode, request.KeySweep ?? plan.Pipeline?.KeySweep, request.RequestedBy, null, replyTo);
    }

    private void StartPipeline(PipelinePlan plan, Ferry.Shared.Stg.RunMode mode, bool? keySweep, string requestedBy, DateTimeOffset? scheduledFor, IActorRef? replyTo)
    {
        var now = Now();
        var id = $"pl-{now.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}-{Convert.ToHexString(RandomNumberGenerator.GetBytes(3)).ToLowerInvariant()}";
        Save(new PipelineRunStarted(id, plan.Name, mode, keySweep, plan.Groups, requestedBy, now, scheduledFor), () =>
        {
            _log.Info("pipeline {0} ({1}): started by {2}, {3} group(s), {4} process(es), {5}", plan.Name, id, requestedBy, plan.Groups.Count,
                plan.Groups.Sum(g => g.Count), mode.ToString().ToLowerInvariant());
            replyTo?.Tell(new PipelineRunAccepted(id, plan.Name, plan.Groups));
            Advance();
        });
    }

    // ---- Moving runs forward ---------------------------------------------------------------------

    /// <summary>
    /// Starts whatever may start now, oldest pipeline run first, and finishes runs whose every process
    /// finished. Called after anything that can free a slot or finish a group.
    /// </summary>
    private void Advance()
    {
        var occupied = Occupied();
        foreach (var run in _state.Active.ToList())
        {
            if (_finishing.Contains(run.PipelineRunId)) continue;
            var g = run.CurrentGroup();
            if (g >= run.Groups.Count)
            {
                Finish(run);
                continue;
            }
            foreach (var pid in run.Groups[g])
            {
                if (run.Processes[pid].State != ProcessRunState.Pending || _phases.ContainsKey((run.PipelineRunId, pid))) continue;
                if (RunningElsewhere(run.PipelineRunId, pid)) continue;
                if (_sourceOf.TryGetValue(pid, out var source) && _limits.TryGetValue(source, out var limit))
                {
                    var busy = occupied.TryGetValue(source, out var set) ? set : occupied[source] = new HashSet<string>(StringComparer.Ordinal);
                    if (busy.Count(p => p != pid) >= limit) continue;
                    busy.Add(pid);
                }
                SendStart(run, pid);
            }
        }
    }

    /// <summary>
    /// Per source, the processes that hold one of its slots: running in an active pipeline run, being
    /// started, or busy with another run (it runs against the source all the same). A process counts once.
    /// </summary>
    private Dictionary<string, HashSet<string>> Occupied()
    {
        var occupied = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        void Add(string pid)
        {
            if (!_sourceOf.TryGetValue(pid, out var source)) return;
            if (!occupied.TryGetValue(source, out var set)) occupied[source] = set = new HashSet<string>(StringComparer.Ordinal);
            set.Add(pid);
        }
        foreach (var run in _state.Active)
            foreach (var p in run.Processes.Values)
                if (p.State == ProcessRunState.Running) Add(p.ProcessId);
        foreach (var ((_, pid), phase) in _phases)
            if (phase is Phase.Starting or Phase.Busy or Phase.Checking) Add(pid);
        return occupied;
    }

    /// <summary>Another active pipeline run is running or starting this process: starting it here would only be rejected.</summary>
    private bool RunningElsewhere(string pipelineRunId, string pid) =>
        _state.Active.Any(r => r.PipelineRunId != pipelineRunId && r.Processes.TryGetValue(pid, out var p) && p.State == ProcessRunState.Running)
        || _phases.Any(kv => kv.Key.Process == pid && kv.Key.Run != pipelineRunId && kv.Value == Phase.Starting);

    private void SendStart(PipelineRun run, string pid)
    {
        var id = run.PipelineRunId;
        _phases[(id, pid)] = Phase.Starting;
        _region.Ask<object>(new StartRun(pid, run.Mode, run.KeySweep, id), StartTimeout)
            .PipeTo(Self, success: reply => new StartReplied(id, pid, reply, null), failure: e => new StartReplied(id, pid, null, e.GetBaseException().Message));
    }

    private void OnStartReplied(StartReplied m)
    {
        var key = (m.PipelineRunId, m.ProcessId);
        var run = _state.Find(m.PipelineRunId);
        var process = run?.Processes.GetValueOrDefault(m.ProcessId);
        switch (m.Reply)
        {
            case RunAccepted accepted:
                _phases.Remove(key);
                if (run is null || process is null || process.State != ProcessRunState.Pending)
                {
                    _log.Warning("{0}: run {1} accepted for pipeline run {2}, which no longer waits for it", m.ProcessId, accepted.RunId, m.PipelineRunId);
                    return;
                }
                Save(new ProcessRunStartedInPipeline(run.PipelineRunId, m.ProcessId, accepted.RunId, Now()), () =>
                {
                    _log.Info("{0}: run {1} started for pipeline {2} ({3})", m.ProcessId, accepted.RunId, run.Name, run.PipelineRunId);
                    // Cancelled while the StartRun was on its way: it is recorded, then stopped.
                    if (_state.Find(run.PipelineRunId)?.IsActive != true) _region.Tell(new CancelRun(m.ProcessId), Self);
                });
                return;
            case RunRejected { ActiveRunId: { } other } busy when run?.IsActive == true:
                _phases[key] = Phase.Busy;
                _log.Info("{0}: busy with run {1} ({2}); pipeline {3} waits for it", m.ProcessId, other, busy.Reason, run.PipelineRunId);
                return;
            case RunRejected rejected when run?.IsActive == true && process?.State == ProcessRunState.Pending:
                _phases.Remove(key);
                FinishProcess(run, m.ProcessId, false, null, $"{m.ProcessId}: not started: {rejected.Reason}");
                return;
            case null when run?.IsActive == true && process?.State == ProcessRunState.Pending:
                _phases[key] = Phase.Unchecked;
                _log.Warning("{0}: no answer to StartRun for pipeline run {1} ({2}); its status is checked before trying again", m.ProcessId, m.PipelineRunId, m.Error);
                return;
            default:
                _phases.Remove(key);
                return;
        }
    }

    // ---- Completion: reports from the entities, and polling ---------------------------------------

    private void OnProcessRunFinished(ProcessRunFinished m)
    {
        var summary = m.Run;
        var pid = m.ProcessId;
        var tracked = _state.Runs.FirstOrDefault(r => r.Processes.TryGetValue(pid, out var p) && p.State == ProcessRunState.Running && p.RunId == summary.RunId);
        if (tracked is not null)
        {
            FinishProcess(tracked, pid, summary.Succeeded, summary, summary.Error);
            return;
        }
        // A run this pipeline run started but never heard accepted (the runner moved, a reply was lost).
        if (summary.PipelineRunId is { } prid && _state.Find(prid) is { IsActive: true } mine
            && mine.Processes.TryGetValue(pid, out var pending) && pending.State == ProcessRunState.Pending
            && _phases.GetValueOrDefault((prid, pid), Phase.Unchecked) != Phase.Starting)
        {
            _phases.Remove((prid, pid));
            _log.Info("{0}: run {1} was started for pipeline run {2} before the runner could record it; taking its result", pid, summary.RunId, prid);
            FinishProcess(mine, pid, summary.Succeeded, summary, summary.Error);
            return;
        }
        // Someone else's run ended: whoever waited for this process may try now.
        var waiting = _phases.Where(kv => kv.Key.Process == pid && kv.Value == Phase.Busy).Select(kv => kv.Key).ToList();
        foreach (var key in waiting) _phases[key] = Phase.Unchecked;
        if (waiting.Count > 0) CheckWaiting();
    }

    private void FinishProcess(PipelineRun run, string pid, bool succeeded, Ferry.Shared.Processes.RunSummary? summary, string? error)
    {
        Save(new ProcessFinishedInPipeline(run.PipelineRunId, pid, succeeded, summary, succeeded ? null : error ?? "failed", Now()), () =>
        {
            if (succeeded) _log.Info("{0}: finished in pipeline {1} ({2})", pid, run.Name, run.PipelineRunId);
            else _log.Warning("{0}: failed in pipeline {1} ({2}): {3}", pid, run.Name, run.PipelineRunId, error);
            Advance();
        });
    }

    private void Finish(PipelineRun run)
    {
        _finishing.Add(run.PipelineRunId);
        var failed = run.InPlanOrder().Where(p => p.State == ProcessRunState.Failed).Select(p => p.ProcessId).ToList();
        var state = failed.Count == 0 ? PipelineRunState.Succeeded : PipelineRunState.Failed;
        var reason = failed.Count == 0 ? null
            : $"{failed.Count} of {run.Processes.Count} processes failed: {string.Join(", ", failed.Take(10))}{(failed.Count > 10 ? ", …" : "")}";
        Save(new PipelineRunFinished(run.PipelineRunId, state, reason, Now()), () =>
        {
            _finishing.Remove(run.PipelineRunId);
            Forget(run.PipelineRunId);
            if (failed.Count == 0) _log.Info("pipeline {0} ({1}): succeeded", run.Name, run.PipelineRunId);
            else _log.Warning("pipeline {0} ({1}): failed: {2}", run.Name, run.PipelineRunId, reason);
        });
    }

    private void Forget(string pipelineRunId)
    {
        foreach (var key in _phases.Keys.Where(k => k.Run == pipelineRunId).ToList()) _phases.Remove(key);
    }

    private void OnTick()
    {
        CheckWaiting();
        PollRunning();
        Advance();
    }

    /// <summary>Asks the status of processes that are busy elsewhere or may have been sent a StartRun already.</summary>
    private void CheckWaiting()
    {
        foreach (var (key, phase) in _phases.ToList())
        {
            if (phase is not (Phase.Unchecked or Phase.Busy)) continue;
            _phases[key] = Phase.Checking;
            var (id, pid) = key;
            _region.Ask<ProcessStatus>(new GetProcessStatus(pid), StatusTimeout)
                .PipeTo(Self, success: s => new StatusChecked(id, pid, s, null), failure: e => new StatusChecked(id, pid, null, e.GetBaseException().Message));
        }
    }

    private void OnStatusChecked(StatusChecked m)
    {
        var key = (m.PipelineRunId, m.ProcessId);
        if (_phases.GetValueOrDefault(key, Phase.Starting) != Phase.Checking) return;
        var run = _state.Find(m.PipelineRunId);
        if (run is not { IsActive: true } || run.Processes[m.ProcessId].State != ProcessRunState.Pending)
        {
            _phases.Remove(key);
            return;
        }
        if (m.Status is not { } status)
        {
            _phases[key] = Phase.Unchecked;
            _log.Warning("{0}: no status ({1}); asking again in {2}", m.ProcessId, m.Error, _pollInterval);
            return;
        }
        if (LatestRunOf(status, m.PipelineRunId) is { } adopted)
        {
            // The StartRun of an earlier runner (or one whose answer was lost) did start it, and it already ended.
            _phases.Remove(key);
            _log.Info("{0}: run {1} was started for pipeline run {2} before the runner could record it; taking its result", m.ProcessId, adopted.RunId, m.PipelineRunId);
            FinishProcess(run, m.ProcessId, adopted.Succeeded, adopted, adopted.Error);
            return;
        }
        if (status.ActiveRunId is not null)
        {
            _phases[key] = Phase.Busy;
            return;
        }
        _phases.Remove(key);
        Advance();
    }

    private static Ferry.Shared.Processes.RunSummary? LatestRunOf(ProcessStatus status, string pipelineRunId) =>
        new[] { status.LastSuccess, status.LastFailure }
            .Where(s => s?.PipelineRunId == pipelineRunId)
            .OrderByDescending(s => s!.FinishedAt)
            .FirstOrDefault();

    /// <summary>Asks each running process how its run stands: a finished run whose report was lost is found here.</summary>
    private void PollRunning()
    {
        foreach (var run in _state.Runs.Where(r => r.IsActive || r.State == PipelineRunState.Cancelled))
        {
            foreach (var p in run.Processes.Values)
            {
                if (p.State != ProcessRunState.Running || p.RunId is not { } runId) continue;
                var key = (run.PipelineRunId, p.ProcessId);
                if (!_polling.Add(key)) continue;
                var (id, pid) = key;
                _region.Ask<ProcessStatus>(new GetProcessStatus(pid), StatusTimeout)
                    .PipeTo(Self, success: s => new StatusPolled(id, pid, runId, s, null), failure: e => new StatusPolled(id, pid, runId, null, e.GetBaseException().Message));
            }
        }
    }

    private void OnStatusPolled(StatusPolled m)
    {
        _polling.Remove((m.PipelineRunId, m.ProcessId));
        var run = _state.Find(m.PipelineRunId);
        if (run is null || !run.Processes.TryGetValue(m.ProcessId, out var p) || p.State != ProcessRunState.Running || p.RunId != m.RunId) return;
        if (m.Status is not { } status)
        {
            _log.Debug("{0}: no status ({1}); polling again", m.ProcessId, m.Error);
            return;
        }
        if (status.LastSuccess?.RunId == m.RunId)
            FinishProcess(run, m.ProcessId, true, status.LastSuccess, null);
        else if (status.LastFailure?.RunId == m.RunId)
            FinishProcess(run, m.ProcessId, false, status.LastFailure, status.LastFailure.Error);
        else if (status.ActiveRunId != m.RunId)
            // The entity persists a run before accepting it, so a run it neither runs nor remembers has
            // ended and a later run has replaced its summary.
            FinishProcess(run, m.ProcessId, false, null,
                $"{m.ProcessId}: run {m.RunId} ended but its outcome was replaced by a later run (see the run history)");
    }

    // ---- Cancel ----------------------------------------------------------------------------------

    private void OnCancel(CancelPipelineRun m)
    {
        var run = _state.Find(m.PipelineRunId);
        if (run is null)
        {
            Sender.Tell(new PipelineRunNotFound(m.PipelineRunId));
            return;
        }
        if (!run.IsActive)
        {
            Sender.Tell(run.ToStatus());
            return;
        }
        var replyTo = Sender;
        Save(new PipelineRunFinished(run.PipelineRunId, PipelineRunState.Cancelled, "cancelled by request", Now()), () =>
        {
            Forget(run.PipelineRunId);
            var running = run.Processes.Values.Where(p => p.State == ProcessRunState.Running).Select(p => p.ProcessId).ToList();
            foreach (var pid in running) _region.Tell(new CancelRun(pid), Self);
            _log.Warning("pipeline {0} ({1}): cancelled; {2} running process(es) told to stop", run.Name, run.PipelineRunId, running.Count);
            replyTo.Tell(_state.Find(run.PipelineRunId)!.ToStatus());
            Advance();
        });
    }

    // ---- Schedules -------------------------------------------------------------------------------

    private void ArmSchedules()
    {
        var now = Now();
        foreach (var (name, schedule) in _schedules)
        {
            if (_state.LastScheduled.TryGetValue(name, out var last) && schedule.Missed(last, now) is { } missed)
            {
                _log.Warning("pipeline {0}: its scheduled start at {1:u} was missed while no runner was up; starting it now", name, missed);
                Self.Tell(new ScheduleDue(name, missed));
            }
            Arm(schedule, now);
        }
    }

    private void Arm(PipelineSchedule schedule, DateTimeOffset after)
    {
        if (schedule.Next(after) is not { } next) return;
        Arm(schedule.Pipeline.Name, next);
    }

    /// <summary>The timer wakes at the occurrence or after one poll interval, whichever is first, and looks at the clock again.</summary>
    private void Arm(string pipeline, DateTimeOffset occurrence)
    {
        var wait = occurrence - Now();
        if (wait < TimeSpan.Zero) wait = TimeSpan.Zero;
        if (wait > _pollInterval) wait = _pollInterval;
        Timers.StartSingleTimer($"schedule:{pipeline}", new ScheduleDue(pipeline, occurrence), wait);
    }

    private void OnScheduleDue(ScheduleDue due)
    {
        if (!_schedules.TryGetValue(due.Pipeline, out var schedule)) return;
        var now = Now();
        if (now < due.Occurrence)
        {
            Arm(due.Pipeline, due.Occurrence);
            return;
        }
        Arm(schedule, now > due.Occurrence ? now : due.Occurrence);
        if (_state.LastScheduled.TryGetValue(due.Pipeline, out var last) && last >= due.Occurrence) return;

        PipelinePlan plan;
        try
        {
            plan = PipelinePlan.Resolve(_metadata, [due.Pipeline]);
        }
        catch (ArgumentException e)
        {
            _log.Error("pipeline {0}: scheduled start at {1:u} failed: {2}", due.Pipeline, due.Occurrence, e.Message);
            return;
        }
        if (NeedsForeignKeys(plan)) ReadForeignKeys(null, due, null);
        else StartScheduled(due, plan);
    }

    private void StartScheduled(ScheduleDue due, PipelinePlan plan)
    {
        if (_state.LastScheduled.TryGetValue(due.Pipeline, out var last) && last >= due.Occurrence) return;
        if (_state.ActiveNamed(due.Pipeline) is { } active)
        {
            _log.Warning("pipeline {0}: scheduled start at {1:u} skipped: still running as {2} (started {3:u})", due.Pipeline, due.Occurrence,
                active.PipelineRunId, active.StartedAt);
            Save(new ScheduledRunSkipped(due.Pipeline, due.Occurrence, active.PipelineRunId, Now()), () => { });
            return;
        }
        var definition = _schedules[due.Pipeline].Pipeline;
        StartPipeline(plan, definition.Mode, definition.KeySweep, "schedule", due.Occurrence, null);
    }
}
