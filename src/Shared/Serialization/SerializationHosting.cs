using System.Runtime.CompilerServices;
using Akka.Hosting;
using Ferry.Shared.Processes;

namespace Ferry.Shared.Serialization;

/// <summary>
/// How a node binds Ferry's serializer: each assembly adds its own message table while the node is
/// configured, and the one serializer of the node (one identifier, so stored journals keep reading)
/// gets their union when the actor system creates it. Nothing is static: two nodes in one process
/// (tests) each have their own tables.
/// </summary>
public static class SerializationHosting
{
    public const string SerializerName = "ferry-json";

    private sealed class Tables
    {
        public FerryMessageTypes All = ProcessMessages.Types;
    }

    private static readonly ConditionalWeakTable<AkkaConfigurationBuilder, Tables> ByBuilder = new();

    /// <summary>
    /// Binds the serializer to <see cref="IFerryMessage"/> on the first call for a node (with the shared
    /// protocols' table), and adds <paramref name="types"/> to it; an alias claimed twice fails at start.
    /// </summary>
    public static AkkaConfigurationBuilder AddFerrySerialization(this AkkaConfigurationBuilder builder, FerryMessageTypes? types = null)
    {
        if (!ByBuilder.TryGetValue(builder, out var tables))
        {
            tables = ByBuilder.GetOrCreateValue(builder);
            builder.WithCustomSerializer(SerializerName, [typeof(IFerryMessage)], system => new FerrySerializer(system, tables.All));
        }
        if (types is not null) tables.All = tables.All.Union(types);
        return builder;
    }
}
