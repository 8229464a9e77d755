using Ferry.Shared.Cluster;
using Ferry.Shared.History;
using Ferry.Shared.Metadata;
using Ferry.Shared.Processes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Ferry.Coordinator.Api;

/// <summary>/api/processes and /api/history: what each process is doing now (asked of its entity), and what its runs did (from the run history).</summary>
public static class ProcessEndpoints
{
    public const int MaxHistoryLimit = 1000;

    public static void MapProcessEndpoints(this IEndpointRouteBuilder api)
    {
        api.MapGet("/processes", ListAsync);
        api.MapGet("/processes/{id}", GetAsync);
        api.MapGet("/history", HistoryAsync);
    }

    /// <summary>The processes the metadata declares: only these are asked, so a typo never creates (and remembers) an entity.</summary>
    public static IReadOnlyList<string> ProcessIds(MigrationMetadata metadata) => metadata.ProcessIds;

    /// <summary>
    /// Every process, asked in parallel, each with its own short timeout: a process whose worker is busy or
    /// gone is listed as not answering, and the others are still shown.
    /// </summary>
    private static async Task<IResult> ListAsync([FromServices] ActorQueries actors, [FromServices] MigrationMetadata metadata,
        [FromServices] ApiOptions options, CancellationToken ct)
    {
        var entries = await Task.WhenAll(ProcessIds(metadata).Select(async id =>
        {
            try
            {
                var answer = await actors.AskAsync<ProcessRegion>(new GetProcessStatus(id), id, ct, options.ProcessStatusTimeout);
                return new ProcessEntry(id, answer is ProcessStatus, answer as ProcessStatus);
            }
            catch (ClusterUnavailableException)
            {
                return new ProcessEntry(id, false, null);
            }
        }));
        return ApiResults.Json(new ProcessList(entries));
    }

    private static async Task<IResult> GetAsync(string id, [FromServices] ActorQueries actors, [FromServices] MigrationMetadata metadata, CancellationToken ct)
    {
        if (!metadata.HasProcess(id))
            return ApiResults.Error(StatusCodes.Status404NotFound, $"no process {id} in the metadata");
        var answer = await actors.AskAsync<ProcessRegion>(new GetProcessStatus(id), $"process {id}", ct);
        return answer is ProcessStatus status ? ApiResults.Json(status) : ApiResults.Unexpected($"process {id}", answer);
    }

    private static async Task<IResult> HistoryAsync(string? process, string? pipelineRun, int? limit, [FromServices] RunHistory history,
        [FromServices] ILoggerFactory logs, CancellationToken ct)
    {
        if (limit is < 1 or > MaxHistoryLimit)
            return ApiResults.Error(StatusCodes.Status400BadRequest, $"limit must be between 1 and {MaxHistoryLimit}");
        try
        {
            var rows = await history.ListAsync(Blank(process), Blank(pipelineRun), limit ?? 50, ct);
            return ApiResults.Json(new HistoryList(rows));
        }
        catch (NpgsqlException e) when (!ct.IsCancellationRequested)
        {
            // The full cause goes to the coordinator's log; the caller learns that the database is the problem.
            logs.CreateLogger(typeof(ProcessEndpoints)).LogWarning("run history query failed: {Error}", ApiResults.OneLine(e.Message));
            var state = e is PostgresException pg ? $" (SQLSTATE {pg.SqlState})" : "";
            return ApiResults.Error(StatusCodes.Status503ServiceUnavailable, $"the run history database is unavailable{state}; see the coordinator's log");
        }

        static string? Blank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();
    }
}
