namespace Ferry.Worker.Stg;

/// <summary>
/// Whether a replay may run: replaying a run older than the one STG last took in rolls STG back to that
/// run's content, so it needs <c>--force</c>. A run id is its start time to the second and a random
/// suffix: "older" compares the times (two runs started in the same second are not older than each other).
/// </summary>
public static class ReplayGuard
{
    /// <param name="lastRunId">The newest run STG holds rows of (null: STG is empty or missing).</param>
    /// <returns>Null when the replay may run, else why not, in one line.</returns>
    public static string? Refusal(string processId, string replayRunId, string? lastRunId, bool force)
    {
        if (force || lastRunId is null || string.CompareOrdinal(Started(replayRunId), Started(lastRunId)) >= 0) return null;
        return $"{processId}: replaying run {replayRunId} rolls STG back from run {lastRunId} to that run's content; pass --force to do it";
    }

    private static string Started(string runId) => runId.Split('-', 2)[0];
}
