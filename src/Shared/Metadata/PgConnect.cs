using System.Collections.Concurrent;
using System.Net.Sockets;
using Npgsql;

namespace Ferry.Shared.Metadata;

/// <summary>
/// Opens a PostgreSQL connection so that a failure names the connection: a bare
/// <c>Name or service not known</c> does not say whether the source or the target is unreachable.
/// Connection strings built by <see cref="PgConnection.ToConnectionString"/> are known by their
/// connection's <see cref="PgConnection.Label"/> (<c>source qvp (db.example:5432/qvp)</c>); any other
/// by its host, port and database.
/// </summary>
public static class PgConnect
{
    // Connection string → label. Few entries: one per connection and application name.
    private static readonly ConcurrentDictionary<string, string> Labels = new(StringComparer.Ordinal);

    internal static void Remember(string connectionString, string label) => Labels[connectionString] = label;

    /// <summary>What messages call the connection this string opens.</summary>
    public static string LabelOf(string connectionString)
    {
        if (Labels.TryGetValue(connectionString, out var label)) return label;
        try
        {
            var b = new NpgsqlConnectionStringBuilder(connectionString);
            return $"database {b.Host}:{b.Port}/{b.Database}";
        }
        catch (ArgumentException)
        {
            return "database (unreadable connection string)";
        }
    }

    /// <summary>An open connection, or <see cref="ConnectionFailedException"/> naming it and the cause.</summary>
    public static async Task<NpgsqlConnection> OpenAsync(string connectionString, CancellationToken ct = default)
    {
        var conn = new NpgsqlConnection(connectionString);
        try
        {
            await conn.OpenAsync(ct);
            return conn;
        }
        catch (Exception e) when (e is NpgsqlException or SocketException or IOException or TimeoutException && !ct.IsCancellationRequested)
        {
            await conn.DisposeAsync();
            throw new ConnectionFailedException(LabelOf(connectionString), e);
        }
        catch
        {
            await conn.DisposeAsync();
            throw;
        }
    }
}

/// <summary>
/// A connection could not be opened: <c>source qvp (db.example:5432/qvp): cannot connect: Name or service not known</c>.
/// The cause stays the inner exception; the failure is transient exactly when the cause is
/// (a host that is down may come back, a wrong password does not fix itself).
/// </summary>
public sealed class ConnectionFailedException(string connection, Exception cause)
    : NpgsqlException($"{connection}: cannot connect: {Describe(cause)}", cause)
{
    /// <summary>The connection's label, e.g. <c>target (127.0.0.1:5432/unipacc)</c>.</summary>
    public string Connection { get; } = connection;

    public override bool IsTransient => InnerException switch
    {
        NpgsqlException n => n.IsTransient,
        SocketException or IOException or TimeoutException => true,
        _ => false,
    };

    /// <summary>The server's own words (not Npgsql's multi-line form), else the innermost cause's first line.</summary>
    private static string Describe(Exception cause)
    {
        if (cause is PostgresException pg) return $"{pg.MessageText} (SQLSTATE {pg.SqlState})";
        // Npgsql says "Failed to connect to 10.0.0.5:5432" around the socket's "Connection refused": the socket says why.
        var inner = cause;
        while (inner.InnerException is { } next && inner is NpgsqlException and not PostgresException) inner = next;
        return inner.Message.Split('\n', 2)[0].Trim();
    }
}
