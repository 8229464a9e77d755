using Npgsql;

namespace Ferry.Shared.Postgres;

/// <summary>
/// What every Ferry connection to a database sets so that a dead peer is noticed on both ends (bench/faults
/// finding 1): across a partition no FIN arrives, and with the defaults a server keeps a vanished node's backend,
/// its open transaction and its locks for hours, so a process moved to another node waits for them forever.
/// The client sends TCP keepalives (Npgsql); the server is told per session (<c>Options=-c …</c>, settable by any
/// user in PostgreSQL 15) to probe after <see cref="IdleSeconds"/> s idle, every <see cref="IntervalSeconds"/> s,
/// giving up after <see cref="Probes"/> probes, and to drop a connection whose sent data is unacknowledged for
/// <see cref="UserTimeoutMilliseconds"/> ms. <c>application_name</c> names the node, so an operator (or Ferry)
/// can tell whose backend a lock belongs to.
/// </summary>
public static class PgSession
{
    public const int IdleSeconds = 30;
    public const int IntervalSeconds = 10;
    public const int Probes = 3;
    public const int UserTimeoutMilliseconds = 60_000;

    /// <summary>The node this process runs as (host:port), set once at node start; empty outside a cluster node.</summary>
    public static string Node { get; set; } = "";

    /// <summary><paramref name="application"/> with the node appended, within PostgreSQL's 63 bytes of application_name.</summary>
    public static string ApplicationName(string application) => ApplicationName(application, Node);

    public static string ApplicationName(string application, string node) =>
        WithinNameLimit(node.Length == 0 ? application : $"{application} {node}");

    /// <summary><paramref name="name"/> cut to PostgreSQL's 63 bytes of a name (NAMEDATALEN - 1), never inside a character.</summary>
    public static string WithinNameLimit(string name)
    {
        while (System.Text.Encoding.UTF8.GetByteCount(name) > 63) name = name[..^1];
        return name;
    }

    /// <summary>Sets keepalives on both ends and the application name; any <c>Options</c> already there are kept.</summary>
    public static NpgsqlConnectionStringBuilder DetectDeadPeer(this NpgsqlConnectionStringBuilder b, string application)
    {
        b.ApplicationName = ApplicationName(application);
        b.TcpKeepAlive = true;
        b.TcpKeepAliveTime = IdleSeconds;
        b.TcpKeepAliveInterval = IntervalSeconds;
        var server = $"-c tcp_keepalives_idle={IdleSeconds} -c tcp_keepalives_interval={IntervalSeconds} " +
                     $"-c tcp_keepalives_count={Probes} -c tcp_user_timeout={UserTimeoutMilliseconds}";
        b.Options = string.IsNullOrWhiteSpace(b.Options) ? server : $"{b.Options} {server}";
        return b;
    }

    /// <summary>The same for a connection string given whole (the Akka journal's, from the environment).</summary>
    public static string DetectDeadPeer(string connectionString, string application) =>
        new NpgsqlConnectionStringBuilder(connectionString).DetectDeadPeer(application).ConnectionString;
}
