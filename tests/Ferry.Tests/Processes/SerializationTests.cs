using Akka.Actor;
using Akka.Configuration;
using Akka.Serialization;
using Akka.TestKit.Xunit2;
using Ferry.Shared.Processes;
using Ferry.Shared.Serialization;
using Ferry.Shared.Stg;

namespace Ferry.Tests.Processes;

/// <summary>Every message that crosses nodes, and every persisted event, survives Ferry's serializer unchanged.</summary>
public class SerializationTests() : TestKit(ConfigurationFactory.ParseString(Infrastructure.TestSerializer.Hocon))
{
    private static readonly DateTimeOffset At = new(2026, 11, 25, 10, 30, 15, 123, TimeSpan.Zero);

    private static readonly Manifest SampleManifest = new(
        "stg.qvp.users", "20261125T103015Z-abc123", "qvp", "public.users", "qvp_users", RunMode.Incremental, false,
        new CdcBounds("window", At.AddDays(-7), ["created_at", "updated_at"], null), At,
        [new ColumnSpec("id", "bigint", "bigint"), new ColumnSpec("status", "request_status", "text")], ["id"],
        [new PartInfo("part-00000.csv.gz", 42, 1234, "ab12", "id in [-inf, +inf)")], new PartInfo("keys.csv.gz", 100, 300, "cd34"),
        "deleted_at", At, ExtractSettings.Pinned);

    private static readonly RunSummary Summary = new("20261125T103015Z-abc123", RunMode.Bulk, At, At.AddMinutes(2), true, 42,
        new MergeCounts(1, 2, 3, 36), null, "p-1");

    public static IEnumerable<object[]> Messages() => new object[]
    {
        new StartRun("stg.qvp.users", RunMode.Bulk, true, "p-1"),
        new RunAccepted("stg.qvp.users", "r-1"),
        new RunRejected("stg.qvp.users", "busy", "r-0"),
        new GetProcessStatus("stg.qvp.users"),
        new ProcessStatus("stg.qvp.users", ProcessStep.Loading, "r-1", RunMode.Incremental, At, 2, "boom", Summary, Summary with { Succeeded = false, Error = "x" }, "akka.tcp://ferry@127.0.0.1:4054",
            new StepProgress("stg.qvp.users", ProcessStep.Loading, 1_200_000, 5_000_000, 73_400_320)),
        new CancelRun("stg.qvp.users"),
        new CancelAccepted("stg.qvp.users", null),
        new ProcessRunFinished("stg.qvp.users", Summary),
        new RunStarted("r-1", RunMode.Incremental, null, At, null),
        new Extracted("r-1", SampleManifest, TimeSpan.FromSeconds(3.5)),
        new Loaded("r-1", 42, new MergeCounts(42, 0, 0, 0), TimeSpan.FromMilliseconds(1500)),
        new FilesListed("r-2", 1234, At, TimeSpan.FromSeconds(2)),
        new RunSucceeded("r-2", MergeCounts.Zero, At, new Ferry.Shared.Files.FileCopyCounts(1200, 30, 0)),
        new RunFailed("r-2", "4 of 1,234 files failed", At, new Ferry.Shared.Files.FileCopyCounts(1200, 30, 4)),
        new RunSucceeded("r-1", new MergeCounts(1, 2, 3, 4), At),
        new RunFailed("r-1", "stg.qvp.users: load failed: part-00003.csv.gz is truncated", At),
        new ProcessSnapshot(Summary, Summary with { Succeeded = false, Error = "x", Files = new Ferry.Shared.Files.FileCopyCounts(1, 2, 3) }),
        new ProcessSnapshot(null, null),
        new RunTargets(["nightly", "stg.qvp.*"], RunMode.Bulk, false, "cli"),
        new PipelineRunAccepted("p-1", "nightly", [["stg.qvp.users", "stg.qvp.reports"], ["stg.svp.users"]]),
        new PipelineRunRejected("already running", "p-0"),
        new GetPipelineRun("p-1"),
        new ListPipelineRuns(5),
        new CancelPipelineRun("p-1"),
        new PipelineRunStatus("p-1", "nightly", RunMode.Incremental, PipelineRunState.Running, At, null, 1, 2,
            [new PipelineProcess("stg.qvp.users", 0, ProcessRunState.Succeeded, "r-1", Summary, null)]),
        new PipelineRunList([]),
        new PipelineRunNotFound("p-9"),
        new Ferry.Shared.Cluster.NodeCredentials("127.0.0.1:5432/unipacc", "3f2a", "9c1d"),
        new Ferry.Shared.Cluster.TrustHello(new Ferry.Shared.Cluster.NodeCredentials("127.0.0.1:5432/unipacc", "3f2a", null)),
        new Ferry.Shared.Cluster.TrustVerdict(new Ferry.Shared.Cluster.NodeCredentials("127.0.0.1:5432/unipacc", "3f2a", "9c1d"), "target database differs", true),
    }.Select(m => new[] { m });

    [Theory]
    [MemberData(nameof(Messages))]
    public void A_message_survives_a_round_trip_through_the_serializer_bound_to_it(object message)
    {
        var serializer = Sys.Serialization.FindSerializerFor(message);
        Assert.IsAssignableFrom<FerrySerializer>(serializer);
        var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, message);
        var bytes = serializer.ToBinary(message);
        var back = Sys.Serialization.Deserialize(bytes, serializer.Identifier, manifest);

        // Records compare by value, but collections inside them by reference: compare their JSON.
        Assert.Equal(message.GetType(), back.GetType());
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(message, message.GetType(), FerrySerializer.Json),
            System.Text.Json.JsonSerializer.Serialize(back, back.GetType(), FerrySerializer.Json));
    }

    /// <summary>Events as the version before snapshots wrote them to the journal: they still read, to the same values.</summary>
    public static IEnumerable<object[]> JournalledEvents() => new (string Alias, string Json, IProcessEvent Event)[]
    {
        ("ev-run-started", """{"runId":"r-1","mode":"Incremental","keySweep":true,"at":"2026-11-25T10:30:15.123+00:00","pipelineRunId":"p-1"}""",
            new RunStarted("r-1", RunMode.Incremental, true, At, "p-1")),
        ("ev-loaded", """{"runId":"r-1","rows":42,"mergedDirectly":null,"took":"00:00:01.5000000"}""", new Loaded("r-1", 42, null, TimeSpan.FromSeconds(1.5))),
        ("ev-files-listed", """{"runId":"r-2","rows":1234,"at":"2026-11-25T10:30:15.123+00:00","took":"00:00:02"}""",
            new FilesListed("r-2", 1234, At, TimeSpan.FromSeconds(2))),
        ("ev-run-succeeded", """{"runId":"r-1","counts":{"inserted":1,"updated":2,"deleted":3,"unchanged":4,"changed":6},"at":"2026-11-25T10:30:15.123+00:00","files":null}""",
            new RunSucceeded("r-1", new MergeCounts(1, 2, 3, 4), At)),
        ("ev-run-failed", """{"runId":"r-1","error":"boom","at":"2026-11-25T10:30:15.123+00:00","files":null}""", new RunFailed("r-1", "boom", At)),
    }.Select(c => new object[] { c.Alias, c.Json, c.Event });

    [Theory]
    [MemberData(nameof(JournalledEvents))]
    public void An_event_journalled_by_the_version_before_snapshots_still_reads(string alias, string json, IProcessEvent expected)
    {
        var serializer = (FerrySerializer)Sys.Serialization.FindSerializerForType(typeof(IProcessEvent));
        Assert.Equal(expected, serializer.FromBinary(System.Text.Encoding.UTF8.GetBytes(json), alias));
        Assert.Equal(json, System.Text.Encoding.UTF8.GetString(serializer.ToBinary(expected)));
    }

    [Fact]
    public void Every_type_the_serializer_knows_has_a_round_trip_sample()
    {
        var sampled = Messages().Select(m => m[0].GetType()).ToHashSet();
        var missing = SharedTypes.ByAlias.Values.Where(t => !sampled.Contains(t)).Select(t => t.Name).ToList();
        Assert.Empty(missing);
    }

    [Fact]
    public void Every_message_type_in_the_protocols_is_known_to_the_serializer()
    {
        var protocolTypes = typeof(IFerryMessage).Assembly.GetTypes()
            .Where(t => typeof(IFerryMessage).IsAssignableFrom(t) && t is { IsClass: true, IsAbstract: false });
        var unknown = protocolTypes.Where(t => !SharedTypes.ByType.ContainsKey(t)).Select(t => t.Name).ToList();
        Assert.Empty(unknown);
    }

    /// <summary>The message tables of the shared assembly: the protocols and the join handshake.</summary>
    private static readonly FerryMessageTypes SharedTypes = ProcessMessages.Types.Union(Ferry.Shared.Cluster.TrustMessages.Types);
}
