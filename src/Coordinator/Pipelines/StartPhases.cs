using System.Collections.Immutable;
using Ferry.Shared.Processes;

namespace Ferry.Coordinator.Pipelines;

/// <summary>A process as one pipeline run sees it: the same process may be pending in two runs at once.</summary>
public readonly record struct ProcessInRun(string PipelineRunId, string ProcessId);

/// <summary>What is under way for a pending process of an active run before it runs.</summary>
public enum StartPhase
{
    /// <summary>A StartRun may have reached it before (an earlier runner, a lost reply): ask its status before starting.</summary>
    Unchecked,
    Checking,
    Starting,
    /// <summary>It is running another run; its status is checked again every poll.</summary>
    Busy,
}

/// <summary>
/// The start phase of each pending process of an active run that has one; a process without one is ready
/// to start. Not persisted: after a restart every pending process of a current stage is Unchecked.
/// </summary>
public sealed record StartPhases(ImmutableDictionary<ProcessInRun, StartPhase> Phases)
{
    public static StartPhases None { get; } = new(ImmutableDictionary<ProcessInRun, StartPhase>.Empty);

    /// <summary>After recovery: the runner that stopped may have sent StartRun to any pending process of a current stage.</summary>
    public static StartPhases Recovered(PipelineRunnerState state) => new(state.Active
        .SelectMany(r => r.PendingNow().Select(p => new ProcessInRun(r.PipelineRunId, p)))
        .ToImmutableDictionary(k => k, _ => StartPhase.Unchecked));

    public StartPhase? this[ProcessInRun process] => Phases.TryGetValue(process, out var phase) ? phase : null;

    public StartPhases With(ProcessInRun process, StartPhase phase) => new(Phases.SetItem(process, phase));

    public StartPhases Without(ProcessInRun process) => new(Phases.Remove(process));

    /// <summary>A run that ended waits for nothing.</summary>
    public StartPhases WithoutRun(string pipelineRunId) => new(Phases.RemoveRange(Phases.Keys.Where(k => k.PipelineRunId == pipelineRunId)));

    /// <summary>Processes whose status is to be asked: unchecked ones, and busy ones (has the other run ended?).</summary>
    public IReadOnlyList<ProcessInRun> ToCheck() =>
        Phases.Where(kv => kv.Value is StartPhase.Unchecked or StartPhase.Busy).Select(kv => kv.Key).ToList();

    /// <summary>The runs that wait for <paramref name="processId"/> to end a run of someone else's.</summary>
    public IReadOnlyList<ProcessInRun> BusyWith(string processId) =>
        Phases.Where(kv => kv.Key.ProcessId == processId && kv.Value == StartPhase.Busy).Select(kv => kv.Key).ToList();

    /// <summary>Processes that hold a slot of their source: being started, or busy with a run (it loads the source all the same).</summary>
    public IEnumerable<string> HoldingSlots() =>
        Phases.Where(kv => kv.Value is StartPhase.Starting or StartPhase.Checking or StartPhase.Busy).Select(kv => kv.Key.ProcessId);

    /// <summary>Another pipeline run is starting this process.</summary>
    public bool StartingElsewhere(ProcessInRun process) =>
        Phases.Any(kv => kv.Key.ProcessId == process.ProcessId && kv.Key.PipelineRunId != process.PipelineRunId && kv.Value == StartPhase.Starting);
}
