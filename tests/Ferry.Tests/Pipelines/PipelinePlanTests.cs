using Ferry.Coordinator.Pipelines;
using Ferry.Shared.Metadata;
using static Ferry.Tests.Pipelines.TestMigration;

namespace Ferry.Tests.Pipelines;

public class PipelinePlanTests
{
    private static readonly MigrationMetadata Metadata = Create(
        new Dictionary<string, int> { ["qvp"] = 2, ["svp"] = 2 },
        ["stg.qvp.users", "stg.qvp.reports", "stg.svp.users", "stg.svp.accounts"],
        new PipelineDefinition("stg", [
            new PipelineStep([new ProcessGroup("qvp", ["stg.qvp.*"], ["stg.qvp.users", "stg.qvp.reports"]),
                new ProcessGroup("svp", ["stg.svp.*"], ["stg.svp.users", "stg.svp.accounts"])]),
        ]),
        new PipelineDefinition("users_first", [
            new PipelineStep([new ProcessGroup("users", ["stg.*.users"], ["stg.qvp.users", "stg.svp.users"])]),
            new PipelineStep([new ProcessGroup("all", ["*"], ["stg.qvp.users", "stg.qvp.reports", "stg.svp.users", "stg.svp.accounts"])]),
        ], KeySweep: true));

    [Fact]
    public void A_pipeline_name_plans_its_steps_in_sequence_and_a_process_runs_only_in_the_first_step_naming_it()
    {
        var plan = PipelinePlan.Resolve(Metadata, ["users_first"]);

        Assert.Equal("users_first", plan.Name);
        Assert.Equal([["stg.qvp.users", "stg.svp.users"], ["stg.qvp.reports", "stg.svp.accounts"]], plan.Groups);
        Assert.True(plan.Pipeline!.KeySweep);
    }

    [Fact]
    public void A_step_of_two_groups_is_one_group_of_their_processes()
    {
        var plan = PipelinePlan.Resolve(Metadata, ["stg"]);

        Assert.Equal([["stg.qvp.users", "stg.qvp.reports", "stg.svp.users", "stg.svp.accounts"]], plan.Groups);
    }

    [Fact]
    public void A_group_name_is_one_group_and_consecutive_process_ids_or_patterns_are_another()
    {
        var plan = PipelinePlan.Resolve(Metadata, ["users", "stg.qvp.*", "stg.svp.accounts"]);

        Assert.Equal("users stg.qvp.* stg.svp.accounts", plan.Name);
        Assert.Equal([["stg.qvp.users", "stg.svp.users"], ["stg.qvp.reports", "stg.svp.accounts"]], plan.Groups);
        Assert.Null(plan.Pipeline);
    }

    [Fact]
    public void Nothing_to_run_and_unknown_names_are_errors_that_say_what_exists()
    {
        Assert.Equal("nothing to run: name a pipeline, a group or process ids (pipelines: stg, users_first; groups: qvp, svp, users, all)",
            Assert.Throws<ArgumentException>(() => PipelinePlan.Resolve(Metadata, [" "])).Message);
        Assert.Equal("no pipeline or group is named 'usres' (did you mean 'users'? pipelines: stg, users_first; groups: qvp, svp, users, all)",
            Assert.Throws<ArgumentException>(() => PipelinePlan.Resolve(Metadata, ["usres"])).Message);
        Assert.StartsWith("no process matches stg.qvp.nope",
            Assert.Throws<ArgumentException>(() => PipelinePlan.Resolve(Metadata, ["stg.qvp.nope"])).Message);
    }
}
