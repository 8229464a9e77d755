using System.Net.Sockets;
using Ferry.Shared.Sql;
using Npgsql;

namespace Ferry.Shared.Cluster;

/// <summary>A node cannot start: the one line to print, naming the connection and the cause.</summary>
public sealed class NodeStartException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The node's first contact with its target database. docker compose starts every service at once, so a
/// database that is not up yet (connection refused, name not resolvable yet, "the database system is
/// starting up") is waited for, with backoff, up to a bound; a wrong password or a missing database
/// will not heal by waiting and fails at once.
/// </summary>
public static class TargetDatabase
{
    /// <summary>Connects (waiting up to <paramref name="waitFor"/>) and creates <paramref name="schema"/>; throws <see cref="NodeStartException"/>.</summary>
    public static void EnsureSchema(string connectionString, string schema, TimeSpan waitFor, Action<string>? onWait = null)
    {
        var name = Describe(connectionString);
        var deadline = DateTime.UtcNow + waitFor;
        var delay = TimeSpan.FromMilliseconds(500);
        var warned = false;
        while (true)
        {
            try
            {
                using var conn = new NpgsqlConnection(connectionString);
                conn.Open();
                conn.EnsureSchema(schema);
                if (warned) onWait?.Invoke($"target database {name} is up");
                return;
            }
            catch (Exception e) when (e is NpgsqlException or SocketException or TimeoutException)
            {
                var cause = Cause(e);
                if (!CanHeal(e))
                    throw new NodeStartException($"target database {name}: {cause}", e);
                if (DateTime.UtcNow + delay > deadline)
                    throw new NodeStartException($"target database {name}: {cause} (waited {waitFor.TotalSeconds:0} s; --wait-for-database sets how long)", e);
                if (!warned) onWait?.Invoke($"target database {name} is not reachable yet ({cause}); waiting up to {waitFor.TotalSeconds:0} s");
                warned = true;
                // Startup only: no actor system exists yet, so a blocking wait holds nothing up.
                Thread.Sleep(delay);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }

    /// <summary>Faults a database that is still starting (or a network not yet up) produces; everything else is permanent.</summary>
    public static bool CanHeal(Exception e) => e switch
    {
        PostgresException pg => pg.SqlState is PostgresErrorCodes.CannotConnectNow or PostgresErrorCodes.TooManyConnections
            or PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown,
        SocketException s => s.SocketErrorCode is SocketError.ConnectionRefused or SocketError.HostNotFound or SocketError.TryAgain
            or SocketError.NetworkUnreachable or SocketError.HostUnreachable or SocketError.TimedOut or SocketError.ConnectionReset,
        TimeoutException => true,
        NpgsqlException { InnerException: { } inner } => CanHeal(inner),
        NpgsqlException n => n.IsTransient,
        _ => false,
    };

    private static string Cause(Exception e) => e switch
    {
        PostgresException pg => $"{pg.MessageText} ({pg.SqlState})",
        NpgsqlException { InnerException: SocketException or TimeoutException } n => n.InnerException!.Message,
        _ => e.Message,
    };

    /// <summary>host:port/database (user …): how a person recognises the connection, without its password.</summary>
    public static string Describe(string connectionString)
    {
        var b = new NpgsqlConnectionStringBuilder(connectionString);
        return $"{b.Host}:{b.Port}/{b.Database} (user {b.Username})";
    }
}
