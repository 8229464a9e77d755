using System.Collections.Immutable;
using System.Text.Json.Serialization;
using Ferry.Shared.Processes;
using Ferry.Shared.Serialization;
using Ferry.Shared.Stg;

namespace Ferry.Coordinator.Pipelines;

/// <summary>One pipeline run: its plan and where each of its processes stands.</summary>
public sealed record PipelineRun(
    string PipelineRunId,
    string Name,
    RunMode Mode,
    bool? KeySweep,
    IReadOnlyList<IReadOnlyList<string>> Groups,
    string RequestedBy,
    DateTimeOffset StartedAt,
    DateTimeOffset? ScheduledFor,
    PipelineRunState State,
    DateTimeOffset? FinishedAt,
    string? Reason,
    ImmutableDictionary<string, PipelineProcess> Processes)
{
    [JsonIgnore] public bool IsActive => State == PipelineRunState.Running;

    /// <summary>The first group (0-based) with a process not finished yet; <c>Groups.Count</c> when every process finished.</summary>
    public int CurrentGroup()
    {
        for (var g = 0; g < Groups.Count; g++)
            if (Groups[g].Any(p => !IsFinished(Processes[p].State)))
                return g;
        return Groups.Count;
    }

    public static bool IsFinished(ProcessRunState state) => state is ProcessRunState.Succeeded or ProcessRunState.Failed;

    public IEnumerable<PipelineProcess> InPlanOrder() => Groups.SelectMany(g => g.Select(p => Processes[p]));

    public PipelineRunStatus ToStatus() =>
        new(PipelineRunId, Name, Mode, State, StartedAt, FinishedAt, CurrentGroup(), Groups.Count, InPlanOrder().ToList());
}

/// <summary>
/// The pipeline runner's persistent state: the last <see cref="KeptRuns"/> pipeline runs (never
/// dropping one still running) and the last schedule occurrence handled per pipeline. Changed only by
/// <see cref="Apply"/>, which recovery replays; it is also the snapshot.
/// </summary>
public sealed record PipelineRunnerState(ImmutableList<PipelineRun> Runs, ImmutableDictionary<string, DateTimeOffset> LastScheduled) : IFerryMessage
{
    public const int KeptRuns = 100;

    public static PipelineRunnerState Empty { get; } = new(ImmutableList<PipelineRun>.Empty, ImmutableDictionary<string, DateTimeOffset>.Empty);

    public PipelineRun? Find(string pipelineRunId) => Runs.FirstOrDefault(r => r.PipelineRunId == pipelineRunId);

    public PipelineRun? ActiveNamed(string name) => Runs.FirstOrDefault(r => r.IsActive && r.Name == name);

    [JsonIgnore] public IEnumerable<PipelineRun> Active => Runs.Where(r => r.IsActive);

    public PipelineRunnerState Apply(IPipelineEvent e) => e switch
    {
        PipelineRunStarted s => Started(s),
        ProcessRunStartedInPipeline p => Update(p.PipelineRunId, r => WithProcess(r, p.ProcessId, x => x with { State = ProcessRunState.Running, RunId = p.RunId })),
        ProcessFinishedInPipeline f => Update(f.PipelineRunId, r => WithProcess(r, f.ProcessId, x => x with
        {
            State = f.Succeeded ? ProcessRunState.Succeeded : ProcessRunState.Failed,
            RunId = f.Run?.RunId ?? x.RunId,
            Result = f.Run,
            Error = f.Error,
        })),
        PipelineRunFinished f => Update(f.PipelineRunId, r => r with { State = f.State, FinishedAt = f.At, Reason = f.Reason }),
        ScheduledRunSkipped k => this with { LastScheduled = LastScheduled.SetItem(k.Pipeline, k.Occurrence) },
        _ => this,
    };

    private PipelineRunnerState Started(PipelineRunStarted s)
    {
        var processes = s.Groups.SelectMany((g, i) => g.Select(p => new PipelineProcess(p, i, ProcessRunState.Pending, null, null, null)))
            .ToImmutableDictionary(p => p.ProcessId);
        var run = new PipelineRun(s.PipelineRunId, s.Name, s.Mode, s.KeySweep, s.Groups, s.RequestedBy, s.At, s.ScheduledFor,
            PipelineRunState.Running, null, null, processes);
        var runs = Runs.Add(run);
        while (runs.Count > KeptRuns && runs.FindIndex(r => !r.IsActive) is var oldest and >= 0)
            runs = runs.RemoveAt(oldest);
        var scheduled = s.ScheduledFor is { } at ? LastScheduled.SetItem(s.Name, at) : LastScheduled;
        return this with { Runs = runs, LastScheduled = scheduled };
    }

    private PipelineRunnerState Update(string pipelineRunId, Func<PipelineRun, PipelineRun> change)
    {
        var i = Runs.FindIndex(r => r.PipelineRunId == pipelineRunId);
        return i < 0 ? this : this with { Runs = Runs.SetItem(i, change(Runs[i])) };
    }

    private static PipelineRun WithProcess(PipelineRun run, string processId, Func<PipelineProcess, PipelineProcess> change) =>
        run.Processes.TryGetValue(processId, out var p) ? run with { Processes = run.Processes.SetItem(processId, change(p)) } : run;
}
