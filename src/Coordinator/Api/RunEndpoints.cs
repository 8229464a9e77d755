using System.Text.Json;
using Ferry.Shared.Cluster;
using Ferry.Shared.Processes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;

namespace Ferry.Coordinator.Api;

/// <summary>/api/runs: pipeline runs, started, watched, listed and cancelled through the pipeline runner.</summary>
public static class RunEndpoints
{
    private const string Runner = "the pipeline runner";
    public const int MaxListLimit = 500;

    public static void MapRunEndpoints(this IEndpointRouteBuilder api)
    {
        api.MapPost("/runs", StartAsync);
        api.MapGet("/runs", ListAsync);
        api.MapGet("/runs/{id}", GetAsync);
        api.MapPost("/runs/{id}/cancel", CancelAsync);
    }

    private static async Task<IResult> StartAsync(HttpRequest request, [FromServices] ActorQueries actors, CancellationToken ct)
    {
        RunRequest? body;
        try
        {
            body = await JsonSerializer.DeserializeAsync<RunRequest>(request.Body, ApiJson.Options, ct);
        }
        catch (JsonException e)
        {
            return ApiResults.Error(StatusCodes.Status400BadRequest,
                $"request body: {ApiResults.OneLine(e.Message)} (expected {{\"targets\": [\"stg.qvp.*\"], \"mode\": \"incremental|bulk\", \"keySweep\": true, \"maxAgeSeconds\": 900}})");
        }
        var targets = body?.Targets?.Where(t => !string.IsNullOrWhiteSpace(t)).Select(t => t.Trim()).ToList() ?? [];
        if (targets.Count == 0)
            return ApiResults.Error(StatusCodes.Status400BadRequest, "targets is empty: name at least one pipeline, group, process id or pattern");

        if (body!.MaxAgeSeconds is < 0)
            return ApiResults.Error(StatusCodes.Status400BadRequest, "maxAgeSeconds must be 0 or more");
        var maxAge = body.MaxAgeSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : (TimeSpan?)null;
        var answer = await actors.AskAsync<PipelineRunnerProxy>(new RunTargets(targets, body.Mode, body.KeySweep, "api", maxAge), Runner, ct);
        return answer switch
        {
            PipelineRunAccepted accepted => new Located(ApiResults.Json(accepted, StatusCodes.Status202Accepted),
                $"/api/runs/{Uri.EscapeDataString(accepted.PipelineRunId)}"),
            PipelineRunRejected rejected => ApiResults.Json(new RunRejection(rejected.Reason, rejected.Reason, rejected.ActivePipelineRunId), StatusCodes.Status409Conflict),
            _ => ApiResults.Unexpected(Runner, answer),
        };
    }

    private static async Task<IResult> GetAsync(string id, [FromServices] ActorQueries actors, CancellationToken ct)
    {
        var answer = await actors.AskAsync<PipelineRunnerProxy>(new GetPipelineRun(id), Runner, ct);
        return Status(answer);
    }

    private static async Task<IResult> ListAsync(int? limit, [FromServices] ActorQueries actors, CancellationToken ct)
    {
        if (limit is < 1 or > MaxListLimit)
            return ApiResults.Error(StatusCodes.Status400BadRequest, $"limit must be between 1 and {MaxListLimit}");
        var answer = await actors.AskAsync<PipelineRunnerProxy>(new ListPipelineRuns(limit ?? 20), Runner, ct);
        return answer is PipelineRunList list ? ApiResults.Json(list) : ApiResults.Unexpected(Runner, answer);
    }

    /// <summary>
    /// One question: the runner answers a cancel with the run as it stands after it (202: cancelling
    /// processes may take a moment to stop), or that there is no such run (404).
    /// </summary>
    private static async Task<IResult> CancelAsync(string id, [FromServices] ActorQueries actors, CancellationToken ct)
    {
        var answer = await actors.AskAsync<PipelineRunnerProxy>(new CancelPipelineRun(id), Runner, ct);
        return answer is PipelineRunStatus status ? ApiResults.Json(status, StatusCodes.Status202Accepted) : Status(answer);
    }

    private static IResult Status(object answer) => answer switch
    {
        PipelineRunStatus status => ApiResults.Json(status),
        PipelineRunNotFound missing => ApiResults.Error(StatusCodes.Status404NotFound, $"no pipeline run {missing.PipelineRunId}"),
        _ => ApiResults.Unexpected(Runner, answer),
    };

    /// <summary>A result with a Location header (the new run's status).</summary>
    private sealed class Located(IResult inner, string location) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.Location = location;
            return inner.ExecuteAsync(httpContext);
        }
    }
}
