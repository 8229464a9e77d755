using Akka.Actor;
using Ferry.Shared.Metadata;
using Ferry.Shared.Processes;
using Ferry.Shared.Stg;

using ForeignKey = (Ferry.Shared.Metadata.QualifiedName Child, Ferry.Shared.Metadata.QualifiedName Parent, string Constraint);

namespace Ferry.Coordinator.Pipelines;

/// <summary>Why a pipeline run is to start: a request, whose sender gets the answer, or a schedule's occurrence.</summary>
public abstract record PipelineRunRequest
{
    public abstract IReadOnlyList<string> Targets { get; }

    public sealed record Requested(RunTargets Run, IActorRef ReplyTo) : PipelineRunRequest
    {
        public override IReadOnlyList<string> Targets => Run.Targets;
    }

    public sealed record Scheduled(ScheduledStart Start) : PipelineRunRequest
    {
        public override IReadOnlyList<string> Targets => [Start.Pipeline];
    }
}

/// <summary>The target's foreign keys as read for ordering BL processes, or why they could not be read.</summary>
public sealed record ForeignKeysRead(PipelineRunRequest Request, IReadOnlyList<ForeignKey>? Keys, string? Error);

/// <summary>What to do with a <see cref="PipelineRunRequest"/>.</summary>
public abstract record Admission
{
    /// <summary>Not started: the targets name nothing, cannot be ordered, or the pipeline runs already (then its run's id).</summary>
    public sealed record Rejected(string Reason, string? ActivePipelineRunId = null) : Admission;

    /// <summary>Its plan holds BL processes: read the target's foreign keys, then ask again with them.</summary>
    public sealed record NeedsForeignKeys : Admission;

    /// <summary>A scheduled start whose pipeline still runs: recorded as skipped, so a restart does not make it up.</summary>
    public sealed record Skipped(PipelineRun Active) : Admission;

    /// <summary>A scheduled start handled already, or of a pipeline no longer scheduled.</summary>
    public sealed record Ignored : Admission;

    public sealed record Start(PipelinePlan Plan, RunMode Mode, bool? KeySweep, string RequestedBy, DateTimeOffset? ScheduledFor, TimeSpan? MaxAge = null) : Admission;
}

/// <summary>
/// Decides whether a pipeline run starts, and how: a pipeline is never running twice at once (a second
/// request is rejected with the active run's id, a scheduled start that finds it running is skipped);
/// a request's mode applies, and its key_sweep or else the pipeline's; a scheduled run takes the
/// pipeline's mode and key_sweep.
/// </summary>
/// <param name="ordersByForeignKeys">Whether the runner reads the target's foreign keys to order BL processes.</param>
public sealed class RunAdmission(MigrationMetadata metadata, ScheduleClock schedules, bool ordersByForeignKeys)
{
    /// <param name="read">The foreign keys read for this request; null when none were read (yet).</param>
    public Admission Admit(PipelineRunRequest request, PipelineRunnerState state, ForeignKeysRead? read = null)
    {
        var due = (request as PipelineRunRequest.Scheduled)?.Start;
        if (due is not null && (ScheduleClock.Handled(due, state.LastScheduled) || schedules.Find(due.Pipeline) is null))
            return new Admission.Ignored();
        if (read?.Error is { } error)
            return new Admission.Rejected($"cannot order the business layer: the target's foreign keys could not be read: {error}");
        PipelinePlan plan;
        try
        {
            plan = PipelinePlan.Resolve(metadata, request.Targets, read?.Keys);
        }
        catch (ArgumentException e)
        {
            return new Admission.Rejected(e.Message);
        }
        if (read is null && ordersByForeignKeys && plan.HasTransforms(metadata)) return new Admission.NeedsForeignKeys();

        var active = state.ActiveNamed(plan.Name);
        switch (request)
        {
            case PipelineRunRequest.Requested { Run: var run }:
                return active is null
                    ? new Admission.Start(plan, run.Mode, run.KeySweep ?? plan.Pipeline?.KeySweep, run.RequestedBy, null, run.MaxAge)
                    : new Admission.Rejected($"{plan.Name} is already running as {active.PipelineRunId} (started {active.StartedAt:yyyy-MM-dd HH:mm:ss}Z)",
                        active.PipelineRunId);
            default:
                if (active is not null) return new Admission.Skipped(active);
                var pipeline = schedules.Find(due!.Pipeline)!;
                return new Admission.Start(plan, pipeline.Mode, pipeline.KeySweep, "schedule", due.Occurrence);
        }
    }

    /// <summary>Reads the target's foreign keys for <paramref name="request"/>; a failure or a timeout becomes the answer's error.</summary>
    public static async Task<ForeignKeysRead> ReadForeignKeysAsync(PipelineRunRequest request,
        Func<CancellationToken, Task<IReadOnlyList<ForeignKey>>> read, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            return new ForeignKeysRead(request, await read(cts.Token), null);
        }
        catch (Exception e)
        {
            return new ForeignKeysRead(request, null, e is OperationCanceledException ? $"no answer within {timeout.TotalSeconds:0} s" : e.Message);
        }
    }
}
