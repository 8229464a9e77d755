using System.Collections.Immutable;

namespace Ferry.Shared.Serialization;

/// <summary>
/// A table of message types by alias, immutable. Each assembly declares its own (the protocols here, the
/// process entity's snapshot in the worker, the runner's events in the coordinator) and adds it to a node
/// through <see cref="SerializationHosting.AddFerrySerialization"/>; the node's serializer gets the union.
/// An alias is what the journal stores, so it never changes once journals exist; the C# type may move.
/// </summary>
public sealed class FerryMessageTypes
{
    private FerryMessageTypes(ImmutableDictionary<string, Type> byAlias)
    {
        ByAlias = byAlias;
        ByType = byAlias.ToImmutableDictionary(kv => kv.Value, kv => kv.Key);
    }

    public static FerryMessageTypes Empty { get; } = new(ImmutableDictionary<string, Type>.Empty.WithComparers(StringComparer.Ordinal));

    public ImmutableDictionary<string, Type> ByAlias { get; }

    public ImmutableDictionary<Type, string> ByType { get; }

    /// <summary>A table of <paramref name="types"/>; an alias or a type given twice is an error.</summary>
    public static FerryMessageTypes Of(params (string Alias, Type Type)[] types) =>
        types.Aggregate(Empty, (table, t) => table.With(t.Alias, t.Type));

    public FerryMessageTypes With(string alias, Type type)
    {
        if (!typeof(IFerryMessage).IsAssignableFrom(type))
            throw new ArgumentException($"{type} is not an {nameof(IFerryMessage)}: Ferry's serializer is not bound to it");
        if (ByAlias.TryGetValue(alias, out var taken))
            throw new ArgumentException($"message alias '{alias}' is given to both {taken} and {type}");
        if (ByType.TryGetValue(type, out var other))
            throw new ArgumentException($"{type} has two aliases: '{other}' and '{alias}'");
        return new FerryMessageTypes(ByAlias.Add(alias, type));
    }

    /// <summary>Both tables in one; an alias or a type in both is an error (two assemblies claiming one name).</summary>
    public FerryMessageTypes Union(FerryMessageTypes other) =>
        other.ByAlias.Aggregate(this, (table, kv) => ReferenceEquals(table.ByAlias.GetValueOrDefault(kv.Key), kv.Value) ? table : table.With(kv.Key, kv.Value));
}
