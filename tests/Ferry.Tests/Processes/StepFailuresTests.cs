using System.Net;
using System.Net.Sockets;
using Amazon.S3;
using Ferry.Shared.Metadata;
using Ferry.Shared.Storage;
using Ferry.Worker.Bl;
using Ferry.Worker.Processes;
using Ferry.Worker.Stg;
using Npgsql;

namespace Ferry.Tests.Processes;

/// <summary>Only a failure that can heal is retried; one that fails the same way every time ends the run at once.</summary>
public class StepFailuresTests
{
    private static PostgresException Pg(string sqlState) => new("message", "ERROR", "ERROR", sqlState);

    public static TheoryData<string, Exception> Permanent() => new()
    {
        { "a missing table", new StepFailedException("stg.a.t", "extract", Pg("42P01")) },
        { "a syntax error in a transform", new TransformFailedException("bl.u.t", "syntax", Pg("42601")) },
        { "a wrong password", new ConnectionFailedException("source qvp (h:5432/qvp)", Pg("28P01")) },
        { "a missing database", new ConnectionFailedException("source qvp (h:5432/qvp)", Pg("3D000")) },
        { "a unique violation", Pg("23505") },
        { "an incompatible type change", new SchemaDriftException("column age changed type from text to integer") },
        { "a missing source table", new StepFailedException("stg.a.t", "extract", new SourceTableNotFoundException("table public.t was not found")) },
        { "a corrupt part", new LoadFailedException("part-00001.csv.gz is truncated", new InvalidDataException("truncated")) },
        { "a missing object", new ObjectNotFoundException("a/b", "filesystem /x") },
        { "an object store that refuses", new AmazonS3Exception("Access Denied") { StatusCode = HttpStatusCode.Forbidden } },
        { "bad metadata", new InvalidOperationException("stg.a.t is not in this worker's metadata") },
    };

    public static TheoryData<string, Exception> Transient() => new()
    {
        { "a refused connection", new ConnectionFailedException("source qvp (h:5432/qvp)", new SocketException((int)SocketError.ConnectionRefused)) },
        { "a server shutting down", new StepFailedException("stg.a.t", "load", Pg("57P01")) },
        { "a deadlock in a transform", new TransformFailedException("bl.u.t", "deadlock", Pg("40P01")) },
        { "too many connections", Pg("53300") },
        { "a broken connection", new NpgsqlException("Exception while reading from stream", new IOException("reset")) },
        { "an object store in trouble", new AmazonS3Exception("Slow Down") { StatusCode = HttpStatusCode.ServiceUnavailable } },
        { "a timeout", new TimeoutException("timed out") },
        { "something unknown", new Exception("?") },
    };

    public static TheoryData<string, Exception> ConnectionLoss() => new()
    {
        { "a refused connection", new ConnectionFailedException("target (h:5432/t)", new SocketException((int)SocketError.ConnectionRefused)) },
        { "a server shutting down", new StepFailedException("stg.a.t", "load", Pg("57P01")) },
        { "a server starting up", Pg("57P03") },
        { "a connection exception", new LoadFailedException("COPY into stg.t failed", Pg("08006")) },
        { "a broken connection", new NpgsqlException("Exception while reading from stream", new IOException("reset")) },
        { "a reset socket", new SocketException((int)SocketError.ConnectionReset) },
    };

    public static TheoryData<string, Exception> NotConnectionLoss() => new()
    {
        { "a deadlock", Pg("40P01") },
        { "too many connections", Pg("53300") },
        { "a wrong password", new ConnectionFailedException("target (h:5432/t)", Pg("28P01")) },
        { "a missing table", new StepFailedException("stg.a.t", "extract", Pg("42P01")) },
        { "an object store in trouble", new AmazonS3Exception("Slow Down") { StatusCode = HttpStatusCode.ServiceUnavailable } },
        { "something unknown", new Exception("?") },
    };

    [Theory]
    [MemberData(nameof(ConnectionLoss))]
    public void A_lost_or_refused_connection_heals_with_time_and_is_never_permanent(string what, Exception failure)
    {
        Assert.True(StepFailures.IsConnectionLoss(failure), what);
        Assert.False(StepFailures.IsPermanent(failure), what);
    }

    [Theory]
    [MemberData(nameof(NotConnectionLoss))]
    public void Other_failures_are_retried_by_count_or_not_at_all(string what, Exception failure) =>
        Assert.False(StepFailures.IsConnectionLoss(failure), what);

    [Theory]
    [MemberData(nameof(Permanent))]
    public void A_failure_that_fails_the_same_way_again_is_permanent(string what, Exception failure) =>
        Assert.True(StepFailures.IsPermanent(failure), what);

    [Theory]
    [MemberData(nameof(Transient))]
    public void A_failure_that_may_heal_is_retried(string what, Exception failure) =>
        Assert.False(StepFailures.IsPermanent(failure), what);
}
