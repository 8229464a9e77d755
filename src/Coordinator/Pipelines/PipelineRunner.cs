using Ferry.Shared.Metrics;
using System.Security.Cryptography;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using Ferry.Shared.Metadata;
using Ferry.Shared.Processes;

using ForeignKey = (Ferry.Shared.Metadata.QualifiedName Child, Ferry.Shared.Metadata.QualifiedName Parent, string Constraint);

namespace Ferry.Coordinator.Pipelines;

/// <summary>
/// Runs pipelines across the cluster: a persistent cluster singleton on the coordinator. A run is a
/// plan of stages in sequence; the processes of a stage start together, each by a StartRun to its
/// entity through the process shard region, within a per-source limit.
///
/// Rules a data engineer can rely on:
/// <list type="bullet">
/// <item>Per source, at most <see cref="PgConnection.MaxConcurrentExtracts"/> processes run at once, over
/// every pipeline run (<see cref="SlotPlanner"/>).</item>
/// <item>A process busy with another run is not an error: the runner waits and tries again. A process in
/// two active pipeline runs runs for one, then for the other.</item>
/// <item>RunTargets says the mode; a pipeline's own mode and key_sweep apply to its scheduled runs
/// (key_sweep also when the request leaves it unset) (<see cref="RunAdmission"/>).</item>
/// <item>A failed process does not stop the others of its stage, and later stages still run, so the
/// rest of the data moves; the pipeline then ends Failed, naming the processes that failed. Only the BL
/// processes downstream of a failed BL process are skipped (they would fail on its foreign keys); they
/// run again in the next run.</item>
/// <item>A pipeline is never running twice at once: a second request is rejected with the active run's
/// id, and a scheduled start that finds it running is skipped.</item>
/// <item>Completion comes from the entities (<see cref="ProcessRunFinished"/>) and, because a message can
/// be lost while the singleton moves, from polling each running process's status every poll interval.</item>
/// <item>Every decision is an event; after a crash or a move the runner recovers and carries on,
/// starting only processes that never accepted a run and polling the rest.</item>
/// </list>
/// Which run starts is decided by <see cref="RunAdmission"/>, which process may start by <see cref="SlotPlanner"/>,
/// when a schedule is due by <see cref="ScheduleClock"/>, what a process's status says by <see cref="RunOutcome"/>;
/// the actor persists, sends and keeps the timers.
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
    private static readonly TimeSpan ForeignKeyTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Reads the target's foreign keys (child, parent, constraint) to order BL processes.</summary>
    public delegate Task<IReadOnlyList<ForeignKey>> ForeignKeyReader(CancellationToken ct);

    public ITimerScheduler Timers { get; set; } = null!;

    private readonly IActorRef _region;
    private readonly Func<DateTimeOffset> _clock;
    private readonly TimeSpan _pollInterval;
    private readonly ForeignKeyReader? _foreignKeys;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly SlotPlanner _slots;
    private readonly ScheduleClock _schedules;
    private readonly RunAdmission _admission;

    private PipelineRunnerState _state = PipelineRunnerState.Empty;
    private StartPhases _phases = StartPhases.None;
    /// <summary>Running processes whose status was asked and not answered yet (one question at a time each).</summary>
    private readonly HashSet<ProcessInRun> _polling = new();
    /// <summary>Runs whose end is being persisted: not finished twice.</summary>
    private readonly HashSet<string> _finishing = new(StringComparer.Ordinal);
    /// <summary>Processes whose skip is being persisted: not skipped twice.</summary>
    private readonly HashSet<ProcessInRun> _skipping = new();

    private sealed record Tick
    {
        public static readonly Tick Instance = new();
    }

    private sealed record StartReplied(ProcessInRun Process, object? Reply, string? Error);

    private sealed record StatusChecked(ProcessInRun Process, ProcessStatus? Status, string? Error);

    private sealed record StatusPolled(ProcessInRun Process, string RunId, ProcessStatus? Status, string? Error);

    /// <param name="metadata">The migration: its tables (process ids, sources), sources (limits) and pipelines.</param>
    /// <param name="processRegion">Where StartRun, GetProcessStatus and CancelRun go: the process shard region or its proxy.</param>
    /// <param name="clock">Now, in UTC; injectable so a test can drive the schedules.</param>
    /// <param name="pollInterval">How often running processes are polled, busy ones retried and schedules looked at (default 5 s).</param>
    /// <param name="foreignKeys">Reads the target's foreign keys when a run holds BL processes; null orders them by declared depends only.</param>
    public static Props Create(MigrationMetadata metadata, IActorRef processRegion, Func<DateTimeOffset>? clock = null, TimeSpan? pollInterval = null,
        ForeignKeyReader? foreignKeys = null)
    {
        var now = clock ?? (() => DateTimeOffset.UtcNow);
        var poll = pollInterval ?? DefaultPollInterval;
        return Props.Create(() => new PipelineRunner(metadata, processRegion, now, poll, foreignKeys));
    }

    public PipelineRunner(MigrationMetadata metadata, IActorRef processRegion, Func<DateTimeOffset> clock, TimeSpan pollInterval,
        ForeignKeyReader? foreignKeys = null)
    {
        _foreignKeys = foreignKeys;
        _region = processRegion;
        _clock = clock;
        _pollInterval = pollInterval;
        _slots = SlotPlanner.Of(metadata);
        _schedules = ScheduleClock.Of(metadata, pollInterval);
        _admission = new RunAdmission(metadata, _schedules, foreignKeys is not null);

        Recover<SnapshotOffer>(o =>
        {
            if (o.Snapshot is PipelineRunnerState s) _state = s;
        });
        Recover<IPipelineEvent>(e => _state = _state.Apply(e));
        Recover<RecoveryCompleted>(_ => OnRecovered());

        Command<RunTargets>(r => Request(new PipelineRunRequest.Requested(r, Sender)));
        Command<GetPipelineRun>(g => Sender.Tell(_state.Find(g.PipelineRunId)?.ToStatus() ?? (object)new PipelineRunNotFound(g.PipelineRunId)));
        Command<ListPipelineRuns>(l => Sender.Tell(new PipelineRunList(
            _state.Runs.Reverse().Take(Math.Clamp(l.Limit, 1, PipelineRunnerState.KeptRuns)).Select(r => r.ToStatus()).ToList())));
        Command<CancelPipelineRun>(OnCancel);
        Command<CancelAccepted>(a => _log.Info("{0}: told to stop{1}", a.ProcessId, a.RunId is { } run ? $" run {run}" : " (it was running nothing)"));
        Command<ProcessRunFinished>(m => Take(StartHandshake.Finished(_phases, _state, m.ProcessId, m.Run)));
        Command<StartReplied>(m => Take(StartHandshake.Replied(_phases, _state, m.Process, m.Reply, m.Error)));
        Command<StatusChecked>(m => Take(StartHandshake.Checked(_phases, _state, m.Process, m.Status, m.Error)));
        Command<StatusPolled>(OnStatusPolled);
        Command<Tick>(_ => OnTick());
        Command<ScheduledStart>(OnScheduleWake);
        Command<ForeignKeysRead>(read => Request(read.Request, read));
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

    /// <summary>The answer, or why none came, comes back to the runner as the message <paramref name="answered"/> makes.</summary>
    private void AskRegion<T>(object message, TimeSpan timeout, Func<T?, string?, object> answered) where T : class =>
        _region.Ask<T>(message, timeout).PipeTo(Self, success: r => answered(r, null), failure: e => answered(null, e.GetBaseException().Message));

    private void OnRecovered()
    {
        var active = _state.Active.ToList();
        _phases = StartPhases.Recovered(_state);
        if (active.Count > 0)
            _log.Info("pipeline runner: recovered {0} running pipeline run(s): {1}", active.Count, string.Join(", ", active.Select(r => $"{r.Name} ({r.PipelineRunId})")));
        Timers.StartPeriodicTimer("tick", Tick.Instance, _pollInterval);
        var (missed, wakes) = _schedules.AtStart(_state.LastScheduled, Now());
        foreach (var m in missed)
        {
            _log.Warning("pipeline {0}: its scheduled start at {1:u} was missed while no runner was up; starting it now", m.Pipeline, m.Occurrence);
            Self.Tell(m);
        }
        foreach (var wake in wakes) Arm(wake);
        OnTick();
    }

    private void OnTick()
    {
        CheckWaiting();
        PollRunning();
        Advance();
    }

    // ---- Starting pipeline runs ------------------------------------------------------------------

    /// <summary>Starts, rejects or skips the run as <see cref="RunAdmission"/> says, first reading the target's foreign keys if it asks for them.</summary>
    private void Request(PipelineRunRequest request, ForeignKeysRead? read = null)
    {
        var replyTo = (request as PipelineRunRequest.Requested)?.ReplyTo;
        var due = (request as PipelineRunRequest.Scheduled)?.Start;
        switch (_admission.Admit(request, _state, read))
        {
            case Admission.NeedsForeignKeys:
                // Read off the actor's thread; the answer comes back as ForeignKeysRead.
                RunAdmission.ReadForeignKeysAsync(request, ct => _foreignKeys!(ct), ForeignKeyTimeout).PipeTo(Self);
                return;
            case Admission.Rejected no:
                replyTo?.Tell(new PipelineRunRejected(no.Reason, no.ActivePipelineRunId));
                if (due is not null) _log.Error("pipeline {0}: scheduled start at {1:u} failed: {2}", due.Pipeline, due.Occurrence, no.Reason);
                return;
            case Admission.Skipped { Active: var active }:
                _log.Warning("pipeline {0}: scheduled start at {1:u} skipped: still running as {2} (started {3:u})", due!.Pipeline, due.Occurrence,
                    active.PipelineRunId, active.StartedAt);
                Save(new ScheduledRunSkipped(due.Pipeline, due.Occurrence, active.PipelineRunId, Now()), () => { });
                return;
            case Admission.Start start:
                StartPipeline(start, replyTo);
                return;
        }
    }

    private void StartPipeline(Admission.Start start, IActorRef? replyTo)
    {
        var (plan, now) = (start.Plan, Now());
        var id = $"pl-{now.UtcDateTime:yyyyMMdd'T'HHmmss'Z'}-{Convert.ToHexString(RandomNumberGenerator.GetBytes(3)).ToLowerInvariant()}";
        Save(new PipelineRunStarted(id, plan.Name, start.Mode, start.KeySweep, plan.Stages, start.RequestedBy, now, start.ScheduledFor, plan.Upstream, start.MaxAge), () =>
        {
            _log.Info("pipeline {0} ({1}): started by {2}, {3} stage(s), {4} process(es), {5}", plan.Name, id, start.RequestedBy, plan.Stages.Count,
                plan.Stages.Sum(s => s.Count), start.Mode.ToString().ToLowerInvariant());
            replyTo?.Tell(new PipelineRunAccepted(id, plan.Name, plan.Stages));
            if (start.ScheduledFor is { } due) FerryMetrics.ScheduledStart(plan.Name, now - due);
            Advance();
        });
    }

    // ---- Moving runs forward ---------------------------------------------------------------------

    /// <summary>
    /// Starts what may start now, skips what may not run, and finishes runs whose every process finished;
    /// called after anything that can free a slot or end a stage.
    /// </summary>
    private void Advance()
    {
        var plan = _slots.Next(_state, _phases);
        foreach (var id in plan.Complete)
            if (_finishing.Add(id)) Finish(_state.Find(id)!);
        foreach (var skip in plan.Skip)
            if (_skipping.Add(skip.Process)) Skip(skip);
        foreach (var process in plan.Start)
        {
            var run = _state.Find(process.PipelineRunId)!;
            _phases = _phases.With(process, StartPhase.Starting);
            AskRegion<object>(new StartRun(process.ProcessId, run.Mode, run.KeySweep, run.PipelineRunId, run.MaxAge), StartTimeout, (reply, error) => new StartReplied(process, reply, error));
        }
        foreach (var (source, inUse, limit) in _slots.Slots(_state, _phases)) FerryMetrics.SourceSlots(source, inUse, limit);
    }

    /// <summary>Takes the step <see cref="StartHandshake"/> decided on.</summary>
    private void Take(StartNext next)
    {
        _phases = next.Phases;
        switch (next.Step)
        {
            case StartStep.Note { Warning: true } n:
                _log.Warning("{0}", n.Text);
                return;
            case StartStep.Note n:
                _log.Info("{0}", n.Text);
                return;
            case StartStep.Record { Process: var (prid, pid), RunId: var runId }:
                Save(new ProcessRunStartedInPipeline(prid, pid, runId, Now()), () =>
                {
                    var run = _state.Find(prid);
                    _log.Info("{0}: run {1} started for pipeline {2} ({3})", pid, runId, run?.Name, prid);
                    // Cancelled while the StartRun was on its way: it is recorded, then stopped.
                    if (run?.IsActive != true) _region.Tell(new CancelRun(pid), Self);
                });
                return;
            case StartStep.Finish f:
                if (f.Why is { } why) _log.Info("{0}", why);
                FinishProcess(_state.Find(f.Process.PipelineRunId)!, f.Process.ProcessId, f.Succeeded, f.Run, f.Error);
                return;
            case StartStep.Advance:
                Advance();
                return;
            case StartStep.Check:
                CheckWaiting();
                return;
        }
    }

    // ---- Completion: reports from the entities, and polling ---------------------------------------

    private void FinishProcess(PipelineRun run, string pid, bool succeeded, RunSummary? summary, string? error)
    {
        Save(new ProcessFinishedInPipeline(run.PipelineRunId, pid, succeeded, summary, succeeded ? null : error ?? "failed", Now()), () =>
        {
            if (succeeded) _log.Info("{0}: finished in pipeline {1} ({2})", pid, run.Name, run.PipelineRunId);
            else _log.Warning("{0}: failed in pipeline {1} ({2}): {3}", pid, run.Name, run.PipelineRunId, error);
            Advance();
        });
    }

    private void Skip(ProcessSkip skip)
    {
        var (prid, pid) = skip.Process;
        Save(new ProcessSkippedInPipeline(prid, pid, skip.Reason, Now()), () =>
        {
            _skipping.Remove(skip.Process);
            _log.Warning("{0}: {1} (pipeline {2}, {3})", pid, skip.Reason, _state.Find(prid)?.Name, prid);
            Advance();
        });
    }

    private void Finish(PipelineRun run)
    {
        var (state, reason) = run.Outcome();
        Save(new PipelineRunFinished(run.PipelineRunId, state, reason, Now()), () =>
        {
            _finishing.Remove(run.PipelineRunId);
            FerryMetrics.PipelineRunFinished(run.Name, state.ToString().ToLowerInvariant(), Now() - run.StartedAt);
            _phases = _phases.WithoutRun(run.PipelineRunId);
            if (reason is null) _log.Info("pipeline {0} ({1}): succeeded", run.Name, run.PipelineRunId);
            else _log.Warning("pipeline {0} ({1}): failed: {2}", run.Name, run.PipelineRunId, reason);
        });
    }

    /// <summary>Asks the status of processes that are busy elsewhere or may have been sent a StartRun already.</summary>
    private void CheckWaiting()
    {
        foreach (var process in _phases.ToCheck())
        {
            _phases = _phases.With(process, StartPhase.Checking);
            AskRegion<ProcessStatus>(new GetProcessStatus(process.ProcessId), StatusTimeout, (status, error) => new StatusChecked(process, status, error));
        }
    }

    /// <summary>Asks each running process how its run stands: a finished run whose report was lost is found here.</summary>
    private void PollRunning()
    {
        foreach (var (process, runId) in _state.Running())
            if (_polling.Add(process))
                AskRegion<ProcessStatus>(new GetProcessStatus(process.ProcessId), StatusTimeout, (status, error) => new StatusPolled(process, runId, status, error));
    }

    private void OnStatusPolled(StatusPolled m)
    {
        _polling.Remove(m.Process);
        var pid = m.Process.ProcessId;
        var run = _state.Find(m.Process.PipelineRunId);
        if (run is null || !run.Processes.TryGetValue(pid, out var p) || p.State != ProcessRunState.Running || p.RunId != m.RunId) return;
        switch (RunOutcome.OfRun(m.Status, m.RunId))
        {
            case RunOutcome.NoAnswer:
                _log.Debug("{0}: no status ({1}); polling again", pid, m.Error);
                return;
            case RunOutcome.Ended ended:
                FinishProcess(run, pid, ended.Succeeded, ended.Run, ended.Succeeded ? null : ended.Run.Error);
                return;
            case RunOutcome.Replaced:
                FinishProcess(run, pid, false, null, $"{pid}: run {m.RunId} ended but its outcome was replaced by a later run (see the run history)");
                return;
        }
    }

    // ---- Cancel ----------------------------------------------------------------------------------

    /// <summary>Answers with the run as it stands after the cancel; its running processes are told to stop (their CancelAccepted is logged).</summary>
    private void OnCancel(CancelPipelineRun m)
    {
        var run = _state.Find(m.PipelineRunId);
        if (run is not { IsActive: true })
        {
            Sender.Tell(run?.ToStatus() ?? (object)new PipelineRunNotFound(m.PipelineRunId));
            return;
        }
        var replyTo = Sender;
        Save(new PipelineRunFinished(run.PipelineRunId, PipelineRunState.Cancelled, "cancelled by request", Now()), () =>
        {
            _phases = _phases.WithoutRun(run.PipelineRunId);
            FerryMetrics.PipelineRunFinished(run.Name, "cancelled", Now() - run.StartedAt);
            var running = run.Processes.Values.Where(p => p.State == ProcessRunState.Running).Select(p => p.ProcessId).ToList();
            foreach (var pid in running) _region.Tell(new CancelRun(pid), Self);
            _log.Warning("pipeline {0} ({1}): cancelled; {2} running process(es) told to stop", run.Name, run.PipelineRunId, running.Count);
            replyTo.Tell(_state.Find(run.PipelineRunId)!.ToStatus());
            Advance();
        });
    }

    // ---- Schedules -------------------------------------------------------------------------------

    /// <summary>One timer per pipeline: a new wake-up replaces the one before.</summary>
    private void Arm(ScheduleWake wake) => Timers.StartSingleTimer($"schedule:{wake.Start.Pipeline}", wake.Start, wake.Wait);

    private void OnScheduleWake(ScheduledStart start)
    {
        var check = _schedules.Woke(start, _state.LastScheduled, Now());
        if (check.Next is { } next) Arm(next);
        if (check.Due) Request(new PipelineRunRequest.Scheduled(start));
    }
}
