using Ferry.Shared.Metadata;
using Npgsql;

namespace Ferry.Coordinator.Api;

/// <summary>
/// Whether the target database (STG, the journal, run history) answers now. When the runner or an entity
/// does not answer, this tells an operator why: their journal is in that database, and they come back
/// by themselves once it is reachable again.
/// </summary>
public sealed class TargetHealth(MigrationMetadata metadata)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(2);

    /// <summary>Null when a connection opens and answers; otherwise one line: which database and why (never its password).</summary>
    public async Task<string?> ProblemAsync(CancellationToken ct) =>
        (await ProbeAsync(async (conn, token) =>
        {
            await using var cmd = new NpgsqlCommand("SELECT 1", conn);
            return await cmd.ExecuteScalarAsync(token);
        }, ct)).Problem;

    /// <summary>
    /// Opens one short-lived connection to the target (no pool, a 2 s patience) and runs <paramref name="query"/> on it:
    /// its result, or why the target cannot be asked (<see cref="ProblemAsync"/>'s line).
    /// </summary>
    public async Task<(T? Result, string? Problem)> ProbeAsync<T>(Func<NpgsqlConnection, CancellationToken, Task<T>> query, CancellationToken ct)
    {
        var target = metadata.Target;
        var where = $"target database {target.Host}:{target.Port}/{target.Database}";
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(Patience);
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(target.ToConnectionString("ferry health")) { Timeout = (int)Patience.TotalSeconds, Pooling = false };
            await using var conn = new NpgsqlConnection(builder.ConnectionString);
            await conn.OpenAsync(timeout.Token);
            return (await query(conn, timeout.Token), null);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return (default, $"{where} does not answer within {Patience.TotalSeconds:0} s");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return (default, $"{where} is unreachable: {OneLine(e)}");
        }
    }

    private static string OneLine(Exception e) => (e is PostgresException pg ? pg.MessageText : e.GetBaseException().Message).ReplaceLineEndings(" ").Trim();
}
