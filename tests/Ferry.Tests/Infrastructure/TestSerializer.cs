using Akka.Actor;
using Ferry.Coordinator.Pipelines;
using Ferry.Shared.Processes;
using Ferry.Shared.Serialization;

namespace Ferry.Tests.Infrastructure;

/// <summary>
/// Ferry's serializer with every assembly's message table, for actor systems that tests configure in
/// HOCON (which names a serializer type and cannot hand it tables): the test assembly sees them all.
/// </summary>
public sealed class TestSerializer(ExtendedActorSystem system) : FerrySerializer(system, AllTypes)
{
    public static FerryMessageTypes AllTypes { get; } = ProcessMessages.Types.Union(PipelineMessages.Types).Union(Ferry.Shared.Cluster.TrustMessages.Types);

    /// <summary>The HOCON lines that bind it to every Ferry message.</summary>
    public const string Hocon = """
        akka.actor.serializers.ferry = "Ferry.Tests.Infrastructure.TestSerializer, Ferry.Tests"
        akka.actor.serialization-bindings { "Ferry.Shared.Serialization.IFerryMessage, Ferry.Shared" = ferry }
        """;
}
