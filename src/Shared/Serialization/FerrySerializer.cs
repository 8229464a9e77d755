using System.Text.Json;
using System.Text.Json.Serialization;
using Akka.Actor;
using Akka.Serialization;
using Ferry.Shared.Processes;

namespace Ferry.Shared.Serialization;

/// <summary>Marker for what Ferry sends between nodes or writes to the journal.</summary>
public interface IFerryMessage;

/// <summary>
/// JSON (System.Text.Json) for every message that crosses nodes and every persisted event, with a
/// short, stable manifest per type: renaming or moving a C# type never breaks a stored journal, as long
/// as its alias stays. Adding a type means adding it to <see cref="Types"/> (the round-trip test covers every one).
/// </summary>
public sealed class FerrySerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    /// <summary>Akka reserves 0–100; never change this once journals exist.</summary>
    public const int Id = 4711;

    public static readonly IReadOnlyDictionary<string, Type> Types = new Dictionary<string, Type>
    {
        ["start-run"] = typeof(StartRun),
        ["run-accepted"] = typeof(RunAccepted),
        ["run-rejected"] = typeof(RunRejected),
        ["get-process-status"] = typeof(GetProcessStatus),
        ["process-status"] = typeof(ProcessStatus),
        ["cancel-run"] = typeof(CancelRun),
        ["cancel-accepted"] = typeof(CancelAccepted),
        ["process-run-finished"] = typeof(ProcessRunFinished),
        ["ev-run-started"] = typeof(RunStarted),
        ["ev-extracted"] = typeof(Extracted),
        ["ev-loaded"] = typeof(Loaded),
        ["ev-files-listed"] = typeof(FilesListed),
        ["ev-run-succeeded"] = typeof(RunSucceeded),
        ["ev-run-failed"] = typeof(RunFailed),
        ["snap-process"] = typeof(ProcessSnapshot),
        ["run-targets"] = typeof(RunTargets),
        ["pipeline-run-accepted"] = typeof(PipelineRunAccepted),
        ["pipeline-run-rejected"] = typeof(PipelineRunRejected),
        ["get-pipeline-run"] = typeof(GetPipelineRun),
        ["list-pipeline-runs"] = typeof(ListPipelineRuns),
        ["cancel-pipeline-run"] = typeof(CancelPipelineRun),
        ["pipeline-run-status"] = typeof(PipelineRunStatus),
        ["pipeline-run-list"] = typeof(PipelineRunList),
        ["pipeline-run-not-found"] = typeof(PipelineRunNotFound),
    };

    private static readonly Dictionary<Type, string> Aliases = Types.ToDictionary(kv => kv.Value, kv => kv.Key);
    private static readonly Dictionary<string, Type> Extra = new();

    /// <summary>Lets another assembly (the coordinator's persisted events) add its types at start-up, before any message flows.</summary>
    public static void Register(string alias, Type type)
    {
        lock (Extra)
        {
            Extra[alias] = type;
            Aliases[type] = alias;
        }
    }

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
    };

    public override int Identifier => Id;

    public override string Manifest(object o) =>
        Aliases.TryGetValue(o.GetType(), out var alias) ? alias
            : throw new ArgumentException($"{o.GetType()} has no alias in FerrySerializer.Types");

    public override byte[] ToBinary(object obj) => JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), Json);

    public override object FromBinary(byte[] bytes, string manifest)
    {
        var type = Types.GetValueOrDefault(manifest) ?? Extra.GetValueOrDefault(manifest)
            ?? throw new System.Runtime.Serialization.SerializationException($"unknown message alias '{manifest}'");
        return JsonSerializer.Deserialize(bytes, type, Json)!;
    }
}
