using Ferry.Shared.Processes;
using Prometheus;

namespace Ferry.Shared.Metrics;

/// <summary>
/// Every metric Ferry exports, defined once. Static prometheus-net metrics in the default registry rather than an
/// instance in DI: the entities, the pipeline runner and the cluster gauge are created by Akka, not by the container,
/// and a standalone node (both roles) or a node that rejoins as a new actor system stays one process with one set of
/// counters, which is what a scrape of that process should see. Labels are bounded by the metadata (process ids,
/// pipeline names, sources) or by small enums: never a run id.
/// </summary>
public static class FerryMetrics
{
    // First of all fields (initializers run in order): the defaults must be suppressed before the first metric is registered.
    // The .NET meters (Npgsql's among them) label series with connection names and endpoints: not Ferry's to export.
    private static readonly bool MetersSuppressed = SuppressMeters();

    private static readonly double[] DurationBuckets = Histogram.ExponentialBuckets(0.1, 2.5, 14);   // 0.1 s … about 4 days

    private static readonly Counter RunsStartedTotal = Prometheus.Metrics.CreateCounter("ferry_runs_started_total", "Runs started, by process kind and process", "kind", "process");
    private static readonly Counter RunsSucceededTotal = Prometheus.Metrics.CreateCounter("ferry_runs_succeeded_total", "Runs that ended well", "kind", "process");
    private static readonly Counter RunsFailedTotal = Prometheus.Metrics.CreateCounter("ferry_runs_failed_total", "Runs that failed (cancelled runs included)", "kind", "process");
    private static readonly Gauge ActiveRuns = Prometheus.Metrics.CreateGauge("ferry_active_runs", "Runs in progress on this node", "kind");

    private static readonly Counter RowsExtractedTotal = Prometheus.Metrics.CreateCounter("ferry_rows_extracted_total", "Rows extracted from the source into object storage", "process");
    private static readonly Counter RowsLoadedTotal = Prometheus.Metrics.CreateCounter("ferry_rows_loaded_total", "Rows loaded from object storage into the target", "process");
    private static readonly Counter RowsInsertedTotal = Prometheus.Metrics.CreateCounter("ferry_rows_inserted_total", "Rows a merge inserted", "process");
    private static readonly Counter RowsUpdatedTotal = Prometheus.Metrics.CreateCounter("ferry_rows_updated_total", "Rows a merge updated (their content changed)", "process");
    private static readonly Counter RowsDeletedTotal = Prometheus.Metrics.CreateCounter("ferry_rows_deleted_total", "Rows a merge marked deleted", "process");
    private static readonly Counter FilesTotal = Prometheus.Metrics.CreateCounter("ferry_files_total", "Files a files process handled, by outcome (copied, skipped, failed)", "process", "outcome");

    private static readonly Histogram StepDuration = Prometheus.Metrics.CreateHistogram("ferry_step_duration_seconds", "How long a completed step of a run took",
        new HistogramConfiguration { LabelNames = ["kind", "step"], Buckets = DurationBuckets });

    private static readonly Counter PipelineRunsTotal = Prometheus.Metrics.CreateCounter("ferry_pipeline_runs_total", "Pipeline runs that ended, by outcome (succeeded, failed, cancelled)", "pipeline", "outcome");
    private static readonly Histogram PipelineRunDuration = Prometheus.Metrics.CreateHistogram("ferry_pipeline_run_duration_seconds", "How long a pipeline run took from start to end",
        new HistogramConfiguration { LabelNames = ["pipeline"], Buckets = DurationBuckets });
    private static readonly Gauge SourceSlotsInUse = Prometheus.Metrics.CreateGauge("ferry_source_slots_in_use", "Processes holding one of a source's slots", "source");
    private static readonly Gauge SourceSlotsLimit = Prometheus.Metrics.CreateGauge("ferry_source_slots_limit", "A source's limit of processes at once (max_concurrent_extracts)", "source");

    private static readonly Gauge ProcessEntities = Prometheus.Metrics.CreateGauge("ferry_process_entities", "Process entities living on this node, by kind", "kind");
    private static readonly Gauge ScheduleLag = Prometheus.Metrics.CreateGauge("ferry_schedule_lag_seconds",
        "How late the last scheduled start of a pipeline was, from its cron time to its start", "pipeline");

    private static readonly Gauge ClusterMembers = Prometheus.Metrics.CreateGauge("ferry_cluster_members", "Cluster members as this node sees them, by status", "status");
    private static readonly Gauge ClusterUnreachableMembers = Prometheus.Metrics.CreateGauge("ferry_cluster_unreachable_members", "Members this node's failure detector finds unreachable");

    /// <summary>Member statuses always exported, so a status with no member shows 0 instead of vanishing.</summary>
    public static readonly string[] MemberStatuses = ["joining", "weaklyup", "up", "leaving", "exiting", "down", "removed"];

    private static bool SuppressMeters()
    {
        Prometheus.Metrics.SuppressDefaultMetrics(new SuppressDefaultMetricOptions { SuppressMeters = true, SuppressEventCounters = true });
        return true;
    }

    /// <summary>Called at a node's start, so Ferry's metrics (and the suppression above) exist before the first scrape.</summary>
    public static bool Registered => MetersSuppressed;

    public static string KindLabel(ProcessKind kind) => kind.ToString().ToLowerInvariant();

    /// <summary>
    /// A process entity persisted <paramref name="e"/> in a command handler (never during recovery, so a recovered
    /// entity counts nothing twice): the run's counters move.
    /// </summary>
    public static void Persisted(ProcessKind kind, string processId, IProcessEvent e)
    {
        var k = KindLabel(kind);
        switch (e)
        {
            case RunStarted:
                RunsStartedTotal.WithLabels(k, processId).Inc();
                break;
            case Extracted x:
                RowsExtractedTotal.WithLabels(processId).Inc(x.Manifest.TotalRows);
                break;
            case Loaded l:
                RowsLoadedTotal.WithLabels(processId).Inc(l.Rows);
                break;
            case RunSucceeded ok:
                RunsSucceededTotal.WithLabels(k, processId).Inc();
                RowsInsertedTotal.WithLabels(processId).Inc(ok.Counts.Inserted);
                RowsUpdatedTotal.WithLabels(processId).Inc(ok.Counts.Updated);
                RowsDeletedTotal.WithLabels(processId).Inc(ok.Counts.Deleted);
                Files(processId, ok.Files);
                break;
            case RunFailed failed:
                RunsFailedTotal.WithLabels(k, processId).Inc();
                Files(processId, failed.Files);
                break;
        }
    }

    private static void Files(string processId, Files.FileCopyCounts? files)
    {
        if (files is null) return;
        FilesTotal.WithLabels(processId, "copied").Inc(files.Copied);
        FilesTotal.WithLabels(processId, "skipped").Inc(files.Skipped);
        FilesTotal.WithLabels(processId, "failed").Inc(files.Failed);
    }

    public static void StepCompleted(ProcessKind kind, string step, double seconds) =>
        StepDuration.WithLabels(KindLabel(kind), step).Observe(Math.Max(0, seconds));

    /// <summary>The active-runs gauge of one entity: begun when a run starts or resumes here, ended when it finishes or the entity stops.</summary>
    public static ActiveRunMark ActiveRun(ProcessKind kind) => new(ActiveRuns.WithLabels(KindLabel(kind)));

    /// <summary>A pipeline run ended; a run of ad-hoc targets (process ids, patterns, several names) is labelled <c>targets</c>, so typed targets add no series.</summary>
    public static void PipelineRunFinished(string name, string outcome, TimeSpan took)
    {
        var pipeline = PipelineLabel(name);
        PipelineRunsTotal.WithLabels(pipeline, outcome).Inc();
        PipelineRunDuration.WithLabels(pipeline).Observe(Math.Max(0, took.TotalSeconds));
    }

    /// <summary>A pipeline's or group's name (no dot, no space: process ids always have dots) or <c>targets</c>.</summary>
    public static string PipelineLabel(string name) => name.Contains(' ') || name.Contains('.') || name.Contains('*') ? "targets" : name;

    /// <summary>A scheduled pipeline run started <paramref name="lag"/> after its cron time.</summary>
    public static void ScheduledStart(string pipeline, TimeSpan lag) => ScheduleLag.WithLabels(pipeline).Set(Math.Max(0, lag.TotalSeconds));

    /// <summary>One process entity living on this node: counted from now until <see cref="EntityMark.Gone"/>.</summary>
    public static EntityMark Entity(ProcessKind kind) => new(ProcessEntities.WithLabels(KindLabel(kind)));

    public static void SourceSlots(string source, int inUse, int limit)
    {
        SourceSlotsInUse.WithLabels(source).Set(inUse);
        SourceSlotsLimit.WithLabels(source).Set(limit);
    }

    public static void Cluster(IReadOnlyDictionary<string, int> membersByStatus, int unreachable)
    {
        foreach (var status in MemberStatuses.Union(membersByStatus.Keys))
            ClusterMembers.WithLabels(status).Set(membersByStatus.TryGetValue(status, out var n) ? n : 0);
        ClusterUnreachableMembers.Set(unreachable);
    }

    /// <summary>One entity's share of <c>ferry_process_entities</c>; <see cref="Gone"/> is idempotent.</summary>
    public sealed class EntityMark
    {
        private readonly Gauge.Child _gauge;
        private bool _gone;

        public EntityMark(Gauge.Child gauge)
        {
            _gauge = gauge;
            gauge.Inc();
        }

        public void Gone()
        {
            if (_gone) return;
            _gone = true;
            _gauge.Dec();
        }
    }

    /// <summary>One entity's share of <c>ferry_active_runs</c>: Begin and End are idempotent, so a resumed or stopped entity never counts twice.</summary>
    public sealed class ActiveRunMark(Gauge.Child gauge)
    {
        private bool _active;

        public void Begin()
        {
            if (_active) return;
            _active = true;
            gauge.Inc();
        }

        public void End()
        {
            if (!_active) return;
            _active = false;
            gauge.Dec();
        }
    }
}
