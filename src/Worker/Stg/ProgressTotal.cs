using Ferry.Shared.Processes;

namespace Ferry.Worker.Stg;

/// <summary>
/// One step's running total of rows and bytes, added to from parallel chunks, parts or files and reported
/// to one sink in order: every report holds everything added before it, so the last one is the exact total
/// (Progress&lt;T&gt; posts reports to the thread pool, which reorders them, and per-part counts are not a total).
/// </summary>
public sealed class ProgressTotal
{
    private readonly Lock _lock = new();
    private readonly IProgress<StepProgress>? _sink;
    private StepProgress _current;

    /// <summary>Starts the total at zero and reports that, so a status shows the step before its first row.</summary>
    public ProgressTotal(string processId, ProcessStep step, long? rowsExpected, IProgress<StepProgress>? sink)
    {
        _sink = sink;
        _current = StepProgress.Start(processId, step, rowsExpected);
        sink?.Report(_current);
    }

    public StepProgress Current
    {
        get { lock (_lock) return _current; }
    }

    public void Add(long rows, long bytes)
    {
        if (rows == 0 && bytes == 0) return;
        lock (_lock)
        {
            _current = _current with { RowsDone = _current.RowsDone + rows, Bytes = _current.Bytes + bytes };
            _sink?.Report(_current);
        }
    }

    /// <summary>The step's last report: rows expected become the rows done.</summary>
    public StepProgress Finish()
    {
        lock (_lock)
        {
            _current = _current.Finished();
            _sink?.Report(_current);
            return _current;
        }
    }
}
