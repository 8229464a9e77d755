using Akka.Actor;
using Akka.Hosting;

namespace Ferry.Coordinator.Api;

/// <summary>The API could not get an answer from the cluster in time: 503, with what did not answer.</summary>
public sealed class ClusterUnavailableException(string message) : Exception(message);

/// <summary>
/// Asks the coordinator's actors (found in Akka.Hosting's registry by their key type) on behalf of one
/// request, with the API's timeout. A timeout becomes a <see cref="ClusterUnavailableException"/> that
/// says who did not answer; the request's own cancellation (the client went away) passes through.
/// </summary>
public sealed class ActorQueries(IReadOnlyActorRegistry registry, ApiOptions options, TargetHealth target)
{
    public TimeSpan Timeout => options.AskTimeout;

    public async Task<object> AskAsync<TKey>(object message, string who, CancellationToken ct, TimeSpan? timeout = null)
    {
        var wait = timeout ?? options.AskTimeout;
        var actor = await FindAsync<TKey>(who, wait, ct);
        try
        {
            return await actor.Ask<object>(message, wait, ct);
        }
        catch (Exception e) when (e is AskTimeoutException || (e is OperationCanceledException && !ct.IsCancellationRequested))
        {
            throw new ClusterUnavailableException(await SilentAsync(who, wait, ct));
        }
    }

    /// <summary>Why an actor may be silent: a persistent actor whose database is gone waits for it (and is back by itself once it returns).</summary>
    private async Task<string> SilentAsync(string who, TimeSpan wait, CancellationToken ct)
    {
        var silent = $"{who} did not answer within {wait.TotalSeconds:0.#} s";
        return await target.ProblemAsync(ct) is { } problem
            ? $"{silent}: the {problem}; Ferry's actors come back by themselves once it is reachable"
            : silent;
    }

    /// <summary>While the node is starting, its actors may not be registered yet: wait for them as long as for an answer.</summary>
    private async Task<IActorRef> FindAsync<TKey>(string who, TimeSpan wait, CancellationToken ct)
    {
        if (registry.TryGet<TKey>(out var actor)) return actor;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(wait);
        try
        {
            return await registry.GetAsync<TKey>(deadline.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new ClusterUnavailableException($"{who} is not running on this coordinator (yet)");
        }
    }
}
