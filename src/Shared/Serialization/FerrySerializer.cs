using System.Text.Json;
using System.Text.Json.Serialization;
using Akka.Actor;
using Akka.Serialization;

namespace Ferry.Shared.Serialization;

/// <summary>Marker for what Ferry sends between nodes or writes to the journal.</summary>
public interface IFerryMessage;

/// <summary>
/// JSON (System.Text.Json) for every message that crosses nodes and every persisted event, with a
/// short, stable manifest per type: renaming or moving a C# type never breaks a stored journal, as long
/// as its alias stays. The types come from the tables the node's assemblies added
/// (<see cref="SerializationHosting.AddFerrySerialization"/>); a type without an alias is refused when sent.
/// </summary>
public class FerrySerializer(ExtendedActorSystem system, FerryMessageTypes types) : SerializerWithStringManifest(system)
{
    /// <summary>Akka reserves 0–100; never change this once journals exist.</summary>
    public const int Id = 4711;

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
    };

    public FerryMessageTypes Types { get; } = types;

    public override int Identifier => Id;

    public override string Manifest(object o) =>
        Types.ByType.TryGetValue(o.GetType(), out var alias) ? alias
            : throw new ArgumentException($"{o.GetType()} has no alias in the message tables this node was given (AddFerrySerialization)");

    public override byte[] ToBinary(object obj) => JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), Json);

    public override object FromBinary(byte[] bytes, string manifest)
    {
        var type = Types.ByAlias.GetValueOrDefault(manifest)
            ?? throw new System.Runtime.Serialization.SerializationException($"unknown message alias '{manifest}' (is the assembly that defines it added to this node?)");
        return JsonSerializer.Deserialize(bytes, type, Json)!;
    }
}
