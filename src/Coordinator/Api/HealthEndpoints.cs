using Akka.Actor;
using Akka.Cluster;
using Ferry.Shared.Cluster;
using Ferry.Shared.Metadata;
using Ferry.Shared.Processes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Npgsql;

namespace Ferry.Coordinator.Api;

/// <summary>One thing a health probe looked at: its name, whether it is fine, and in one line what was seen.</summary>
public sealed record HealthCheck(string Name, bool Ok, string Detail);

/// <summary>What /healthz and /readyz answer: "ok" only if every check is.</summary>
public sealed record HealthReport(string Status, IReadOnlyList<HealthCheck> Checks)
{
    public bool Ok => Status == "ok";

    public static HealthReport Of(IReadOnlyList<HealthCheck> checks) => new(checks.All(c => c.Ok) ? "ok" : "failing", checks);
}

/// <summary>
/// /healthz (no token, for service managers and compose): this node is an Up member of the cluster, the
/// target database answers, and the journal in it can be written. /readyz adds that the pipeline runner
/// answers, i.e. the coordinator can take a run now. Both answer 200 or 503 with the checks as JSON.
/// </summary>
public static class HealthEndpoints
{
    public const string ReadyPath = "/readyz";
    private static readonly TimeSpan RunnerPatience = TimeSpan.FromSeconds(3);

    public static void MapHealthEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(CoordinatorApi.HealthPath, ([FromServices] ActorSystem system, [FromServices] TargetHealth target,
            [FromServices] MigrationMetadata metadata, CancellationToken ct) => LiveAsync(system, target, metadata, ct));
        endpoints.MapGet(ReadyPath, async ([FromServices] ActorSystem system, [FromServices] TargetHealth target, [FromServices] MigrationMetadata metadata,
            [FromServices] ActorQueries actors, CancellationToken ct) =>
        {
            var checks = (await LiveChecksAsync(system, target, metadata, ct)).ToList();
            checks.Add(await RunnerAsync(actors, ct));
            return Answer(HealthReport.Of(checks));
        });
    }

    /// <summary>The /healthz answer of any node (the coordinator's API, every node's metrics port): 200 or 503 with the checks.</summary>
    public static async Task<IResult> LiveAsync(ActorSystem system, TargetHealth target, MigrationMetadata metadata, CancellationToken ct) =>
        Answer(HealthReport.Of(await LiveChecksAsync(system, target, metadata, ct)));

    private static IResult Answer(HealthReport report) =>
        ApiResults.Json(report, report.Ok ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);

    /// <summary>What /healthz checks: membership, target, journal.</summary>
    private static async Task<IReadOnlyList<HealthCheck>> LiveChecksAsync(ActorSystem system, TargetHealth target, MigrationMetadata metadata, CancellationToken ct)
    {
        var self = Akka.Cluster.Cluster.Get(system).SelfMember;
        var member = new HealthCheck("member", self.Status == MemberStatus.Up, $"{self.Address} is {self.Status.ToString().ToLowerInvariant()}");
        // One connection answers both: whether the target answers, and whether its journal can be written.
        var (journal, problem) = await target.ProbeAsync((conn, token) => JournalAsync(conn, metadata.Target.User, token), ct);
        var database = new HealthCheck("target", problem is null, problem ?? $"{metadata.Target.Host}:{metadata.Target.Port}/{metadata.Target.Database} answers");
        return [member, database, journal ?? new HealthCheck("journal", false, "not checked: the target database is unreachable")];
    }

    /// <summary>The journal is writable: its table exists, this user may insert into it, and the database is not a read-only standby.</summary>
    private static async Task<HealthCheck> JournalAsync(NpgsqlConnection conn, string user, CancellationToken ct)
    {
        const string table = FerryNode.JournalSchema + ".journal";
        await using var cmd = new NpgsqlCommand(
            "SELECT to_regclass($1) IS NOT NULL, pg_is_in_recovery(), to_regclass($1) IS NOT NULL AND has_table_privilege(to_regclass($1), 'INSERT')", conn);
        cmd.Parameters.Add(new NpgsqlParameter { Value = table });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return (reader.GetBoolean(0), reader.GetBoolean(1), reader.GetBoolean(2)) switch
        {
            (false, _, _) => new HealthCheck("journal", false, $"{table} does not exist (yet)"),
            (_, true, _) => new HealthCheck("journal", false, "the target database is a read-only standby"),
            (_, _, false) => new HealthCheck("journal", false, $"user {user} may not insert into {table}"),
            _ => new HealthCheck("journal", true, $"{table} is writable"),
        };
    }

    private static async Task<HealthCheck> RunnerAsync(ActorQueries actors, CancellationToken ct)
    {
        try
        {
            await actors.AskAsync<PipelineRunnerProxy>(new ListPipelineRuns(1), "the pipeline runner", ct, RunnerPatience);
            return new HealthCheck("pipeline runner", true, "answers");
        }
        catch (ClusterUnavailableException e)
        {
            return new HealthCheck("pipeline runner", false, e.Message);
        }
    }
}
