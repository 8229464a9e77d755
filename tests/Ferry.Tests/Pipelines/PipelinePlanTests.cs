using Ferry.Coordinator.Pipelines;
using Ferry.Shared.Bl;
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
        Assert.Equal([["stg.qvp.users", "stg.svp.users"], ["stg.qvp.reports", "stg.svp.accounts"]], plan.Stages);
        Assert.True(plan.Pipeline!.KeySweep);
    }

    [Fact]
    public void A_step_of_two_groups_is_one_group_of_their_processes()
    {
        var plan = PipelinePlan.Resolve(Metadata, ["stg"]);

        Assert.Equal([["stg.qvp.users", "stg.qvp.reports", "stg.svp.users", "stg.svp.accounts"]], plan.Stages);
    }

    [Fact]
    public void A_group_name_is_one_group_and_consecutive_process_ids_or_patterns_are_another()
    {
        var plan = PipelinePlan.Resolve(Metadata, ["users", "stg.qvp.*", "stg.svp.accounts"]);

        Assert.Equal("users stg.qvp.* stg.svp.accounts", plan.Name);
        Assert.Equal([["stg.qvp.users", "stg.svp.users"], ["stg.qvp.reports", "stg.svp.accounts"]], plan.Stages);
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

    private static readonly MigrationMetadata WithBl = Metadata with
    {
        Transforms =
        [
            Transform("organisations"),
            Transform("users", "organisations"),
            Transform("requests"),
            Transform("reports"),
        ],
    };

    private static readonly (QualifiedName, QualifiedName, string)[] ForeignKeys =
    [
        (new QualifiedName("unipacc", "requests"), new QualifiedName("unipacc", "users"), "requests_requested_by_fkey"),
        (new QualifiedName("unipacc", "reports"), new QualifiedName("unipacc", "requests"), "reports_request_id_fkey"),
    ];

    [Fact]
    public void A_step_runs_its_BL_processes_after_its_STG_processes_level_by_level_by_depends_and_foreign_keys()
    {
        var plan = PipelinePlan.Resolve(WithBl, ["stg.qvp.*", "bl.*"], ForeignKeys);

        Assert.Equal([
            ["stg.qvp.users", "stg.qvp.reports"],
            ["bl.unipacc.organisations"],
            ["bl.unipacc.users"],              // declared: depends on organisations
            ["bl.unipacc.requests"],           // foreign key to users
            ["bl.unipacc.reports"],            // foreign key to requests
        ], plan.Stages);
        Assert.True(plan.HasTransforms(WithBl));
    }

    [Fact]
    public void The_plan_names_each_BL_process_s_BL_parents_by_depends_and_foreign_keys_and_no_STG_process()
    {
        var plan = PipelinePlan.Resolve(WithBl, ["stg.qvp.*", "bl.*"], ForeignKeys);

        Assert.Equal(new Dictionary<string, IReadOnlyList<string>>
        {
            ["bl.unipacc.users"] = ["bl.unipacc.organisations"],
            ["bl.unipacc.requests"] = ["bl.unipacc.users"],
            ["bl.unipacc.reports"] = ["bl.unipacc.requests"],
        }, plan.Upstream);
    }

    [Fact]
    public void A_BL_parent_left_out_of_the_plan_is_no_upstream_process_and_a_plan_without_BL_has_none()
    {
        var bl = PipelinePlan.Resolve(WithBl, ["bl.unipacc.reports", "bl.unipacc.users"], ForeignKeys);
        var stg = PipelinePlan.Resolve(WithBl, ["stg.qvp.*"], ForeignKeys);

        Assert.Empty(bl.Upstream);   // reports' parent requests is not run: its rows stay as they were
        Assert.Empty(stg.Upstream);
    }

    [Fact]
    public void Without_the_target_foreign_keys_only_declared_depends_order_the_BL()
    {
        var plan = PipelinePlan.Resolve(WithBl, ["bl.*"]);

        Assert.Equal([["bl.unipacc.organisations", "bl.unipacc.requests", "bl.unipacc.reports"], ["bl.unipacc.users"]], plan.Stages);
    }

    [Fact]
    public void A_dependency_cycle_among_the_transforms_is_an_error_naming_its_tables()
    {
        var cyclic = WithBl with { Transforms = [Transform("a", "b"), Transform("b", "a")] };

        var e = Assert.Throws<ArgumentException>(() => PipelinePlan.Resolve(cyclic, ["bl.*"]));

        Assert.Equal("the business layer cannot be ordered: dependency cycle: unipacc.a → unipacc.b → unipacc.a", e.Message);
    }

    [Fact]
    public void Only_the_BL_processes_named_are_planned_in_their_relative_order()
    {
        var plan = PipelinePlan.Resolve(WithBl, ["bl.unipacc.reports", "bl.unipacc.organisations"], ForeignKeys);

        Assert.Equal([["bl.unipacc.organisations"], ["bl.unipacc.reports"]], plan.Stages);
    }
}
