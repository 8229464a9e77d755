using Akka.Actor;
using Xunit.Abstractions;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using Ferry.Coordinator.Pipelines;
using Ferry.Shared.Metadata;
using Ferry.Shared.History;
using Ferry.Shared.Processes;
using Ferry.Shared.Stg;
using Ferry.Tests.Processes;
using Ferry.Tests.Stg;
using Ferry.Worker.Processes;

namespace Ferry.Tests.Pipelines;

/// <summary>The runner driving the real process entities, on a real PostgreSQL.</summary>
public class PipelineRunnerIntegrationTests(ITestOutputHelper output) : TestKit(Config, output: output)
{
    private static readonly Config Config = EntityTesting.InMemory("max-retries = 1, min-backoff = 100ms, max-backoff = 400ms");

    private static readonly TimeSpan Long = TimeSpan.FromSeconds(90);

    /// <summary>What the shard region does for one node: one entity per process id, created by its first message.</summary>
    private sealed class LocalProcessRegion : ReceiveActor
    {
        public LocalProcessRegion(ProcessServices services)
        {
            Receive<IProcessCommand>(c =>
            {
                var entity = Context.Child(c.ProcessId);
                if (entity.IsNobody())
                    entity = Context.ActorOf(Props.Create(() => new ProcessActor(c.ProcessId, services)), c.ProcessId);
                entity.Forward(c);
            });
        }
    }

    [Fact]
    public async Task A_pipeline_of_two_groups_runs_the_real_process_entities_to_the_end_and_STG_equals_the_source()
    {
        await using var bed = await StgTestBed.CreateAsync("pipelinerun");
        await bed.ExecSourceAsync("""
            CREATE TABLE countries (id int PRIMARY KEY, code text NOT NULL, name text);
            INSERT INTO countries SELECT g, 'C' || g, CASE WHEN g % 3 = 0 THEN NULL ELSE 'country ' || g END FROM generate_series(1, 40) g;
            CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, created_at timestamptz NOT NULL);
            INSERT INTO users SELECT g, 'u' || g || '@example.org', timestamptz '2025-01-01' + g * interval '1 hour' FROM generate_series(1, 120) g;
            CREATE TABLE reports (id int PRIMARY KEY, user_id bigint NOT NULL, amount numeric(12,2), tags text[]);
            INSERT INTO reports SELECT g, g % 120 + 1, g * 1.25, ARRAY['a', 'b' || g] FROM generate_series(1, 75) g;
            """);
        var countries = StgTestBed.Table("countries", ["id"]);
        var users = StgTestBed.Table("users", ["id"]);
        var reports = StgTestBed.Table("reports", ["id"]);
        var parents = new ProcessGroup("parents", ["stg.src.countries", "stg.src.users"], [countries.ProcessId, users.ProcessId]);
        var children = new ProcessGroup("children", ["stg.src.reports"], [reports.ProcessId]);
        var metadata = bed.Metadata(countries, users, reports) with
        {
            Pipelines = [new PipelineDefinition("stg", [new PipelineStep([parents]), new PipelineStep([children])])],
        };
        var services = new ProcessServices(metadata, bed.Store, new RunHistory(bed.TargetConnectionString));
        var region = Sys.ActorOf(Props.Create(() => new LocalProcessRegion(services)), "processes");
        var runner = Sys.ActorOf(PipelineRunner.Create(metadata, region, pollInterval: TimeSpan.FromSeconds(1)), "pipeline-runner");
        services.RunFinishedListener = runner;

        var accepted = await runner.Ask<PipelineRunAccepted>(new RunTargets(["stg"], RunMode.Bulk, RequestedBy: "test"), Long);
        PipelineRunStatus status;
        var deadline = DateTime.UtcNow + Long;
        do
        {
            await Task.Delay(200);
            status = await runner.Ask<PipelineRunStatus>(new GetPipelineRun(accepted.PipelineRunId), Long);
        }
        while (status.State == PipelineRunState.Running && DateTime.UtcNow < deadline);

        Assert.Equal(PipelineRunState.Succeeded, status.State);
        Assert.Equal([[countries.ProcessId, users.ProcessId], [reports.ProcessId]], accepted.Plan);
        var results = status.Processes.ToDictionary(p => p.ProcessId, p => p.Result!);
        Assert.Equal(new MergeCounts(40, 0, 0, 0), results[countries.ProcessId].Counts);
        Assert.Equal(new MergeCounts(120, 0, 0, 0), results[users.ProcessId].Counts);
        Assert.Equal(new MergeCounts(75, 0, 0, 0), results[reports.ProcessId].Counts);
        Assert.All(results.Values, r => Assert.Equal(accepted.PipelineRunId, r.PipelineRunId));
        Assert.True(results[reports.ProcessId].StartedAt >= results.Values.Where(r => r != results[reports.ProcessId]).Max(r => r.FinishedAt),
            "the second group started after the first ended");
        await bed.AssertStgEqualsSourceAsync("countries", "src_countries", ["id", "code", "name"], "id");
        await bed.AssertStgEqualsSourceAsync("users", "src_users", ["id", "email", "created_at"], "id");
        await bed.AssertStgEqualsSourceAsync("reports", "src_reports", ["id", "user_id", "amount", "tags"], "id");
    }
}
