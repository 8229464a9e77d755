using Serilog.Context;

namespace Ferry.Shared.Logging;

/// <summary>
/// The properties a log line written while a run is active carries: which process, which run, which
/// step (and the pipeline run it belongs to). The run log (<see cref="RunLogSink"/>) keeps exactly the
/// lines that carry <see cref="RunId"/>.
/// </summary>
public static class RunLogContext
{
    public const string ProcessId = "ProcessId";
    public const string RunId = "RunId";
    public const string Step = "Step";
    public const string PipelineRunId = "PipelineRunId";
    public const string Node = "Node";

    /// <summary>
    /// Marks the lines written by this async flow (and the tasks it starts) as the run's: the data path
    /// logs through Microsoft.Extensions.Logging or Serilog and needs no run id of its own.
    /// </summary>
    public static IDisposable Push(string processId, string runId, string step, string? pipelineRunId)
    {
        var pushed = new List<IDisposable>
        {
            LogContext.PushProperty(ProcessId, processId),
            LogContext.PushProperty(RunId, runId),
            LogContext.PushProperty(Step, step),
        };
        if (pipelineRunId is not null) pushed.Add(LogContext.PushProperty(PipelineRunId, pipelineRunId));
        return new Popped(pushed);
    }

    private sealed class Popped(List<IDisposable> pushed) : IDisposable
    {
        public void Dispose()
        {
            for (var i = pushed.Count - 1; i >= 0; i--) pushed[i].Dispose();
        }
    }
}
