using Akka.Actor;
using Akka.Event;
using Ferry.Shared.Logging;
using Ferry.Shared.Processes;

namespace Ferry.Worker.Processes;

/// <summary>
/// An actor's log adapter for the lines it writes about a run: they carry the process, run, step (and
/// pipeline run) as properties, so JSON logs can be searched by run and the run log keeps them
/// (<see cref="RunLogSink"/>). Lines outside a run use the actor's plain adapter.
/// </summary>
public static class RunLogging
{
    public static ILoggingAdapter For(this ILoggingAdapter log, string processId, ActiveRun run)
    {
        var scoped = log.WithContext(RunLogContext.ProcessId, processId)
            .WithContext(RunLogContext.RunId, run.RunId)
            .WithContext(RunLogContext.Step, run.Step.ToString().ToLowerInvariant());
        return run.PipelineRunId is { } pipelineRun ? scoped.WithContext(RunLogContext.PipelineRunId, pipelineRun) : scoped;
    }

    /// <summary>The same properties for what the step's task logs through Microsoft.Extensions.Logging or Serilog.</summary>
    public static IDisposable Push(string processId, ActiveRun run) =>
        RunLogContext.Push(processId, run.RunId, run.Step.ToString().ToLowerInvariant(), run.PipelineRunId);
}
