using Ferry.Coordinator.Api;
using Ferry.Shared.Metadata;
using Ferry.Shared.Postgres;
using Ferry.Tests.Infrastructure;

namespace Ferry.Tests.Reliability;

/// <summary>The coordinator's probe of the target database, which explains a silent runner or entity to the operator.</summary>
public class TargetHealthTests
{
    [Fact]
    public async Task A_reachable_target_has_no_problem()
    {
        var cs = await TestPostgres.CreateDatabaseAsync("health");
        var target = await TestPostgres.ConnectionAsync("target", cs);
        Assert.Null(await new TargetHealth(Migration(target)).ProblemAsync(CancellationToken.None));
    }

    [Fact]
    public async Task An_unreachable_target_is_named_with_its_cause_and_never_its_password()
    {
        var variable = $"FERRY_TEST_HEALTH_{Guid.NewGuid():N}";
        Environment.SetEnvironmentVariable(variable, "s3cr3t-Value-7");
        var port = LocalPostgres.FreeLoopbackPort();   // nothing listens there
        var target = new PgConnection("target", "127.0.0.1", port, "unipacc", "ferry", new SecretRef(variable));

        var problem = await new TargetHealth(Migration(target)).ProblemAsync(CancellationToken.None);

        Assert.NotNull(problem);
        Assert.StartsWith($"target database 127.0.0.1:{port}/unipacc is unreachable: ", problem);
        Assert.DoesNotContain("s3cr3t-Value-7", problem);
    }

    private static MigrationMetadata Migration(PgConnection target) =>
        new("/nonexistent", new Dictionary<string, PgConnection>(), target,
            new ObjectStoreConfig(ObjectStoreKind.Filesystem, "/nonexistent"), []);
}
