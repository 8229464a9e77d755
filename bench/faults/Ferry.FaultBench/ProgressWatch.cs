using Ferry.Cli.Api;
using Ferry.Shared.Processes;

namespace Ferry.FaultBench;

/// <summary>
/// Watches one pipeline run through the API (every 0.5 s) and measures recovery: from the reference moment
/// (the fault, or for a target outage the moment the target accepts connections again) until every
/// interrupted process (running at the fault on the node(s) the fault hit) has made progress again, seen
/// through the API: it ended (succeeded or failed), or two answers after the reference moment show it at a
/// different (node, step, rows done). Also records membership events for the fault's node (downed, shard
/// region gone) when asked.
/// </summary>
public sealed class ProgressWatch
{
    private readonly FerryApiClient _api;
    private readonly string _pipelineRunId;
    private readonly Dictionary<string, (string? Node, ProcessStep Step, long Rows)?> _first = new();
    private readonly Dictionary<string, DateTimeOffset> _progressed = new();

    public ProgressWatch(FerryApiClient api, string pipelineRunId, IEnumerable<string> interrupted, DateTimeOffset fault)
    {
        _api = api;
        _pipelineRunId = pipelineRunId;
        Fault = fault;
        Reference = fault;
        foreach (var p in interrupted) _first[p] = null;
    }

    public DateTimeOffset Fault { get; }
    /// <summary>Recovery is counted from here; a target outage moves it to when the target is back.</summary>
    public DateTimeOffset Reference { get; set; }
    public bool ReferenceSet { get; set; } = true;
    public IReadOnlyCollection<string> Interrupted => _first.Keys;
    public PipelineRunStatus? Last { get; private set; }
    public DateTimeOffset? Ended { get; private set; }
    public DateTimeOffset? ApiBack { get; private set; }
    /// <summary>Address of the node whose fate to follow (worker faults, the coordinator) in /api/cluster and /api/sharding.</summary>
    public string? WatchedAddress { get; init; }
    public DateTimeOffset? Downed { get; private set; }
    public DateTimeOffset? RegionGone { get; private set; }

    public TimeSpan? Recovery =>
        _first.Count == 0 ? ApiBack is { } b ? b - Reference : null
        : _progressed.Count == _first.Count ? _progressed.Values.Max() - Reference : null;

    public async Task<PipelineRunStatus?> RunUntilEndedAsync(DateTimeOffset deadline, CancellationToken ct)
    {
        while (DateTimeOffset.UtcNow < deadline)
        {
            await PollAsync(ct);
            if (Last is { State: not PipelineRunState.Running }) return Last;
            await Task.Delay(500, ct);
        }
        return null;
    }

    private async Task PollAsync(CancellationToken ct)
    {
        var now = DateTimeOffset.UtcNow;
        try
        {
            var status = await _api.GetRunAsync(_pipelineRunId, ct);
            Last = status;
            if (now > Fault && ReferenceSet && now >= Reference) ApiBack ??= now;
            if (status.State != PipelineRunState.Running) Ended ??= now;
            if (ReferenceSet && now >= Reference)
                foreach (var p in status.Processes.Where(p => _first.ContainsKey(p.ProcessId) && p.State is ProcessRunState.Succeeded or ProcessRunState.Failed))
                    _progressed.TryAdd(p.ProcessId, now);
        }
        catch (Exception e) when (e is FerryApiException or HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            return;
        }
        if (!ReferenceSet || now < Reference) return;
        if (_progressed.Count < _first.Count)
        {
            try
            {
                var list = await _api.GetProcessesAsync(ct);
                foreach (var e in list.Processes.Where(e => e.Answered && e.Status is not null && _first.ContainsKey(e.ProcessId) && !_progressed.ContainsKey(e.ProcessId)))
                {
                    var s = e.Status!;
                    var key = (s.Node, s.Step, s.Progress?.RowsDone ?? -1);
                    if (_first[e.ProcessId] is not { } seen) _first[e.ProcessId] = key;
                    else if (seen != key) _progressed[e.ProcessId] = now;
                }
            }
            catch (Exception e) when (e is FerryApiException or HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
            }
        }
        if (WatchedAddress is { } address && (Downed is null || RegionGone is null))
        {
            try
            {
                if (Downed is null)
                {
                    var cluster = await _api.GetClusterAsync(ct);
                    var member = cluster.Members.FirstOrDefault(m => m.Address == address);
                    if (member is null || member.Status is "down" or "removed" or "exiting") Downed = now;
                }
                if (RegionGone is null)
                {
                    var sharding = await _api.GetShardingAsync(ct);
                    // Gone from the shard coordinator's regions (a killed node is still listed, with failed shards, until it is removed).
                    if (Downed is not null && !sharding.Regions.SelectMany(r => r.Nodes).Any(n => n.Address == address)) RegionGone = now;
                }
            }
            catch (Exception e) when (e is FerryApiException or HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
            }
        }
    }
}
