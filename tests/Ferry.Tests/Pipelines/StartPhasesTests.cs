using Ferry.Coordinator.Pipelines;

namespace Ferry.Tests.Pipelines;

public class StartPhasesTests
{
    [Fact]
    public void After_recovery_the_pending_processes_of_each_current_stage_are_checked_before_anything_starts()
    {
        var state = PipelineRunnerState.Empty
            .Started("pl-1", ["stg.a.t1", "stg.a.t2", "stg.a.t3"], ["stg.a.t4"]).Running("pl-1", "stg.a.t1").Finished("pl-1", "stg.a.t2")
            .Started("pl-2", ["stg.a.t1"]).Finished("pl-2", "stg.a.t1");

        var phases = StartPhases.Recovered(state);

        Assert.Equal([new ProcessInRun("pl-1", "stg.a.t3")], phases.Phases.Keys);
        Assert.Equal(StartPhase.Unchecked, phases[new ProcessInRun("pl-1", "stg.a.t3")]);
    }

    [Fact]
    public void Unchecked_and_busy_processes_are_the_ones_to_check_and_a_run_that_ended_waits_for_none()
    {
        var phases = StartPhases.None
            .Phase("pl-1", "stg.a.t1", StartPhase.Unchecked).Phase("pl-1", "stg.a.t2", StartPhase.Busy)
            .Phase("pl-1", "stg.a.t3", StartPhase.Starting).Phase("pl-2", "stg.a.t2", StartPhase.Busy);

        Assert.Equal(3, phases.ToCheck().Count);
        Assert.Equal(2, phases.BusyWith("stg.a.t2").Count);
        Assert.True(phases.StartingElsewhere(new ProcessInRun("pl-2", "stg.a.t3")));
        Assert.False(phases.StartingElsewhere(new ProcessInRun("pl-1", "stg.a.t3")));
        Assert.Equal([new ProcessInRun("pl-2", "stg.a.t2")], phases.WithoutRun("pl-1").Phases.Keys);
    }
}
