using System.Collections.Immutable;
using System.Text.Json.Serialization;
using Ferry.Shared.Processes;
using Ferry.Shared.Serialization;
using Ferry.Shared.Stg;

namespace Ferry.Coordinator.Pipelines;

/// <summary>
/// One pipeline run: its plan (stages in sequence, and each BL process's BL parents in <see cref="Upstream"/>)
/// and where each of its processes stands. Snapshots written before stages were named so call them
/// "groups"; the name stays. Snapshots written before processes were skipped have no upstream (null).
/// </summary>
public sealed record PipelineRun(
    string PipelineRunId,
    string Name,
    RunMode Mode,
    bool? KeySweep,
    [property: JsonPropertyName("groups")] IReadOnlyList<IReadOnlyList<string>> Stages,
    string RequestedBy,
    DateTimeOffset StartedAt,
    DateTimeOffset? ScheduledFor,
    PipelineRunState State,
    DateTimeOffset? FinishedAt,
    string? Reason,
    ImmutableDictionary<string, PipelineProcess> Processes,
    IReadOnlyDictionary<string, IReadOnlyList<string>>? Upstream = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] TimeSpan? MaxAge = null)
{
    [JsonIgnore] public bool IsActive => State == PipelineRunState.Running;

    /// <summary>The first stage (0-based) with a process not finished yet; <c>Stages.Count</c> when every process finished.</summary>
    public int CurrentStage()
    {
        for (var i = 0; i < Stages.Count; i++)
            if (Stages[i].Any(p => !IsFinished(Processes[p].State)))
                return i;
        return Stages.Count;
    }

    /// <summary>The processes of the current stage that have not started (none once every process finished).</summary>
    public IEnumerable<string> PendingNow()
    {
        var i = CurrentStage();
        return i < Stages.Count ? Stages[i].Where(p => Processes[p].State == ProcessRunState.Pending) : [];
    }

    public static bool IsFinished(ProcessRunState state) => state is ProcessRunState.Succeeded or ProcessRunState.Failed or ProcessRunState.Skipped;

    /// <summary>
    /// Why this process is not to run: the first upstream process (in plan order, through skipped ones) that
    /// failed, e.g. <c>skipped: bl.unipacc.users failed</c>; null while none failed.
    /// </summary>
    public string? SkipReason(string processId)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        string? FailedAbove(string pid)
        {
            foreach (var parent in Upstream?.GetValueOrDefault(pid) ?? [])
            {
                if (!seen.Add(parent) || !Processes.TryGetValue(parent, out var p)) continue;
                if (p.State == ProcessRunState.Failed) return parent;
                if (p.State == ProcessRunState.Skipped && FailedAbove(parent) is { } above) return above;
            }
            return null;
        }
        if (FailedAbove(processId) is { } failed) return $"skipped: {failed} failed";
        // Only a failure causes a skip; a skipped parent whose cause is gone from the plan is still named.
        var skipped = (Upstream?.GetValueOrDefault(processId) ?? []).FirstOrDefault(p => Processes.TryGetValue(p, out var x) && x.State == ProcessRunState.Skipped);
        return skipped is null ? null : $"skipped: {skipped} was skipped";
    }

    public bool IsPending(string processId) => Processes.TryGetValue(processId, out var p) && p.State == ProcessRunState.Pending;

    /// <summary>
    /// How the run ends once every process finished: Failed, naming the processes that failed and counting
    /// those skipped, if any were; else Succeeded.
    /// </summary>
    public (PipelineRunState State, string? Reason) Outcome()
    {
        var failed = InPlanOrder().Where(p => p.State == ProcessRunState.Failed).Select(p => p.ProcessId).ToList();
        var skipped = Processes.Values.Count(p => p.State == ProcessRunState.Skipped);
        if (failed.Count == 0 && skipped == 0) return (PipelineRunState.Succeeded, null);
        var because = "skipped because an upstream process failed";
        if (failed.Count == 0) return (PipelineRunState.Failed, $"{skipped} of {Processes.Count} processes {because}");
        var reason = $"{failed.Count} of {Processes.Count} processes failed: {string.Join(", ", failed.Take(10))}{(failed.Count > 10 ? ", …" : "")}";
        return (PipelineRunState.Failed, skipped == 0 ? reason : $"{reason}; {skipped} {because}");
    }

    public IEnumerable<PipelineProcess> InPlanOrder() => Stages.SelectMany(s => s.Select(p => Processes[p]));

    public PipelineRunStatus ToStatus() =>
        new(PipelineRunId, Name, Mode, State, StartedAt, FinishedAt, CurrentStage(), Stages.Count, InPlanOrder().ToList());
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

    /// <summary>The run that waits for this process run to end (the runner recorded it as started), if any.</summary>
    public PipelineRun? Awaiting(string processId, string runId) =>
        Runs.FirstOrDefault(r => r.Processes.TryGetValue(processId, out var p) && p.State == ProcessRunState.Running && p.RunId == runId);

    /// <summary>
    /// Process runs to poll: every running one of an active run, and of a cancelled one (it was told to stop;
    /// its end is still recorded).
    /// </summary>
    public IEnumerable<(ProcessInRun Process, string RunId)> Running() =>
        from r in Runs
        where r.IsActive || r.State == PipelineRunState.Cancelled
        from p in r.Processes.Values
        where p.State == ProcessRunState.Running && p.RunId is not null
        select (new ProcessInRun(r.PipelineRunId, p.ProcessId), p.RunId!);

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
        ProcessSkippedInPipeline k => Update(k.PipelineRunId, r => WithProcess(r, k.ProcessId, x => x with { State = ProcessRunState.Skipped, Error = k.Reason })),
        PipelineRunFinished f => Update(f.PipelineRunId, r => r with { State = f.State, FinishedAt = f.At, Reason = f.Reason }),
        ScheduledRunSkipped k => this with { LastScheduled = LastScheduled.SetItem(k.Pipeline, k.Occurrence) },
        // A journal holding an event this version cannot replay must stop recovery, not lose runs quietly.
        _ => throw new ArgumentException($"pipeline runner: unknown event {e.GetType().Name}", nameof(e)),
    };

    private PipelineRunnerState Started(PipelineRunStarted s)
    {
        var processes = s.Stages.SelectMany((stage, i) => stage.Select(p => new PipelineProcess(p, i, ProcessRunState.Pending, null, null, null)))
            .ToImmutableDictionary(p => p.ProcessId);
        var run = new PipelineRun(s.PipelineRunId, s.Name, s.Mode, s.KeySweep, s.Stages, s.RequestedBy, s.At, s.ScheduledFor,
            PipelineRunState.Running, null, null, processes, s.Upstream, s.MaxAge);
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
