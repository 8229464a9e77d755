using Akka.Actor;
using Ferry.Shared.Processes;
using Ferry.Shared.Stg;

namespace Ferry.Tests.Pipelines;

/// <summary>How a fake process behaves: how long its runs take, whether they fail, whether their end report is lost.</summary>
public sealed record FakeBehaviour(TimeSpan Duration, bool Fails = false, bool LosesReport = false, bool Unknown = false);

/// <summary>
/// Stands in for the process shard region in unit tests of the pipeline runner. Each process behaves
/// like a ProcessActor seen from outside: StartRun is accepted (RunAccepted) or rejected while a run is
/// active (RunRejected with the active run id); a run ends after its duration with ProcessRunFinished
/// to the listener; GetProcessStatus shows the active run and the last success and failure; CancelRun
/// fails the active run. It records every start and end, and the most runs seen at once per source.
/// </summary>
public sealed class FakeProcessRegion : ReceiveActor, IWithTimers
{
    public ITimerScheduler Timers { get; set; } = null!;

    public sealed record SetListener(IActorRef Listener);

    /// <summary>Starts a run that belongs to no pipeline (someone ran the process by hand).</summary>
    public sealed record Occupy(string ProcessId, TimeSpan For);

    public sealed record GetLog;

    public sealed record RunStart(string ProcessId, string RunId, string? PipelineRunId, DateTimeOffset At);

    public sealed record RunEnd(string ProcessId, string RunId, bool Succeeded, DateTimeOffset At);

    public sealed record Log(IReadOnlyList<RunStart> Starts, IReadOnlyList<RunEnd> Ends, IReadOnlyDictionary<string, int> MaxRunningPerSource, int BusyRejections)
    {
        public IEnumerable<RunStart> StartsFor(string pipelineRunId) => Starts.Where(s => s.PipelineRunId == pipelineRunId);
    }

    private sealed record Finish(string ProcessId, string RunId, bool Cancelled);

    private sealed record Active(string RunId, RunMode Mode, DateTimeOffset StartedAt, string? PipelineRunId);

    private readonly Func<string, FakeBehaviour> _behaviour;
    private IActorRef _listener = ActorRefs.Nobody;
    private readonly Dictionary<string, Active> _active = new();
    private readonly Dictionary<string, RunSummary> _lastSuccess = new();
    private readonly Dictionary<string, RunSummary> _lastFailure = new();
    private readonly List<RunStart> _starts = new();
    private readonly List<RunEnd> _ends = new();
    private readonly Dictionary<string, int> _maxRunning = new();
    private int _busyRejections;
    private int _runs;

    public static Props Create(Func<string, FakeBehaviour> behaviour) => Props.Create(() => new FakeProcessRegion(behaviour));

    public FakeProcessRegion(Func<string, FakeBehaviour> behaviour)
    {
        _behaviour = behaviour;
        Receive<SetListener>(l => _listener = l.Listener);
        Receive<StartRun>(OnStart);
        Receive<Occupy>(o => Begin(o.ProcessId, RunMode.Incremental, null, o.For));
        Receive<GetProcessStatus>(g =>
        {
            var a = _active.GetValueOrDefault(g.ProcessId);
            Sender.Tell(new ProcessStatus(g.ProcessId, a is null ? ProcessStep.Idle : ProcessStep.Extracting, a?.RunId, a?.Mode, a?.StartedAt, 0, null,
                _lastSuccess.GetValueOrDefault(g.ProcessId), _lastFailure.GetValueOrDefault(g.ProcessId), "fake"));
        });
        Receive<CancelRun>(c =>
        {
            var a = _active.GetValueOrDefault(c.ProcessId);
            Sender.Tell(new CancelAccepted(c.ProcessId, a?.RunId));
            if (a is not null) End(c.ProcessId, a.RunId, cancelled: true);
        });
        Receive<Finish>(f => End(f.ProcessId, f.RunId, f.Cancelled));
        Receive<GetLog>(_ => Sender.Tell(new Log(_starts.ToList(), _ends.ToList(), new Dictionary<string, int>(_maxRunning), _busyRejections)));
    }

    private static string SourceOf(string processId) => processId.Split('.')[1];

    private void OnStart(StartRun start)
    {
        var behaviour = _behaviour(start.ProcessId);
        if (behaviour.Unknown)
        {
            Sender.Tell(new RunRejected(start.ProcessId, "no such process in the metadata", null));
            return;
        }
        if (_active.TryGetValue(start.ProcessId, out var active))
        {
            _busyRejections++;
            Sender.Tell(new RunRejected(start.ProcessId, $"run {active.RunId} is already extracting", active.RunId));
            return;
        }
        var runId = Begin(start.ProcessId, start.Mode, start.PipelineRunId, behaviour.Duration);
        Sender.Tell(new RunAccepted(start.ProcessId, runId));
    }

    private string Begin(string processId, RunMode mode, string? pipelineRunId, TimeSpan duration)
    {
        var runId = $"run-{++_runs:D4}";
        var now = DateTimeOffset.UtcNow;
        _active[processId] = new Active(runId, mode, now, pipelineRunId);
        _starts.Add(new RunStart(processId, runId, pipelineRunId, now));
        var source = SourceOf(processId);
        var running = _active.Keys.Count(p => SourceOf(p) == source);
        _maxRunning[source] = Math.Max(_maxRunning.GetValueOrDefault(source), running);
        Timers.StartSingleTimer(runId, new Finish(processId, runId, false), duration);
        return runId;
    }

    private void End(string processId, string runId, bool cancelled)
    {
        if (!_active.TryGetValue(processId, out var a) || a.RunId != runId) return;
        Timers.Cancel(runId);
        _active.Remove(processId);
        var behaviour = _behaviour(processId);
        var ok = !cancelled && !behaviour.Fails;
        var now = DateTimeOffset.UtcNow;
        var error = ok ? null : cancelled ? "cancelled by request" : $"{processId}: extract failed: boom";
        var summary = new RunSummary(runId, a.Mode, a.StartedAt, now, ok, 10, ok ? new MergeCounts(10, 0, 0, 0) : MergeCounts.Zero, error, a.PipelineRunId);
        if (ok) _lastSuccess[processId] = summary;
        else _lastFailure[processId] = summary;
        _ends.Add(new RunEnd(processId, runId, ok, now));
        if (!behaviour.LosesReport) _listener.Tell(new ProcessRunFinished(processId, summary));
    }
}
