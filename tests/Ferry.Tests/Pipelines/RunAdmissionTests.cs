using Akka.Actor;
using Ferry.Coordinator.Pipelines;
using Ferry.Shared.Processes;
using Ferry.Shared.Stg;
using static Ferry.Tests.Pipelines.TestMigration;

namespace Ferry.Tests.Pipelines;

public class RunAdmissionTests
{
    private static readonly DateTimeOffset At = RunnerStates.At;

    private static readonly Ferry.Shared.Metadata.MigrationMetadata Metadata = Create(new Dictionary<string, int> { ["a"] = 2 }, Ids("a", 3),
        Pipeline("nightly", "0 2 * * *", ["stg.a.t1"], ["stg.a.t2"]) with { Mode = RunMode.Bulk, KeySweep = true },
        Pipeline("by-hand", null, ["stg.a.t3"]) with { KeySweep = true });

    private static readonly ScheduleClock Schedules = ScheduleClock.Of(Metadata, TimeSpan.FromSeconds(5));

    private static RunAdmission Admission(bool ordersByForeignKeys = false) => new(Metadata, Schedules, ordersByForeignKeys);

    private static PipelineRunRequest Requested(params string[] targets) =>
        new PipelineRunRequest.Requested(new RunTargets(targets, RunMode.Incremental, RequestedBy: "test"), ActorRefs.Nobody);

    private static PipelineRunRequest Scheduled(DateTimeOffset occurrence) => new PipelineRunRequest.Scheduled(new ScheduledStart("nightly", occurrence));

    [Fact]
    public void A_request_runs_in_its_own_mode_with_the_pipelines_key_sweep_unless_it_sets_one()
    {
        var start = Assert.IsType<Admission.Start>(Admission().Admit(Requested("by-hand"), PipelineRunnerState.Empty));
        var own = Assert.IsType<Admission.Start>(Admission().Admit(
            new PipelineRunRequest.Requested(new RunTargets(["by-hand"], RunMode.Bulk, KeySweep: false), ActorRefs.Nobody), PipelineRunnerState.Empty));

        Assert.Equal((RunMode.Incremental, (bool?)true, "test", (DateTimeOffset?)null), (start.Mode, start.KeySweep, start.RequestedBy, start.ScheduledFor));
        Assert.Equal([["stg.a.t3"]], start.Plan.Stages);
        Assert.Equal((RunMode.Bulk, (bool?)false), (own.Mode, own.KeySweep));
    }

    [Fact]
    public void A_scheduled_start_runs_in_the_pipelines_mode_and_key_sweep_for_its_occurrence()
    {
        var start = Assert.IsType<Admission.Start>(Admission().Admit(Scheduled(At), PipelineRunnerState.Empty));

        Assert.Equal((RunMode.Bulk, (bool?)true, "schedule", (DateTimeOffset?)At), (start.Mode, start.KeySweep, start.RequestedBy, start.ScheduledFor));
        Assert.Equal([["stg.a.t1"], ["stg.a.t2"]], start.Plan.Stages);
    }

    [Fact]
    public void A_pipeline_already_running_rejects_a_request_with_its_run_and_skips_a_scheduled_start()
    {
        var state = PipelineRunnerState.Empty.Apply(new PipelineRunStarted("pl-1", "nightly", RunMode.Bulk, null, [["stg.a.t1"]], "api", At));

        var rejected = Assert.IsType<Admission.Rejected>(Admission().Admit(Requested("nightly"), state));
        var skipped = Assert.IsType<Admission.Skipped>(Admission().Admit(Scheduled(At.AddDays(1)), state));

        Assert.Equal("pl-1", rejected.ActivePipelineRunId);
        Assert.Equal("nightly is already running as pl-1 (started 2025-03-01 02:00:00Z)", rejected.Reason);
        Assert.Equal("pl-1", skipped.Active.PipelineRunId);
    }

    [Fact]
    public void A_scheduled_start_handled_already_is_ignored()
    {
        var state = PipelineRunnerState.Empty.Apply(new ScheduledRunSkipped("nightly", At, "pl-0", At));

        Assert.IsType<Admission.Ignored>(Admission().Admit(Scheduled(At), state));
        Assert.IsType<Admission.Start>(Admission().Admit(Scheduled(At.AddDays(1)), state));
    }

    [Fact]
    public void Targets_that_name_nothing_are_rejected_with_the_reason()
    {
        var rejected = Assert.IsType<Admission.Rejected>(Admission().Admit(Requested("stg.x.*"), PipelineRunnerState.Empty));

        Assert.StartsWith("no process matches stg.x.*", rejected.Reason);
        Assert.Null(rejected.ActivePipelineRunId);
    }

    [Fact]
    public void Foreign_keys_are_asked_for_only_when_the_plan_holds_transforms_and_their_failure_rejects_the_run()
    {
        var request = Requested("by-hand");

        Assert.IsType<Admission.Start>(Admission(ordersByForeignKeys: true).Admit(request, PipelineRunnerState.Empty));
        var failed = Assert.IsType<Admission.Rejected>(Admission(ordersByForeignKeys: true)
            .Admit(request, PipelineRunnerState.Empty, new ForeignKeysRead(request, null, "connection refused")));
        Assert.Equal("cannot order the business layer: the target's foreign keys could not be read: connection refused", failed.Reason);
    }

    [Fact]
    public async Task Reading_foreign_keys_that_never_answer_ends_in_an_error_naming_the_timeout()
    {
        var request = Requested("by-hand");

        var read = await RunAdmission.ReadForeignKeysAsync(request, async ct =>
        {
            await Task.Delay(Timeout.Infinite, ct);
            return [];
        }, TimeSpan.FromSeconds(1));

        Assert.Same(request, read.Request);
        Assert.Null(read.Keys);
        Assert.Equal("no answer within 1 s", read.Error);
    }
}
