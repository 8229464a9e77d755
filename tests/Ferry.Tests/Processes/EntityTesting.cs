using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Ferry.Shared.Cluster;
using Ferry.Shared.Processes;
using Ferry.Shared.Stg;

namespace Ferry.Tests.Processes;

/// <summary>What the process-entity tests share: an actor system with Ferry's serializer and in-memory persistence, and "run it to the end".</summary>
public static class EntityTesting
{
    /// <param name="retries">
    /// The ferry.process block: retries and backoff of a failed step. Lost connections are retried by count here
    /// (retry-healable-for = 0s unless the block says otherwise): the tests stop sources on purpose and want the run
    /// to end after max-retries, not after the production default of 5 minutes.
    /// </param>
    public static Config Config(string retries = "max-retries = 2, min-backoff = 100ms, max-backoff = 400ms") => ConfigurationFactory.ParseString($$"""
        akka.loglevel = INFO
        {{Infrastructure.TestSerializer.Hocon}}
        akka.persistence.journal.plugin = "akka.persistence.journal.inmem"
        akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"
        ferry.process { retry-healable-for = 0s, {{retries}} }
        """);

    /// <summary>
    /// Journal and snapshots in memory only, with Akka's own serialization: for tests of actors whose
    /// persistence is not under test (the pipeline runner against a fake region).
    /// </summary>
    /// <param name="process">The ferry.process block, when real process entities run too.</param>
    public static Config InMemory(string? process = null) => ConfigurationFactory.ParseString($$"""
        akka.loglevel = INFO
        akka.persistence.journal.plugin = "akka.persistence.journal.inmem"
        akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"
        {{(process is null ? "" : $"ferry.process {{ retry-healable-for = 0s, {process} }}")}}
        """);

    /// <summary>Starts a run and waits until the entity is Idle again with that run as its last success or failure.</summary>
    public static async Task<ProcessStatus> RunToEndAsync(IActorRef entity, string processId, RunMode mode, TimeSpan timeout)
    {
        var accepted = await entity.Ask<RunAccepted>(new StartRun(processId, mode), timeout);
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var status = await entity.Ask<ProcessStatus>(new GetProcessStatus(processId), TimeSpan.FromSeconds(5));
            if (status.Step == ProcessStep.Idle && (status.LastSuccess?.RunId == accepted.RunId || status.LastFailure?.RunId == accepted.RunId))
                return status;
            await Task.Delay(50);
        }
        throw new TimeoutException($"{processId} did not finish run {accepted.RunId} within {timeout.TotalSeconds:0} s");
    }

    private static readonly TimeSpan Journaling = TimeSpan.FromSeconds(20);

    /// <summary>Writes events into the journal under a process's persistence id, as an entity (of this or an earlier version) would have left them.</summary>
    public static async Task JournalAsync(ActorSystem system, string processId, params IProcessEvent[] events)
    {
        var writer = system.ActorOf(Props.Create(() => new JournalWriter($"{ProcessSharding.TypeName}-{processId}", events)));
        Assert.Equal("written", await writer.Ask<string>("go", Journaling));
        await writer.GracefulStop(TimeSpan.FromSeconds(5));
    }

    /// <summary>The events still in the journal under a process's persistence id, read from the first one (snapshots ignored).</summary>
    public static async Task<int> JournalEventsAsync(ActorSystem system, string processId)
    {
        var reader = system.ActorOf(Props.Create(() => new JournalReader($"{ProcessSharding.TypeName}-{processId}")));
        var count = await reader.Ask<int>("count", Journaling);
        await reader.GracefulStop(TimeSpan.FromSeconds(5));
        return count;
    }

    private sealed class JournalWriter : ReceivePersistentActor
    {
        private readonly string _id;
        public override string PersistenceId => _id;

        public JournalWriter(string persistenceId, IReadOnlyList<IProcessEvent> events)
        {
            _id = persistenceId;
            Recover<object>(_ => { });
            Command<string>(_ => PersistAll(events, e => { if (ReferenceEquals(e, events[^1])) Sender.Tell("written"); }));
        }
    }

    private sealed class JournalReader : ReceivePersistentActor
    {
        private readonly string _id;
        private int _events;
        public override string PersistenceId => _id;
        public override Recovery Recovery => new(SnapshotSelectionCriteria.None);

        public JournalReader(string persistenceId)
        {
            _id = persistenceId;
            Recover<IProcessEvent>(_ => _events++);
            Command<string>(_ => Sender.Tell(_events));
        }
    }
}
