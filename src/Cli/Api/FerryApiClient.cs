using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Ferry.Coordinator.Api;
using Ferry.Shared.Verify;
using Ferry.Shared.Processes;
using Ferry.Shared.Stg;

namespace Ferry.Cli.Api;

/// <summary>The coordinator refused or failed a request; <see cref="Exception.Message"/> is its one-line error.</summary>
public sealed class FerryApiException(HttpStatusCode? status, string message) : Exception(message)
{
    /// <summary>Null when the coordinator was not reached at all.</summary>
    public HttpStatusCode? Status { get; } = status;
}

/// <summary>What POST /api/runs answered: exactly one of the two is set.</summary>
public sealed record RunStart(PipelineRunAccepted? Accepted, PipelineRunRejected? Rejected);

/// <summary>
/// The typed client of the coordinator's HTTP API (see Ferry.Coordinator.Api.CoordinatorApi). Answers are
/// the protocol's own records; a refusal or failure is a <see cref="FerryApiException"/> carrying the
/// coordinator's message. The token travels in the Authorization header only and is never part of a message.
/// </summary>
public sealed class FerryApiClient : IDisposable
{
    public const string CoordinatorVariable = "FERRY_COORDINATOR";
    public const string DefaultCoordinator = "http://127.0.0.1:8080";

    private readonly HttpClient _http;

    public FerryApiClient(Uri coordinator, string token, HttpMessageHandler? handler = null)
    {
        Coordinator = coordinator;
        _http = handler is null ? new HttpClient() : new HttpClient(handler);
        // Paths are relative ("api/runs"), so a coordinator behind a path prefix keeps its prefix.
        _http.BaseAddress = coordinator.AbsoluteUri.EndsWith('/') ? coordinator : new Uri(coordinator.AbsoluteUri + "/");
        _http.Timeout = TimeSpan.FromSeconds(30);
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    public Uri Coordinator { get; }

    /// <summary>
    /// The coordinator from --coordinator, else $FERRY_COORDINATOR, else http://127.0.0.1:8080; the token from
    /// --token, else $FERRY_API_TOKEN, else &lt;ferry home&gt;/api-token (written there by a coordinator on this machine).
    /// </summary>
    public static FerryApiClient Connect(string? coordinator, string? token)
    {
        var url = coordinator is { Length: > 0 } ? coordinator
            : Environment.GetEnvironmentVariable(CoordinatorVariable) is { Length: > 0 } env ? env
            : DefaultCoordinator;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new ArgumentException($"--coordinator {url}: expected an http(s) URL such as {DefaultCoordinator}");
        var home = ApiToken.Home();
        var found = ApiToken.ForClient(token, home)
            ?? throw new ArgumentException($"no API token: pass --token, set ${ApiToken.EnvironmentVariable}, or run where the coordinator wrote {ApiToken.FilePath(home)}");
        return new FerryApiClient(uri, found.Value);
    }

    /// <param name="maxAge">For verify processes: the in-flight window (null: their default).</param>
    public async Task<RunStart> StartRunAsync(IReadOnlyList<string> targets, RunMode mode, bool? keySweep, CancellationToken ct, TimeSpan? maxAge = null)
    {
        using var response = await SendAsync(HttpMethod.Post, "api/runs", new RunRequest(targets, mode, keySweep, maxAge?.TotalSeconds), ct);
        if (response.StatusCode == HttpStatusCode.Conflict)
        {
            var rejection = await ParseAsync<RunRejection>(response, ct);
            return new RunStart(null, new PipelineRunRejected(rejection.Reason, rejection.ActivePipelineRunId));
        }
        return new RunStart(await ReadAsync<PipelineRunAccepted>(response, ct), null);
    }

    public Task<PipelineRunStatus> GetRunAsync(string pipelineRunId, CancellationToken ct) =>
        GetAsync<PipelineRunStatus>($"api/runs/{Uri.EscapeDataString(pipelineRunId)}", ct);

    public Task<PipelineRunList> ListRunsAsync(int limit, CancellationToken ct) => GetAsync<PipelineRunList>($"api/runs?limit={limit}", ct);

    public async Task<PipelineRunStatus> CancelRunAsync(string pipelineRunId, CancellationToken ct)
    {
        using var response = await SendAsync(HttpMethod.Post, $"api/runs/{Uri.EscapeDataString(pipelineRunId)}/cancel", null, ct);
        return await ReadAsync<PipelineRunStatus>(response, ct);
    }

    public Task<ProcessList> GetProcessesAsync(CancellationToken ct) => GetAsync<ProcessList>("api/processes", ct);

    public Task<ProcessStatus> GetProcessAsync(string processId, CancellationToken ct) =>
        GetAsync<ProcessStatus>($"api/processes/{Uri.EscapeDataString(processId)}", ct);

    public Task<HistoryList> GetHistoryAsync(string? processId, string? pipelineRunId, int limit, CancellationToken ct)
    {
        var query = new List<string> { $"limit={limit}" };
        if (processId is { Length: > 0 }) query.Add($"process={Uri.EscapeDataString(processId)}");
        if (pipelineRunId is { Length: > 0 }) query.Add($"pipelineRun={Uri.EscapeDataString(pipelineRunId)}");
        return GetAsync<HistoryList>($"api/history?{string.Join('&', query)}", ct);
    }

    /// <summary>The kept log lines of a run after <paramref name="afterSeq"/> (GET /api/runs/{id}/log).</summary>
    public Task<RunLogPage> GetRunLogAsync(string runId, long afterSeq, CancellationToken ct) =>
        GetAsync<RunLogPage>($"api/runs/{Uri.EscapeDataString(runId)}/log?after={afterSeq}", ct);

    /// <summary>What the verify processes of one verification recorded (GET /api/verifications/{id}).</summary>
    public Task<Verification> GetVerificationAsync(string verificationId, CancellationToken ct) =>
        GetAsync<Verification>($"api/verifications/{Uri.EscapeDataString(verificationId)}", ct);

    public Task<VerificationList> ListVerificationsAsync(int limit, CancellationToken ct) =>
        GetAsync<VerificationList>($"api/verifications?limit={limit}", ct);

    public Task<ClusterMembership> GetClusterAsync(CancellationToken ct) => GetAsync<ClusterMembership>("api/cluster", ct);

    /// <summary>Marks a member Down; answers the membership after it.</summary>
    public async Task<ClusterMembership> DownAsync(string address, CancellationToken ct)
    {
        using var response = await SendAsync(HttpMethod.Post, "api/cluster/down", new MemberAddress(address), ct);
        return await ReadAsync<ClusterMembership>(response, ct);
    }

    public Task<ShardingOverview> GetShardingAsync(CancellationToken ct) => GetAsync<ShardingOverview>("api/sharding", ct);

    private async Task<T> GetAsync<T>(string path, CancellationToken ct)
    {
        using var response = await SendAsync(HttpMethod.Get, path, null, ct);
        return await ReadAsync<T>(response, ct);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, object? body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = JsonContent.Create(body, body.GetType(), options: ApiJson.Options);
        try
        {
            return await _http.SendAsync(request, ct);
        }
        catch (HttpRequestException e)
        {
            throw new FerryApiException(null, $"cannot reach the coordinator at {Coordinator}: {e.Message}");
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new FerryApiException(null, $"the coordinator at {Coordinator} did not answer within {_http.Timeout.TotalSeconds:0} s");
        }
    }

    private async Task<T> ReadAsync<T>(HttpResponseMessage response, CancellationToken ct)
    {
        if (!response.IsSuccessStatusCode)
            throw new FerryApiException(response.StatusCode, $"{Coordinator}: {(int)response.StatusCode} {await ErrorAsync(response, ct)}");
        return await ParseAsync<T>(response, ct);
    }

    private async Task<T> ParseAsync<T>(HttpResponseMessage response, CancellationToken ct)
    {
        try
        {
            return await response.Content.ReadFromJsonAsync<T>(ApiJson.Options, ct)
                ?? throw new FerryApiException(response.StatusCode, $"{Coordinator}: empty answer from {response.RequestMessage?.RequestUri?.AbsolutePath}");
        }
        catch (JsonException e)
        {
            throw new FerryApiException(response.StatusCode, $"{Coordinator}: unreadable answer ({e.Message}); is this a Ferry coordinator of the same version?");
        }
    }

    private static async Task<string> ErrorAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var text = await response.Content.ReadAsStringAsync(ct);
        try
        {
            if (JsonSerializer.Deserialize<ApiError>(text, ApiJson.Options)?.Error is { Length: > 0 } error) return error;
        }
        catch (JsonException)
        {
        }
        var line = text.ReplaceLineEndings(" ").Trim();
        return line.Length == 0 ? response.ReasonPhrase ?? "" : line[..Math.Min(200, line.Length)];
    }

    public void Dispose() => _http.Dispose();
}
