namespace Ferry.Shared.History;

/// <summary>Where a run stands in the run history. Stored, and shown by the API and the CLI, as lowercase text ("succeeded").</summary>
public enum RunStatus { Running, Succeeded, Failed }

public static class RunStatusText
{
    /// <summary>The text ferry.run_history stores: running, succeeded, failed.</summary>
    public static string Text(this RunStatus status) => status switch
    {
        RunStatus.Running => "running",
        RunStatus.Succeeded => "succeeded",
        RunStatus.Failed => "failed",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, null),
    };

    /// <summary>The status a stored text stands for; anything else is a row Ferry did not write.</summary>
    public static RunStatus Parse(string text) => text switch
    {
        "running" => RunStatus.Running,
        "succeeded" => RunStatus.Succeeded,
        "failed" => RunStatus.Failed,
        _ => throw new FormatException($"ferry.run_history: unknown run status '{text}'"),
    };
}
