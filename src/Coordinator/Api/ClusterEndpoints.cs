using Akka.Actor;
using Akka.Cluster.Sharding;
using Ferry.Shared.Cluster;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;

namespace Ferry.Coordinator.Api;

/// <summary>/api/cluster and /api/sharding: what `ferry cluster show` and `ferry sharding show` print (Petabridge.Cmd's cluster and sharding views).</summary>
public static class ClusterEndpoints
{
    public static void MapClusterEndpoints(this IEndpointRouteBuilder api)
    {
        api.MapGet("/cluster", Membership);
        api.MapPost("/cluster/down", Down);
        api.MapGet("/sharding", ShardingAsync);
    }

    /// <summary>The membership as this coordinator's gossip has it, members ordered by address.</summary>
    private static IResult Membership([FromServices] ActorSystem system, [FromServices] MemberUpTimes upTimes)
    {
        var cluster = Akka.Cluster.Cluster.Get(system);
        var state = cluster.State;
        var unreachable = state.Unreachable.Select(m => m.UniqueAddress).ToHashSet();
        var members = state.Members
            .OrderBy(m => m.Address.ToString(), StringComparer.Ordinal)
            .Select(m => new ClusterMember(m.Address.ToString(), m.Roles.Order(StringComparer.Ordinal).ToList(),
                m.Status.ToString().ToLowerInvariant(), !unreachable.Contains(m.UniqueAddress), upTimes.UpSince(m.UniqueAddress)))
            .ToList();
        return ApiResults.Json(new ClusterMembership(cluster.SelfAddress.ToString(), state.Leader?.ToString(), members,
            state.Unreachable.Select(m => m.Address.ToString()).Order(StringComparer.Ordinal).ToList()));
    }

    /// <summary>
    /// Marks a member Down (Petabridge.Cmd's `cluster down`): for a node known to be dead, so the cluster
    /// need not wait for the split-brain resolver; a live node that is downed leaves and rejoins as a new
    /// incarnation. Body: <c>{"address": "akka.tcp://ferry@10.0.0.3:4054"}</c>. Answers the membership.
    /// </summary>
    private static async Task<IResult> Down(HttpRequest request, [FromServices] ActorSystem system, [FromServices] MemberUpTimes upTimes, CancellationToken ct)
    {
        MemberAddress? body;
        try { body = await System.Text.Json.JsonSerializer.DeserializeAsync<MemberAddress>(request.Body, ApiJson.Options, ct); }
        catch (System.Text.Json.JsonException e)
        {
            return ApiResults.Error(StatusCodes.Status400BadRequest, $"request body: {ApiResults.OneLine(e.Message)} (expected {{\"address\": \"akka.tcp://ferry@host:port\"}})");
        }
        var cluster = Akka.Cluster.Cluster.Get(system);
        var member = cluster.State.Members.FirstOrDefault(m => m.Address.ToString() == body?.Address?.Trim());
        if (member is null)
            return ApiResults.Error(StatusCodes.Status404NotFound, $"no member {body?.Address} (ferry cluster show lists them)");
        cluster.Down(member.Address);
        return Membership(system, upTimes);
    }

    /// <summary>
    /// Asks the process region (the proxy, on a coordinator) for the cluster-wide statistics: its shard
    /// coordinator asks every region and answers with the shards, and the entities in each, per node.
    /// </summary>
    private static async Task<IResult> ShardingAsync([FromServices] ActorQueries actors, [FromServices] ActorSystem system, CancellationToken ct)
    {
        // The coordinator gives up on slow regions after the inner timeout (they come back as failed);
        // the outer ask waits a little longer so the partial answer still arrives.
        var inner = actors.Timeout * 0.7;
        var answer = await actors.AskAsync<ProcessRegion>(new GetClusterShardingStats(inner), "the shard coordinator", ct);
        if (answer is not ClusterShardingStats stats) return ApiResults.Unexpected("the shard coordinator", answer);

        var self = Akka.Cluster.Cluster.Get(system).SelfAddress;
        var nodes = stats.Regions
            .Select(r => new NodeShards(
                (r.Key.HasGlobalScope ? r.Key : self).ToString(),
                r.Value.Stats.Count,
                r.Value.Stats.Values.Sum(),
                (r.Value.Failed?.Order(StringComparer.Ordinal).ToList() ?? [])))
            .OrderBy(n => n.Address, StringComparer.Ordinal)
            .ToList();
        var region = new ShardRegionOverview(ProcessSharding.TypeName, nodes.Sum(n => n.Shards), nodes.Sum(n => n.Entities), nodes);
        return ApiResults.Json(new ShardingOverview([region]));
    }
}
