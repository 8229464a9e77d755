using System.Net;
using System.Net.Sockets;
using Amazon.Runtime;
using Ferry.Shared.Bl;
using Ferry.Shared.Metadata;
using Ferry.Shared.Storage;
using Ferry.Worker.Bl;
using Ferry.Worker.Stg;
using Npgsql;

namespace Ferry.Worker.Processes;

/// <summary>
/// Whether a failed step may heal by itself. Only what can heal is retried: a lost or refused connection,
/// a server shutting down or out of resources, a serialization failure or deadlock, a timeout, a throttled
/// or failing object store. What fails the same way on every attempt ends the run at once: a SQL error
/// (syntax, missing table or column, constraint, type), wrong credentials or a missing database, an
/// incompatible schema change, bad metadata, a corrupt or missing extract file, an object store that
/// refuses the request. A failure Ferry does not know is retried: a bounded number of wasted attempts
/// is cheaper than a run failed by a hiccup.
/// </summary>
public static class StepFailures
{
    public static bool IsPermanent(Exception failure) => Classify(failure) == Kind.Permanent;

    /// <summary>
    /// A connection lost, refused or closed by a server shutting down or starting up: it heals when the network or
    /// the server is back, however long that takes, so it is retried by time (ferry.process.retry-healable-for),
    /// not by count.
    /// </summary>
    public static bool IsConnectionLoss(Exception failure) => Classify(failure) == Kind.Connection;

    private enum Kind { Connection, Transient, Permanent, Unknown }

    private static Kind Classify(Exception e) => e switch
    {
        AggregateException { InnerExceptions.Count: 1 } a => Classify(a.InnerException!),
        // Wrappers that only add words: the cause decides.
        StepFailedException { InnerException: { } inner } => Classify(inner),
        TransformFailedException { InnerException: { } inner } => Healable(Classify(inner)),
        TransformFailedException or TransformFileException or MetadataException => Kind.Permanent,
        LoadTableMissingException => Kind.Transient,
        LoadFailedException { InnerException: { } inner } => Healable(Classify(inner)),
        LoadFailedException => Kind.Permanent,
        SchemaDriftException or SourceTableNotFoundException => Kind.Permanent,
        ConnectionFailedException c => c.IsTransient ? Kind.Connection : Kind.Permanent,
        PostgresException pg => OfState(pg.SqlState),
        NpgsqlException { InnerException: PostgresException pg } => OfState(pg.SqlState),
        NpgsqlException => Kind.Connection,      // I/O, a timeout, a broken connection: Npgsql's own failures
        ObjectNotFoundException or InvalidDataException => Kind.Permanent,
        AmazonServiceException s => IsTransientStatus(s) ? Kind.Transient : Kind.Permanent,
        SocketException or IOException => Kind.Connection,
        AmazonClientException or HttpRequestException or TimeoutException => Kind.Transient,
        OperationCanceledException => Kind.Transient,
        ArgumentException or InvalidOperationException or NotSupportedException or FormatException => Kind.Permanent,
        _ => Kind.Unknown,
    };

    /// <summary>A wrapper's cause decides only when it may heal; an unknown cause under a wrapper is permanent.</summary>
    private static Kind Healable(Kind inner) => inner is Kind.Connection or Kind.Transient ? inner : Kind.Permanent;

    /// <summary>The server closed the connection or refuses it for now (08: connection exception; 57P01–57P03: shutdown, crash, starting up).</summary>
    private static Kind OfState(string sqlState) =>
        sqlState.StartsWith("08", StringComparison.Ordinal) || sqlState is "57P01" or "57P02" or "57P03" ? Kind.Connection
        : IsTransientState(sqlState) ? Kind.Transient
        : Kind.Permanent;

    /// <summary>SQLSTATE classes that a later attempt may not meet again.</summary>
    public static bool IsTransientState(string sqlState) =>
        sqlState.StartsWith("08", StringComparison.Ordinal)     // connection exception
        || sqlState.StartsWith("40", StringComparison.Ordinal)  // serialization failure, deadlock
        || sqlState.StartsWith("53", StringComparison.Ordinal)  // insufficient resources (too many connections, disk full)
        || sqlState.StartsWith("57", StringComparison.Ordinal)  // operator intervention (shutdown, cancel, starting up)
        || sqlState.StartsWith("58", StringComparison.Ordinal)  // system error (I/O)
        || sqlState == "55P03";                                 // lock not available

    private static bool IsTransientStatus(AmazonServiceException s) =>
        (int)s.StatusCode >= 500 || s.StatusCode == HttpStatusCode.TooManyRequests || s.StatusCode == HttpStatusCode.RequestTimeout
        || s.ErrorCode is "SlowDown" or "RequestTimeout" or "Throttling" or "ThrottlingException";
}
