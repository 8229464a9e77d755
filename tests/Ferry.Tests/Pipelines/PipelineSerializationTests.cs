using System.Collections.Immutable;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using Ferry.Coordinator.Pipelines;
using Ferry.Shared.Processes;
using Ferry.Shared.Serialization;
using Ferry.Shared.Stg;

namespace Ferry.Tests.Pipelines;

public class PipelineSerializationTests : TestKit
{
    private static readonly DateTimeOffset At = new(2025, 3, 1, 2, 0, 0, TimeSpan.Zero);
    private static readonly RunSummary Summary = new("20250301T020001Z-abc123", RunMode.Incremental, At, At.AddMinutes(3), true, 1200,
        new MergeCounts(10, 2, 1, 1187), null, "pl-20250301T020000Z-0a1b2c");

    private static readonly IPipelineEvent[] Events =
    [
        new PipelineRunStarted("pl-1", "nightly", RunMode.Bulk, true, [["stg.qvp.users", "stg.svp.users"], ["stg.qvp.reports"]], "schedule", At, At),
        new PipelineRunStarted("pl-2", "stg.qvp.*", RunMode.Incremental, null, [["stg.qvp.users"]], "api", At),
        new ProcessRunStartedInPipeline("pl-1", "stg.qvp.users", "20250301T020001Z-abc123", At),
        new ProcessFinishedInPipeline("pl-1", "stg.qvp.users", true, Summary, null, At),
        new ProcessFinishedInPipeline("pl-1", "stg.svp.users", false, null, "stg.svp.users: not started: no such process in the metadata", At),
        new PipelineRunFinished("pl-1", PipelineRunState.Failed, "1 of 3 processes failed: stg.svp.users", At),
        new ScheduledRunSkipped("nightly", At, "pl-1", At),
        new PipelineRunStarted("pl-3", "bl.*", RunMode.Incremental, null, [["bl.unipacc.users"], ["bl.unipacc.reports"]], "api", At, null,
            new Dictionary<string, IReadOnlyList<string>> { ["bl.unipacc.reports"] = ["bl.unipacc.users"] }),
        new ProcessFinishedInPipeline("pl-3", "bl.unipacc.users", false, null, "bl.unipacc.users: transform failed: boom", At),
        new ProcessSkippedInPipeline("pl-3", "bl.unipacc.reports", "skipped: bl.unipacc.users failed", At),
    ];

    public static TheoryData<IFerryMessage> Persisted()
    {
        var data = new TheoryData<IFerryMessage>();
        foreach (var e in Events) data.Add(e);
        return data;
    }

    private static byte[] Json(FerrySerializer serializer, object message) => serializer.ToBinary(message);

    [Theory]
    [MemberData(nameof(Persisted))]
    public void Every_event_of_the_runner_survives_a_round_trip_through_the_serializer(IFerryMessage message)
    {
        var serializer = new FerrySerializer((ExtendedActorSystem)Sys, ProcessMessages.Types.Union(PipelineMessages.Types));

        var manifest = serializer.Manifest(message);
        var back = serializer.FromBinary(Json(serializer, message), manifest);

        Assert.StartsWith("ev-", manifest);
        Assert.IsType(message.GetType(), back);
        Assert.Equal(Json(serializer, message), Json(serializer, back));
    }

    [Fact]
    public void The_snapshot_of_the_runner_survives_a_round_trip_and_replays_to_the_same_state()
    {
        var serializer = new FerrySerializer((ExtendedActorSystem)Sys, ProcessMessages.Types.Union(PipelineMessages.Types));
        var state = Events.Aggregate(PipelineRunnerState.Empty, (s, e) => s.Apply(e));

        var back = (PipelineRunnerState)serializer.FromBinary(Json(serializer, state), serializer.Manifest(state));

        Assert.Equal("snap-pipeline-runner", serializer.Manifest(state));
        Assert.Equal(Json(serializer, state), Json(serializer, back));
        var run = back.Find("pl-1")!;
        Assert.Equal(PipelineRunState.Failed, run.State);
        Assert.Equal(Summary.Counts, run.Processes["stg.qvp.users"].Result!.Counts);
        Assert.Equal(ProcessRunState.Pending, run.Processes["stg.qvp.reports"].State);
        Assert.Equal(1, run.CurrentStage());
        Assert.True(back.Find("pl-2")!.IsActive);
        Assert.Equal(At, back.LastScheduled["nightly"]);
        Assert.IsType<ImmutableDictionary<string, PipelineProcess>>(run.Processes);
        var skipping = back.Find("pl-3")!;
        Assert.Equal(["bl.unipacc.users"], skipping.Upstream!["bl.unipacc.reports"]);
        Assert.Equal((ProcessRunState.Skipped, "skipped: bl.unipacc.users failed"),
            (skipping.Processes["bl.unipacc.reports"].State, skipping.Processes["bl.unipacc.reports"].Error));
        Assert.Equal(2, skipping.CurrentStage());
    }

    [Fact]
    public void The_runner_keeps_the_last_hundred_runs_but_never_drops_one_still_running()
    {
        var state = PipelineRunnerState.Empty.Apply(new PipelineRunStarted("pl-running", "long", RunMode.Bulk, null, [["stg.a.t1"]], "api", At));
        for (var i = 0; i < 150; i++)
        {
            state = state.Apply(new PipelineRunStarted($"pl-{i}", $"p{i}", RunMode.Bulk, null, [["stg.a.t1"]], "api", At))
                .Apply(new PipelineRunFinished($"pl-{i}", PipelineRunState.Succeeded, null, At));
        }

        Assert.Equal(PipelineRunnerState.KeptRuns, state.Runs.Count);
        Assert.NotNull(state.Find("pl-running"));
        Assert.Equal("pl-149", state.Runs[^1].PipelineRunId);
        Assert.Null(state.Find("pl-50"));
    }

    [Fact]
    public void Events_and_snapshots_written_before_stages_were_named_so_still_read()
    {
        var serializer = new FerrySerializer((ExtendedActorSystem)Sys, ProcessMessages.Types.Union(PipelineMessages.Types));
        // As the version that called stages "groups" wrote them.
        const string oldEvent = """
            {"pipelineRunId":"pl-1","name":"nightly","mode":"Bulk","keySweep":true,"groups":[["stg.qvp.users","stg.svp.users"],["stg.qvp.reports"]],
             "requestedBy":"schedule","at":"2025-03-01T02:00:00+00:00","scheduledFor":"2025-03-01T02:00:00+00:00"}
            """;
        const string oldSnapshot = """
            {"runs":[{"pipelineRunId":"pl-1","name":"nightly","mode":"Bulk","keySweep":null,"groups":[["stg.a.t1"],["stg.a.t2"]],
              "requestedBy":"api","startedAt":"2025-03-01T02:00:00+00:00","scheduledFor":null,"state":"Running","finishedAt":null,"reason":null,
              "processes":{"stg.a.t1":{"processId":"stg.a.t1","group":0,"state":"Succeeded","runId":"r-1","result":null,"error":null},
                           "stg.a.t2":{"processId":"stg.a.t2","group":1,"state":"Pending","runId":null,"result":null,"error":null}}}],
             "lastScheduled":{"nightly":"2025-03-01T02:00:00+00:00"}}
            """;

        var started = (PipelineRunStarted)serializer.FromBinary(System.Text.Encoding.UTF8.GetBytes(oldEvent), "ev-pipeline-run-started");
        var state = (PipelineRunnerState)serializer.FromBinary(System.Text.Encoding.UTF8.GetBytes(oldSnapshot), "snap-pipeline-runner");
        var written = System.Text.Encoding.UTF8.GetString(Json(serializer, state));

        Assert.Equal([["stg.qvp.users", "stg.svp.users"], ["stg.qvp.reports"]], started.Stages);
        var run = state.Find("pl-1")!;
        Assert.Equal([["stg.a.t1"], ["stg.a.t2"]], run.Stages);
        Assert.Equal(1, run.Processes["stg.a.t2"].Stage);
        Assert.Equal(1, run.CurrentStage());
        Assert.Equal([0, 1], run.ToStatus().Processes.Select(p => p.Stage));
        Assert.Contains("\"groups\":", written);
        Assert.Contains("\"stage\":1", written);
        Assert.DoesNotContain("\"group\":", written);
    }

    [Fact]
    public void Events_and_snapshots_written_before_processes_were_skipped_still_read_and_skip_nothing()
    {
        var serializer = new FerrySerializer((ExtendedActorSystem)Sys, ProcessMessages.Types.Union(PipelineMessages.Types));
        // As the version before upstream processes were recorded wrote them: no "upstream".
        const string oldEvent = """
            {"pipelineRunId":"pl-1","name":"bl.*","mode":"Incremental","keySweep":null,"groups":[["bl.unipacc.users"],["bl.unipacc.reports"]],
             "requestedBy":"api","at":"2025-03-01T02:00:00+00:00","scheduledFor":null}
            """;
        const string oldSnapshot = """
            {"runs":[{"pipelineRunId":"pl-1","name":"bl.*","mode":"Incremental","keySweep":null,"groups":[["bl.unipacc.users"],["bl.unipacc.reports"]],
              "requestedBy":"api","startedAt":"2025-03-01T02:00:00+00:00","scheduledFor":null,"state":"Running","finishedAt":null,"reason":null,
              "processes":{"bl.unipacc.users":{"processId":"bl.unipacc.users","stage":0,"state":"Failed","runId":"r-1","result":null,"error":"boom"},
                           "bl.unipacc.reports":{"processId":"bl.unipacc.reports","stage":1,"state":"Pending","runId":null,"result":null,"error":null}}}],
             "lastScheduled":{}}
            """;

        var started = (PipelineRunStarted)serializer.FromBinary(System.Text.Encoding.UTF8.GetBytes(oldEvent), "ev-pipeline-run-started");
        var state = (PipelineRunnerState)serializer.FromBinary(System.Text.Encoding.UTF8.GetBytes(oldSnapshot), "snap-pipeline-runner");
        var replayed = PipelineRunnerState.Empty.Apply(started).Apply(new ProcessFinishedInPipeline("pl-1", "bl.unipacc.users", false, null, "boom", At));

        Assert.Null(started.Upstream);
        Assert.Null(state.Find("pl-1")!.Upstream);
        Assert.Null(state.Find("pl-1")!.SkipReason("bl.unipacc.reports"));
        Assert.Null(replayed.Find("pl-1")!.SkipReason("bl.unipacc.reports"));
        Assert.Equal(["bl.unipacc.reports"], state.Find("pl-1")!.PendingNow());
    }
}
