using Ferry.Shared.Verify;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Ferry.Coordinator.Api;

public sealed record VerificationList(IReadOnlyList<VerificationSummary> Verifications);

/// <summary>
/// /api/verifications: what verify processes recorded in ferry.verify_results. A verification is started like
/// any run (POST /api/runs with verify.* targets, or `ferry verify`); its id is the pipeline run's.
/// </summary>
public static class VerificationEndpoints
{
    public const int MaxListLimit = 500;

    public static void MapVerificationEndpoints(this IEndpointRouteBuilder api)
    {
        api.MapGet("/verifications", ListAsync);
        api.MapGet("/verifications/{id}", GetAsync);
    }

    private static async Task<IResult> ListAsync(int? limit, [FromServices] VerifyStore store, [FromServices] ILoggerFactory logs, CancellationToken ct)
    {
        if (limit is < 1 or > MaxListLimit)
            return ApiResults.Error(StatusCodes.Status400BadRequest, $"limit must be between 1 and {MaxListLimit}");
        return await Answer(logs, async () => ApiResults.Json(new VerificationList(await store.ListAsync(limit ?? 20, ct))), ct);
    }

    private static async Task<IResult> GetAsync(string id, [FromServices] VerifyStore store, [FromServices] ILoggerFactory logs, CancellationToken ct) =>
        await Answer(logs, async () => await store.GetAsync(id, ct) is { } verification
            ? ApiResults.Json(verification)
            : ApiResults.Error(StatusCodes.Status404NotFound, $"no verification {id} (ferry verify lists them: GET /api/verifications)"), ct);

    private static async Task<IResult> Answer(ILoggerFactory logs, Func<Task<IResult>> read, CancellationToken ct)
    {
        try
        {
            return await read();
        }
        catch (NpgsqlException e) when (!ct.IsCancellationRequested)
        {
            logs.CreateLogger(typeof(VerificationEndpoints)).LogWarning("verification query failed: {Error}", ApiResults.OneLine(e.Message));
            return ApiResults.Error(StatusCodes.Status503ServiceUnavailable, "the target database is unavailable; see the coordinator's log");
        }
    }
}
