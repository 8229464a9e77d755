using Ferry.Shared.Files;
using Ferry.Shared.Processes;
using Ferry.Shared.Stg;
using Ferry.Worker.Processes;

namespace Ferry.Tests.Processes;

/// <summary>The entity's one pure function: every event moves the state one step, and an event that does not fit is an error.</summary>
public class ProcessStateTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 25, 10, 30, 0, TimeSpan.Zero);

    private static readonly Manifest Manifest = new(
        "stg.qvp.users", "r-1", "qvp", "public.users", "qvp_users", RunMode.Bulk, false,
        new CdcBounds("full", null, [], null), At,
        [new ColumnSpec("id", "bigint", "bigint")], ["id"],
        [new PartInfo("part-00000.csv.gz", 42, 1234, "ab12", "id in [-inf, +inf)")], null,
        null, At, ExtractSettings.Pinned);

    private static RunStarted Started(string runId = "r-1") => new(runId, RunMode.Bulk, true, At, "p-1");

    private static ProcessState Replay(ProcessKind kind, params IProcessEvent[] events) =>
        events.Aggregate(ProcessState.Initial(kind), (state, e) => state.Apply(e));

    private sealed record Unknown(string RunId) : IProcessEvent;

    [Fact]
    public void An_STG_run_goes_from_extracting_to_loading_to_merging_carrying_the_manifest_and_ends_in_a_success_summary()
    {
        var started = Replay(ProcessKind.Stg, Started());
        Assert.Equal(new StgRun("r-1", RunMode.Bulk, true, At, "p-1", ProcessStep.Extracting), started.Active);

        var loading = started.Apply(new Extracted("r-1", Manifest, TimeSpan.FromSeconds(1)));
        Assert.Equal(ProcessStep.Loading, loading.Step);
        Assert.Same(Manifest, ((StgRun)loading.Active!).Manifest);

        var merging = loading.Apply(new Loaded("r-1", 42, null, TimeSpan.FromSeconds(1)));
        Assert.Equal((ProcessStep.Merging, 42L), (merging.Step, ((StgRun)merging.Active!).LoadedRows));

        var done = merging.Apply(new RunSucceeded("r-1", new MergeCounts(40, 2, 0, 0), At.AddMinutes(1)));
        Assert.Equal(ProcessStep.Idle, done.Step);
        Assert.Equal(new RunSummary("r-1", RunMode.Bulk, At, At.AddMinutes(1), true, 42, new MergeCounts(40, 2, 0, 0), null, "p-1"), done.LastSuccess);
    }

    [Fact]
    public void A_BL_run_transforms_in_one_step_and_a_files_run_copies_what_it_listed()
    {
        var bl = Replay(ProcessKind.Bl, Started());
        Assert.Equal(new BlRun("r-1", RunMode.Bulk, At, "p-1"), bl.Active);
        Assert.Equal(ProcessStep.Idle, bl.Apply(new RunSucceeded("r-1", new MergeCounts(1, 0, 0, 0), At)).Step);

        var files = Replay(ProcessKind.Files, Started(), new FilesListed("r-1", 120, At.AddSeconds(5), TimeSpan.FromSeconds(5)));
        Assert.Equal(new FilesRun("r-1", RunMode.Bulk, At, "p-1", ProcessStep.Copying, 120, At.AddSeconds(5)), files.Active);
        var failed = files.Apply(new RunFailed("r-1", "3 of 120 files failed", At.AddMinutes(1), new FileCopyCounts(110, 7, 3)));
        Assert.Equal(("3 of 120 files failed", 3L, 0L), (failed.LastFailure!.Error, failed.LastFailure.Files!.Failed, failed.LastFailure.RowsExtracted));
    }

    [Fact]
    public void A_failure_in_any_step_ends_the_run_and_keeps_the_last_success()
    {
        var first = Replay(ProcessKind.Stg, Started("r-1"), new Extracted("r-1", Manifest, TimeSpan.Zero), new Loaded("r-1", 42, null, TimeSpan.Zero),
            new RunSucceeded("r-1", MergeCounts.Zero, At));
        var second = first.Apply(Started("r-2")).Apply(new RunFailed("r-2", "cancelled by request", At.AddHours(1)));

        Assert.Null(second.Active);
        Assert.Equal("r-1", second.LastSuccess!.RunId);
        Assert.Equal(("r-2", false, "cancelled by request"), (second.LastFailure!.RunId, second.LastFailure.Succeeded, second.LastFailure.Error));
    }

    public static IEnumerable<object[]> MisfitEvents() => new (string Why, ProcessKind Kind, IProcessEvent[] Before, IProcessEvent Event)[]
    {
        ("an event of another run", ProcessKind.Stg, [Started("r-1")], new Extracted("r-2", Manifest, TimeSpan.Zero)),
        ("a step out of order", ProcessKind.Stg, [Started("r-1")], new Loaded("r-1", 1, null, TimeSpan.Zero)),
        ("a success before the last step", ProcessKind.Stg, [Started("r-1")], new RunSucceeded("r-1", MergeCounts.Zero, At)),
        ("a step of another kind of process", ProcessKind.Bl, [Started("r-1")], new FilesListed("r-1", 1, At, TimeSpan.Zero)),
        ("a second start while a run is active", ProcessKind.Files, [Started("r-1")], Started("r-2")),
        ("an end while no run is active", ProcessKind.Stg, [], new RunFailed("r-1", "x", At)),
        ("an event type the state does not know", ProcessKind.Stg, [Started("r-1")], new Unknown("r-1")),
    }.Select(c => new object[] { c.Why, c.Kind, c.Before, c.Event });

    [Theory]
    [MemberData(nameof(MisfitEvents))]
    public void An_event_that_does_not_fit_the_state_is_an_error_not_ignored(string why, ProcessKind kind, IProcessEvent[] before, IProcessEvent e)
    {
        var state = Replay(kind, before);
        var error = Assert.Throws<InvalidOperationException>(() => state.Apply(e));
        Assert.Contains(e.GetType().Name, error.Message);
        _ = why;   // names the case in the test list
    }

    [Fact]
    public void A_snapshot_between_runs_restores_the_same_state_and_none_is_taken_during_a_run()
    {
        var state = Replay(ProcessKind.Files, Started("r-1"), new FilesListed("r-1", 3, At, TimeSpan.Zero),
            new RunSucceeded("r-1", MergeCounts.Zero, At, new FileCopyCounts(3, 0, 0)), Started("r-2"), new RunFailed("r-2", "boom", At));

        Assert.Equal(state, ProcessState.From(ProcessKind.Files, state.ToSnapshot()));
        Assert.Throws<InvalidOperationException>(() => state.Apply(Started("r-3")).ToSnapshot());
    }
}
