using Ferry.Worker.Stg;

namespace Ferry.Tests.Stg;

public class ReplayGuardTests
{
    private const string Older = "20261201T100000Z-aaaaaa";
    private const string Newer = "20261202T100000Z-000000";

    [Fact]
    public void Replaying_a_run_older_than_the_last_one_is_refused_with_the_rollback_named_unless_forced()
    {
        var refusal = ReplayGuard.Refusal("stg.qvp.users", Older, Newer, force: false);
        Assert.Equal($"stg.qvp.users: replaying run {Older} rolls STG back from run {Newer} to that run's content; pass --force to do it", refusal);
        Assert.Null(ReplayGuard.Refusal("stg.qvp.users", Older, Newer, force: true));
    }

    [Fact]
    public void Replaying_the_last_run_a_newer_one_or_into_an_empty_STG_needs_no_force()
    {
        Assert.Null(ReplayGuard.Refusal("stg.qvp.users", Newer, Newer, force: false));
        Assert.Null(ReplayGuard.Refusal("stg.qvp.users", Newer, Older, force: false));
        Assert.Null(ReplayGuard.Refusal("stg.qvp.users", Older, null, force: false));
        // Started in the same second: the random suffix orders nothing.
        Assert.Null(ReplayGuard.Refusal("stg.qvp.users", "20261202T100000Z-000000", "20261202T100000Z-ffffff", force: false));
    }
}
