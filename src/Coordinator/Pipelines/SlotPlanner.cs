using Ferry.Shared.Metadata;
using Ferry.Shared.Processes;

namespace Ferry.Coordinator.Pipelines;

/// <summary>
/// What the runner does next: start these processes, finish these runs (every process finished), and skip
/// these processes (an upstream process failed).
/// </summary>
public sealed record SlotPlan(IReadOnlyList<ProcessInRun> Start, IReadOnlyList<string> Complete, IReadOnlyList<ProcessSkip> Skip);

/// <summary>A pending process that will not run in its pipeline run, and why (<c>skipped: bl.unipacc.users failed</c>).</summary>
public sealed record ProcessSkip(ProcessInRun Process, string Reason);

/// <summary>
/// Decides which pending processes of which active pipeline runs may start now, oldest run first: only
/// those of a run's current stage (a later stage waits for every process of the earlier ones), a process
/// for one run at a time, and per source at most <see cref="PgConnection.MaxConcurrentExtracts"/> at once
/// over every run. A slot is held by a process running in an active run, one being started, and one
/// busy with a run the runner did not start. A process whose table has no source, or whose source has
/// no limit, is not limited. A pending process of the current stage whose upstream BL process failed or
/// was skipped in its run is skipped instead (as Airflow's upstream_failed): it would only fail on the
/// parent's foreign keys. Only BL parents count (<see cref="PipelineRun.Upstream"/>); a failed STG process skips nothing.
/// </summary>
public sealed class SlotPlanner(IReadOnlyDictionary<string, string> sourceOf, IReadOnlyDictionary<string, int> limits)
{
    /// <summary>
    /// Sources from the metadata's tables (an STG process and the verify process that reads the same source table
    /// count against its source); a limit below 1 counts as 1.
    /// </summary>
    public static SlotPlanner Of(MigrationMetadata metadata) => new(
        metadata.Tables.SelectMany(t => new[] { (Id: t.ProcessId, t.Source), (Id: Shared.Verify.VerifyProcesses.Of(t), t.Source) })
            .ToDictionary(x => x.Id, x => x.Source, StringComparer.Ordinal),
        metadata.Sources.ToDictionary(s => s.Key, s => Math.Max(1, s.Value.MaxConcurrentExtracts), StringComparer.Ordinal));

    public SlotPlan Next(PipelineRunnerState state, StartPhases phases)
    {
        var occupied = Occupied(state, phases);
        var startedHere = new HashSet<string>(StringComparer.Ordinal);
        var start = new List<ProcessInRun>();
        var complete = new List<string>();
        var skip = new List<ProcessSkip>();
        foreach (var run in state.Active)
        {
            if (run.CurrentStage() >= run.Stages.Count)
            {
                complete.Add(run.PipelineRunId);
                continue;
            }
            foreach (var pid in run.PendingNow())
            {
                var process = new ProcessInRun(run.PipelineRunId, pid);
                if (phases[process] is not null) continue;
                if (run.SkipReason(pid) is { } reason)
                {
                    skip.Add(new ProcessSkip(process, reason));
                    continue;
                }
                // Started for an older run in this plan, or running or starting for another: it would only be rejected.
                if (startedHere.Contains(pid) || RunningElsewhere(state, phases, process)) continue;
                if (sourceOf.TryGetValue(pid, out var source) && limits.TryGetValue(source, out var limit))
                {
                    var busy = occupied.TryGetValue(source, out var set) ? set : occupied[source] = new HashSet<string>(StringComparer.Ordinal);
                    if (busy.Count(p => p != pid) >= limit) continue;
                    busy.Add(pid);
                }
                startedHere.Add(pid);
                start.Add(process);
            }
        }
        return new SlotPlan(start, complete, skip);
    }

    /// <summary>Every limited source with its slots in use and its limit, for the slot gauges.</summary>
    public IEnumerable<(string Source, int InUse, int Limit)> Slots(PipelineRunnerState state, StartPhases phases)
    {
        var occupied = Occupied(state, phases);
        return limits.Select(l => (l.Key, occupied.TryGetValue(l.Key, out var set) ? set.Count : 0, l.Value));
    }

    /// <summary>Per source, the processes that hold one of its slots; a process counts once.</summary>
    private Dictionary<string, HashSet<string>> Occupied(PipelineRunnerState state, StartPhases phases)
    {
        var occupied = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        var running = state.Active.SelectMany(r => r.Processes.Values).Where(p => p.State == ProcessRunState.Running).Select(p => p.ProcessId);
        foreach (var pid in running.Concat(phases.HoldingSlots()))
        {
            if (!sourceOf.TryGetValue(pid, out var source)) continue;
            if (!occupied.TryGetValue(source, out var set)) occupied[source] = set = new HashSet<string>(StringComparer.Ordinal);
            set.Add(pid);
        }
        return occupied;
    }

    private static bool RunningElsewhere(PipelineRunnerState state, StartPhases phases, ProcessInRun process) =>
        state.Active.Any(r => r.PipelineRunId != process.PipelineRunId
            && r.Processes.TryGetValue(process.ProcessId, out var p) && p.State == ProcessRunState.Running)
        || phases.StartingElsewhere(process);
}
