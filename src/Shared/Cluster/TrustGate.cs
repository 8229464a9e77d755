using Akka.Actor;
using Akka.Cluster;
using Akka.Event;

namespace Ferry.Shared.Cluster;

/// <summary>Why the node stopped: the cluster refused it (<see cref="TrustGate"/>); the refusal is in <see cref="Refusal"/>.</summary>
public sealed class TrustRefusedReason(string refusal) : CoordinatedShutdown.Reason
{
    public string Refusal { get; } = refusal;
    public override int ExitCode => 4;
    public override string ToString() => Refusal;
}

/// <summary>
/// The node's join check. Akka.NET has no join-config compatibility check (the JVM's
/// JoinConfigCompatChecker), so Ferry joins by hand: before joining, a node shows its
/// <see cref="NodeCredentials"/> to the gates of its seed nodes and joins only once one admits it; a
/// refused node stops (<see cref="TrustRefusedReason"/>) having run nothing. Both sides log what differs.
/// A node that joined without being admitted (the first seed founding the cluster alone, or a node that
/// skipped the check) is challenged by every older member once it is Up, and downed if its credentials
/// differ or it does not answer: the established cluster wins, the newcomer goes.
/// </summary>
public sealed class TrustGate : ReceiveActor, IWithTimers
{
    public const string Name = "ferry-trust";

    private static readonly TimeSpan RoundTimeout = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan ChallengeTimeout = TimeSpan.FromSeconds(10);
    private const int ChallengeAttempts = 3;

    private sealed record JoinRound;
    private sealed record ChallengeTimedOut(UniqueAddress Member);

    private readonly NodeCredentials _own;
    private readonly IReadOnlyList<Address> _seeds;
    private readonly Akka.Cluster.Cluster _cluster = Akka.Cluster.Cluster.Get(Context.System);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<Address, (UniqueAddress Member, int Attempts)> _challenges = [];
    private bool _joining;

    public ITimerScheduler Timers { get; set; } = null!;

    public TrustGate(NodeCredentials own, IReadOnlyList<string> seeds)
    {
        _own = own;
        var self = _cluster.SelfAddress;
        _seeds = seeds.Select(s => ParseSeed(self, s)).ToList();
        Receive<TrustHello>(OnHello);
        Receive<TrustVerdict>(OnVerdict);
        Receive<JoinRound>(_ => StartRound());
        Receive<ClusterEvent.MemberUp>(up => Challenge(up.Member));
        Receive<ChallengeTimedOut>(OnChallengeTimedOut);
        Receive<ClusterEvent.IMemberEvent>(_ => { });
        Receive<ClusterEvent.CurrentClusterState>(_ => { });
    }

    protected override void PreStart()
    {
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.MemberUp));
        StartRound();
    }

    protected override void PostStop() => _cluster.Unsubscribe(Self);

    private static Address ParseSeed(Address self, string hostPort)
    {
        var colon = hostPort.LastIndexOf(':');
        return new Address(self.Protocol, self.System, hostPort[..colon], int.Parse(hostPort[(colon + 1)..]));
    }

    private static ActorSelection GateAt(ActorSystem system, Address node) => system.ActorSelection(new RootActorPath(node) / "user" / Name);

    /// <summary>
    /// One round of asking the seeds. The first seed founds the cluster when no other seed answers (as
    /// Akka's own seed process does); any other node keeps asking, up to
    /// akka.cluster.shutdown-after-unsuccessful-join-seed-nodes.
    /// </summary>
    private void StartRound()
    {
        if (_joining) return;
        var self = _cluster.SelfAddress;
        var others = _seeds.Where(s => s != self).ToList();
        if (others.Count == 0) { Join("this node is the only seed"); return; }
        if (_seeds[0] == self && _rounds > 0) { Join("no other seed answered; this node is the first seed and founds the cluster"); return; }
        var giveUp = _cluster.Settings.ShutdownAfterUnsuccessfulJoinSeedNodes;
        if (giveUp is { } limit && _rounds * RoundTimeout >= limit)
        {
            _log.Error("No seed node answered in {0} ({1}): stopping", limit, string.Join(", ", others));
            _joining = true;
            CoordinatedShutdown.Get(Context.System).Run(CoordinatedShutdown.ClusterJoinUnsuccessfulReason.Instance);
            return;
        }
        _rounds++;
        foreach (var seed in others)
            GateAt(Context.System, seed).Tell(new TrustHello(_own));
        Timers.StartSingleTimer("round", new JoinRound(), RoundTimeout);
    }

    private int _rounds;

    private void Join(string why)
    {
        if (_joining) return;
        _joining = true;
        Timers.Cancel("round");
        _log.Info("Joining the cluster through seeds {0} ({1})", string.Join(", ", _seeds), why);
        _cluster.JoinSeedNodes(_seeds);
    }

    /// <remarks>
    /// A node shows its proof only to the seeds it was told to join (its join hello) and to an older member
    /// that challenges it; a gate answering a join shows none, so a stranger who knocks learns nothing it
    /// could replay. (The proof does not change between handshakes: across machines, TLS keeps it off the wire.)
    /// </remarks>
    private void OnHello(TrustHello hello)
    {
        var from = Sender.Path.Address;
        var older = _cluster.State.Members.FirstOrDefault(m => m.Address == from);
        // A member that shows no proof is challenging this node (which may not see itself Up yet).
        var challenged = hello.Credentials.Proof is null && older is not null;
        var refusal = _own.Differences(hello.Credentials, proofs: !challenged);
        if (refusal is not null)
        {
            if (challenged && _cluster.SelfMember.Status == MemberStatus.Up && older!.IsOlderThan(_cluster.SelfMember))
            {
                // An older member challenged this node and disagrees: this node is the one that goes.
                Refuse($"refused by the cluster member {from}: {refusal}");
                return;
            }
            _log.Warning("Refusing node {0}: {1}", from, refusal);
        }
        Sender.Tell(new TrustVerdict(challenged ? _own : _own.WithoutProof(), refusal, _cluster.SelfMember.Status == MemberStatus.Up));
    }

    private void OnVerdict(TrustVerdict verdict)
    {
        var from = Sender.Path.Address;
        if (_challenges.Remove(from, out var challenged))
        {
            // The newcomer answered a challenge with its proof: judge all of it.
            if (_own.Proof is not null && verdict.Credentials.Proof is null && verdict.Refusal is null)
            {
                // It took the challenge for a join (it did not know this node as a member yet): the timer asks again.
                _challenges[from] = challenged;
                return;
            }
            Timers.Cancel(("challenge", from));
            var wrong = verdict.Refusal ?? _own.Differences(verdict.Credentials);
            if (wrong is null) return;
            _log.Warning("Downing {0}: it joined without being admitted and {1}", from, wrong);
            _cluster.Down(challenged.Member.Address);
            return;
        }
        // A seed's answer to this node's join: it judged the proof; judge the rest too, a gate must never decide alone.
        var refusal = verdict.Refusal ?? _own.Differences(verdict.Credentials, proofs: false);
        if (refusal is null)
            Join($"admitted by {from}");
        else if (verdict.FromMember)
            Refuse($"refused by the cluster at {from}: {refusal}");
        else
            _log.Warning("Seed {0} disagrees ({1}) but is not in a cluster itself yet: asking the seeds again", from, refusal);
    }

    private void Challenge(Member member)
    {
        var self = _cluster.SelfMember;
        if (member.UniqueAddress == self.UniqueAddress || self.Status != MemberStatus.Up || !self.IsOlderThan(member)) return;
        _challenges[member.Address] = (member.UniqueAddress, 1);
        GateAt(Context.System, member.Address).Tell(new TrustHello(_own.WithoutProof()));
        Timers.StartSingleTimer(("challenge", member.Address), new ChallengeTimedOut(member.UniqueAddress), ChallengeTimeout);
    }

    private void OnChallengeTimedOut(ChallengeTimedOut timedOut)
    {
        var address = timedOut.Member.Address;
        if (!_challenges.TryGetValue(address, out var pending) || pending.Member != timedOut.Member) return;
        if (_cluster.State.Members.All(m => m.UniqueAddress != timedOut.Member)) { _challenges.Remove(address); return; }
        if (pending.Attempts < ChallengeAttempts)
        {
            _challenges[address] = (pending.Member, pending.Attempts + 1);
            GateAt(Context.System, address).Tell(new TrustHello(_own.WithoutProof()));
            Timers.StartSingleTimer(("challenge", address), timedOut, ChallengeTimeout);
            return;
        }
        _challenges.Remove(address);
        _log.Warning("Downing {0}: it joined without being admitted and did not show its credentials in {1} attempts", address, ChallengeAttempts);
        _cluster.Down(address);
    }

    private void Refuse(string refusal)
    {
        _log.Error("This node may not join: {0}", refusal);
        Timers.CancelAll();
        _joining = true;
        CoordinatedShutdown.Get(Context.System).Run(new TrustRefusedReason(refusal));
    }
}
