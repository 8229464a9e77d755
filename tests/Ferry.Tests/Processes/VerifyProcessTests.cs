using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using Ferry.Shared.History;
using Ferry.Shared.Processes;
using Ferry.Shared.Stg;
using Ferry.Shared.Verify;
using Ferry.Tests.Stg;
using Ferry.Worker.Processes;

namespace Ferry.Tests.Processes;

/// <summary>A verify process as an entity on a real PostgreSQL: Idle → Verifying → Idle, its finding recorded under the verification.</summary>
public class VerifyProcessTests() : TestKit(Config)
{
    private static readonly Config Config = EntityTesting.Config();
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_verify_process_succeeds_on_an_equal_copy_and_fails_naming_the_key_once_STG_differs_and_records_both()
    {
        await using var bed = await StgTestBed.CreateAsync("vproc");
        var table = StgTestBed.Table("parts", ["id"]);
        await bed.ExecSourceAsync("CREATE TABLE parts (id int PRIMARY KEY, name text); INSERT INTO parts SELECT g, 'part ' || g FROM generate_series(1, 200) g");
        await bed.Process(table).RunAsync(table, RunMode.Bulk);
        var services = new ProcessServices(bed.Metadata(table), bed.Store, new RunHistory(bed.TargetConnectionString));
        const string id = "verify.src.parts";
        var entity = Sys.ActorOf(Props.Create(() => new ProcessActor(id, services)), "verify-parts");

        var equal = await EntityTesting.RunToEndAsync(entity, id, RunMode.Incremental, Long);
        Assert.Equal(ProcessStep.Idle, equal.Step);
        Assert.NotNull(equal.LastSuccess);
        Assert.Null(equal.LastFailure);

        await bed.ExecTargetAsync("DELETE FROM stg.src_parts WHERE id = 77");
        var differs = await EntityTesting.RunToEndAsync(entity, id, RunMode.Incremental, Long);
        Assert.Equal("1 difference (1 missing in STG): id=77", differs.LastFailure?.Error);

        // Each run is a verification of its own when no pipeline started it; both are kept, the newest first.
        var kept = await services.Verifications.ListAsync();
        Assert.Equal([differs.LastFailure!.RunId, equal.LastSuccess!.RunId], kept.Select(v => v.VerificationId));
        var found = await services.Verifications.GetAsync(differs.LastFailure.RunId);
        Assert.Equal(("id=77", DifferenceKind.Missing), (found!.Results[0].Items[0].Item, found.Results[0].Items[0].Kind));
        var history = await services.History.ListAsync(id);
        Assert.All(history, h => Assert.Equal("verifying", h.Step));
    }
}
