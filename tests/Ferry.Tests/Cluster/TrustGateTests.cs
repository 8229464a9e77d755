using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using Ferry.Shared.Cluster;
using Ferry.Shared.Postgres;

namespace Ferry.Tests.Cluster;

/// <summary>The gate of a running node, knocked on by a stranger: it answers, but gives nothing away that would let the stranger in.</summary>
public class TrustGateTests() : TestKit(ConfigurationFactory.ParseString($$"""
    akka.actor.provider = cluster
    akka.remote.dot-netty.tcp { hostname = 127.0.0.1, port = {{LocalPostgres.FreeLoopbackPort()}} }
    {{Infrastructure.TestSerializer.Hocon}}
    """))
{
    private static readonly string[] Processes = ["stg.qvp.users", "bl.unipacc.users"];

    [Fact]
    public void A_gate_answering_a_join_shows_no_proof_and_refuses_a_replayed_one()
    {
        var own = NodeCredentials.Of("db:5432/unipacc", Processes, "cluster-secret");
        var gate = Sys.ActorOf(Props.Create(() => new TrustGate(own, Array.Empty<string>())));

        // Knocking with no secret: refused, and the answer carries no proof to copy.
        gate.Tell(new TrustHello(NodeCredentials.Of("db:5432/unipacc", Processes, null)), TestActor);
        var first = ExpectMsg<TrustVerdict>(TimeSpan.FromSeconds(10));
        Assert.False(first.Admitted);
        Assert.Null(first.Credentials.Proof);

        // Presenting the only credentials it could have learned (those in the answer) gets it no further.
        gate.Tell(new TrustHello(first.Credentials), TestActor);
        Assert.False(ExpectMsg<TrustVerdict>(TimeSpan.FromSeconds(10)).Admitted);

        // The right secret is admitted.
        gate.Tell(new TrustHello(NodeCredentials.Of("db:5432/unipacc", Processes, "cluster-secret")), TestActor);
        Assert.True(ExpectMsg<TrustVerdict>(TimeSpan.FromSeconds(10)).Admitted);
    }
}
