using Ferry.Shared.Logging;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Ferry.Coordinator.Api;

/// <summary>A page of a run's kept log lines; ask again with after = <see cref="Next"/> to follow it.</summary>
public sealed record RunLogPage(string RunId, IReadOnlyList<RunLogLine> Lines, long Next, bool Running);

/// <summary>GET /api/runs/{id}/log: the lines kept for a process run (or every process run of a pipeline run), whichever node wrote them.</summary>
public static class LogEndpoints
{
    public static void MapLogEndpoints(this IEndpointRouteBuilder api) => api.MapGet("/runs/{id}/log", ReadAsync);

    private static async Task<IResult> ReadAsync(string id, long? after, int? limit, [FromServices] RunLog log, [FromServices] ILoggerFactory logs, CancellationToken ct)
    {
        if (limit is < 1 or > RunLog.MaxPage)
            return ApiResults.Error(StatusCodes.Status400BadRequest, $"limit must be between 1 and {RunLog.MaxPage}");
        if (after is < 0)
            return ApiResults.Error(StatusCodes.Status400BadRequest, "after must be 0 or more (the seq of the last line read)");
        try
        {
            // Running first: a line kept between the two reads is then read next time, never missed.
            var running = await log.IsRunningAsync(id, ct);
            var lines = await log.ReadAsync(id, after ?? 0, limit ?? RunLog.MaxPage, ct);
            return ApiResults.Json(new RunLogPage(id, lines, lines.Count > 0 ? lines[^1].Seq : after ?? 0, running));
        }
        catch (NpgsqlException e) when (!ct.IsCancellationRequested)
        {
            logs.CreateLogger(typeof(LogEndpoints)).LogWarning("run log query failed: {Error}", ApiResults.OneLine(e.Message));
            return ApiResults.Error(StatusCodes.Status503ServiceUnavailable, "the run log database is unavailable; see the coordinator's log");
        }
    }
}
