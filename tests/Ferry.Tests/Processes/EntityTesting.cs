using Akka.Actor;
using Akka.Configuration;
using Ferry.Shared.Processes;
using Ferry.Shared.Stg;

namespace Ferry.Tests.Processes;

/// <summary>What the process-entity tests share: an actor system with Ferry's serializer and in-memory persistence, and "run it to the end".</summary>
public static class EntityTesting
{
    /// <param name="retries">The ferry.process block: retries and backoff of a failed step.</param>
    public static Config Config(string retries = "max-retries = 2, min-backoff = 100ms, max-backoff = 400ms") => ConfigurationFactory.ParseString($$"""
        akka.loglevel = INFO
        {{Infrastructure.TestSerializer.Hocon}}
        akka.persistence.journal.plugin = "akka.persistence.journal.inmem"
        akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.local"
        akka.persistence.snapshot-store.local.dir = "/tmp/ferry-test-snapshots"
        ferry.process { {{retries}} }
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
        {{(process is null ? "" : $"ferry.process {{ {process} }}")}}
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
}
