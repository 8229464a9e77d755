using Ferry.Coordinator.Pipelines;
using static Ferry.Tests.Pipelines.TestMigration;

namespace Ferry.Tests.Pipelines;

public class SlotPlannerTests
{
    private static readonly PipelineRunnerState Empty = PipelineRunnerState.Empty;
    private static readonly StartPhases None = StartPhases.None;

    /// <summary>Processes stg.a.* and stg.b.*, sources a and b with these extract limits.</summary>
    private static SlotPlanner Planner(int a, int b = 4) =>
        SlotPlanner.Of(Create(new Dictionary<string, int> { ["a"] = a, ["b"] = b }, Ids("a", 6).Concat(Ids("b", 6))));

    private static ProcessInRun P(string run, string process) => new(run, process);

    [Fact]
    public void A_source_never_gets_more_processes_than_its_limit_even_across_two_runs()
    {
        var state = Empty.Started("pl-1", ["stg.a.t1", "stg.a.t2", "stg.a.t3", "stg.b.t1"]).Started("pl-2", ["stg.a.t4", "stg.b.t2"]);

        var plan = Planner(a: 2).Next(state, None);

        Assert.Equal([P("pl-1", "stg.a.t1"), P("pl-1", "stg.a.t2"), P("pl-1", "stg.b.t1"), P("pl-2", "stg.b.t2")], plan.Start);
    }

    [Fact]
    public void Processes_running_or_being_started_in_any_run_hold_their_source_slots()
    {
        var state = Empty.Started("pl-1", ["stg.a.t1", "stg.a.t2"]).Running("pl-1", "stg.a.t1").Started("pl-2", ["stg.a.t3", "stg.a.t4"]);
        var phases = None.Phase("pl-1", "stg.a.t2", StartPhase.Starting);

        Assert.Empty(Planner(a: 2).Next(state, phases).Start);
        Assert.Equal([P("pl-2", "stg.a.t3")], Planner(a: 3).Next(state, phases).Start);
    }

    [Fact]
    public void A_process_busy_with_a_run_the_runner_did_not_start_holds_a_slot_while_it_waits()
    {
        var state = Empty.Started("pl-1", ["stg.a.t1", "stg.a.t2"]);

        var busy = Planner(a: 1).Next(state, None.Phase("pl-1", "stg.a.t1", StartPhase.Busy));
        var checking = Planner(a: 1).Next(state, None.Phase("pl-1", "stg.a.t1", StartPhase.Checking));

        Assert.Empty(busy.Start);
        Assert.Empty(checking.Start);
    }

    [Fact]
    public void A_process_whose_status_is_unknown_is_not_started_before_it_is_checked()
    {
        var state = Empty.Started("pl-1", ["stg.a.t1"]);

        Assert.Empty(Planner(a: 4).Next(state, None.Phase("pl-1", "stg.a.t1", StartPhase.Unchecked)).Start);
    }

    [Fact]
    public void A_process_in_two_runs_runs_for_the_older_one_first()
    {
        var state = Empty.Started("pl-1", ["stg.a.t1"]).Started("pl-2", ["stg.a.t1", "stg.a.t2"]);
        var planner = Planner(a: 4);

        var first = planner.Next(state, None);
        var whileStarting = planner.Next(state, None.Phase("pl-1", "stg.a.t1", StartPhase.Starting));
        var whileRunning = planner.Next(state.Running("pl-1", "stg.a.t1"), None);
        var afterwards = planner.Next(state.Running("pl-1", "stg.a.t1").Finished("pl-1", "stg.a.t1"), None);

        Assert.Equal([P("pl-1", "stg.a.t1"), P("pl-2", "stg.a.t2")], first.Start);
        Assert.Equal([P("pl-2", "stg.a.t2")], whileStarting.Start);
        Assert.Equal([P("pl-2", "stg.a.t2")], whileRunning.Start);
        Assert.Equal([P("pl-2", "stg.a.t1"), P("pl-2", "stg.a.t2")], afterwards.Start);
    }

    [Fact]
    public void A_later_stage_waits_until_every_process_of_the_earlier_ones_finished_failed_or_not()
    {
        var state = Empty.Started("pl-1", ["stg.a.t1", "stg.a.t2"], ["stg.b.t1"]);
        var planner = Planner(a: 4);

        var first = planner.Next(state, None);
        var halfway = planner.Next(state.Running("pl-1", "stg.a.t1").Finished("pl-1", "stg.a.t1").Running("pl-1", "stg.a.t2"), None);
        var next = planner.Next(state.Finished("pl-1", "stg.a.t1").Finished("pl-1", "stg.a.t2", succeeded: false), None);

        Assert.Equal([P("pl-1", "stg.a.t1"), P("pl-1", "stg.a.t2")], first.Start);
        Assert.Empty(halfway.Start);
        Assert.Equal([P("pl-1", "stg.b.t1")], next.Start);
    }

    [Fact]
    public void A_process_without_a_source_or_whose_source_has_no_limit_is_not_limited()
    {
        var planner = new SlotPlanner(new Dictionary<string, string> { ["stg.x.t1"] = "x", ["stg.x.t2"] = "x" }, new Dictionary<string, int> { ["a"] = 1 });
        var state = Empty.Started("pl-1", ["bl.unipacc.users", "bl.unipacc.orders", "stg.x.t1", "stg.x.t2"]);

        var plan = planner.Next(state, None.Phase("pl-9", "bl.unipacc.reports", StartPhase.Busy));

        Assert.Equal(4, plan.Start.Count);
    }

    [Fact]
    public void A_run_whose_every_process_finished_is_complete_and_starts_nothing()
    {
        var state = Empty.Started("pl-1", ["stg.a.t1"], ["stg.a.t2"]).Finished("pl-1", "stg.a.t1").Finished("pl-1", "stg.a.t2", succeeded: false)
            .Started("pl-2", ["stg.a.t3"]);

        var plan = Planner(a: 4).Next(state, None);

        Assert.Equal(["pl-1"], plan.Complete);
        Assert.Equal([P("pl-2", "stg.a.t3")], plan.Start);
    }

    [Fact]
    public void Runs_that_ended_neither_start_anything_nor_hold_slots()
    {
        var state = Empty.Started("pl-1", ["stg.a.t1", "stg.a.t2"]).Running("pl-1", "stg.a.t1")
            .Apply(new PipelineRunFinished("pl-1", Ferry.Shared.Processes.PipelineRunState.Cancelled, "cancelled by request", RunnerStates.At))
            .Started("pl-2", ["stg.a.t3"]);

        var plan = Planner(a: 1).Next(state, None);

        Assert.Equal([P("pl-2", "stg.a.t3")], plan.Start);
        Assert.Empty(plan.Complete);
    }

    /// <summary>STG, then users (parent of requests), requests and a sibling without that parent, then reports (child of requests).</summary>
    private static PipelineRunnerState BlRun(string pipelineRunId, PipelineRunnerState? before = null) =>
        (before ?? Empty).StartedWith(pipelineRunId,
            new Dictionary<string, IReadOnlyList<string>>
            {
                ["bl.unipacc.requests"] = ["bl.unipacc.users"],
                ["bl.unipacc.reports"] = ["bl.unipacc.requests"],
            },
            ["stg.a.t1"], ["bl.unipacc.users", "bl.unipacc.organisations"], ["bl.unipacc.requests", "bl.unipacc.other"], ["bl.unipacc.reports"]);

    [Fact]
    public void A_failed_BL_parent_skips_its_child_and_then_its_grandchild_naming_the_parent()
    {
        var planner = Planner(a: 4);
        var failed = BlRun("pl-1").Finished("pl-1", "stg.a.t1").Finished("pl-1", "bl.unipacc.users", succeeded: false).Finished("pl-1", "bl.unipacc.organisations");

        var child = planner.Next(failed, None);
        var grandchild = planner.Next(failed.Skipped("pl-1", "bl.unipacc.requests", "skipped: bl.unipacc.users failed").Finished("pl-1", "bl.unipacc.other"), None);

        Assert.Equal([new ProcessSkip(P("pl-1", "bl.unipacc.requests"), "skipped: bl.unipacc.users failed")], child.Skip);
        Assert.Equal([new ProcessSkip(P("pl-1", "bl.unipacc.reports"), "skipped: bl.unipacc.users failed")], grandchild.Skip);
        Assert.Empty(grandchild.Start);
    }

    [Fact]
    public void A_sibling_without_the_failed_parent_still_runs()
    {
        var failed = BlRun("pl-1").Finished("pl-1", "stg.a.t1").Finished("pl-1", "bl.unipacc.users", succeeded: false).Finished("pl-1", "bl.unipacc.organisations");

        var plan = Planner(a: 4).Next(failed, None);

        Assert.Equal([P("pl-1", "bl.unipacc.other")], plan.Start);
        Assert.Empty(plan.Complete);
    }

    [Fact]
    public void A_run_whose_remaining_processes_were_skipped_is_complete()
    {
        var state = BlRun("pl-1").Finished("pl-1", "stg.a.t1").Finished("pl-1", "bl.unipacc.users", succeeded: false).Finished("pl-1", "bl.unipacc.organisations")
            .Skipped("pl-1", "bl.unipacc.requests", "skipped: bl.unipacc.users failed").Finished("pl-1", "bl.unipacc.other")
            .Skipped("pl-1", "bl.unipacc.reports", "skipped: bl.unipacc.users failed");

        var plan = Planner(a: 4).Next(state, None);

        Assert.Equal(["pl-1"], plan.Complete);
        Assert.Empty(plan.Skip);
    }

    [Fact]
    public void A_failed_STG_process_skips_no_BL_process()
    {
        var state = BlRun("pl-1").Finished("pl-1", "stg.a.t1", succeeded: false);

        var plan = Planner(a: 4).Next(state, None);

        Assert.Empty(plan.Skip);
        Assert.Equal([P("pl-1", "bl.unipacc.users"), P("pl-1", "bl.unipacc.organisations")], plan.Start);
    }

    [Fact]
    public void A_process_skipped_in_one_run_runs_normally_in_the_next()
    {
        var first = BlRun("pl-1").Finished("pl-1", "stg.a.t1").Finished("pl-1", "bl.unipacc.users", succeeded: false).Finished("pl-1", "bl.unipacc.organisations")
            .Skipped("pl-1", "bl.unipacc.requests", "skipped: bl.unipacc.users failed").Finished("pl-1", "bl.unipacc.other")
            .Skipped("pl-1", "bl.unipacc.reports", "skipped: bl.unipacc.users failed")
            .Apply(new PipelineRunFinished("pl-1", Ferry.Shared.Processes.PipelineRunState.Failed, "1 of 6 processes failed", RunnerStates.At));
        var second = BlRun("pl-2", first).Finished("pl-2", "stg.a.t1").Finished("pl-2", "bl.unipacc.users").Finished("pl-2", "bl.unipacc.organisations");

        var plan = Planner(a: 4).Next(second, None);

        Assert.Empty(plan.Skip);
        Assert.Equal([P("pl-2", "bl.unipacc.requests"), P("pl-2", "bl.unipacc.other")], plan.Start);
    }

    [Fact]
    public void A_process_with_a_start_under_way_is_not_skipped_until_it_is_known_not_to_run()
    {
        // After a restart the runner cannot know whether a StartRun reached it: its status is checked first.
        var failed = BlRun("pl-1").Finished("pl-1", "stg.a.t1").Finished("pl-1", "bl.unipacc.users", succeeded: false).Finished("pl-1", "bl.unipacc.organisations");

        var plan = Planner(a: 4).Next(failed, None.Phase("pl-1", "bl.unipacc.requests", StartPhase.Unchecked));

        Assert.Empty(plan.Skip);
    }
}
