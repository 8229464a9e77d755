using Ferry.Shared.Postgres;
using Ferry.Tests.Infrastructure;
using Npgsql;

namespace Ferry.Tests.Postgres;

/// <summary>Every Ferry connection asks the server to notice a vanished client, and names its node (bench/faults finding 1).</summary>
public class PgSessionTests
{
    [Fact]
    public async Task A_target_connection_session_has_the_server_side_keepalives_and_its_application_name()
    {
        var target = await TestPostgres.ConnectionAsync("target", await TestPostgres.CreateDatabaseAsync("pgsession"));
        var cs = target.ToConnectionString("ferry bl");

        await using var conn = new NpgsqlConnection(cs);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(
            "SELECT (SELECT setting || coalesce(unit, '') FROM pg_settings WHERE name = 'tcp_keepalives_idle'), " +
            "(SELECT setting || coalesce(unit, '') FROM pg_settings WHERE name = 'tcp_keepalives_interval'), " +
            "(SELECT setting || coalesce(unit, '') FROM pg_settings WHERE name = 'tcp_keepalives_count'), " +
            "(SELECT setting || coalesce(unit, '') FROM pg_settings WHERE name = 'tcp_user_timeout'), current_setting('application_name'), " +
            "(SELECT application_name FROM pg_stat_activity WHERE pid = pg_backend_pid())", conn);
        await using var r = await cmd.ExecuteReaderAsync();
        Assert.True(await r.ReadAsync());

        // pg_settings holds this session's values in their base unit: seconds for the keepalives, milliseconds for the user timeout.
        Assert.Equal($"{PgSession.IdleSeconds}s", r.GetString(0));
        Assert.Equal($"{PgSession.IntervalSeconds}s", r.GetString(1));
        Assert.Equal($"{PgSession.Probes}", r.GetString(2));
        Assert.Equal($"{PgSession.UserTimeoutMilliseconds}ms", r.GetString(3));
        Assert.StartsWith("ferry bl", r.GetString(4));
        Assert.Equal(r.GetString(4), r.GetString(5)); // what an operator sees in pg_stat_activity

        var b = new NpgsqlConnectionStringBuilder(cs);
        Assert.True(b.TcpKeepAlive);
        Assert.Equal(PgSession.IdleSeconds, b.TcpKeepAliveTime);
        Assert.Equal(PgSession.IntervalSeconds, b.TcpKeepAliveInterval);
    }

    [Fact]
    public async Task A_connection_string_given_whole_keeps_its_own_options_and_gains_the_keepalives()
    {
        var given = new NpgsqlConnectionStringBuilder(await TestPostgres.CreateDatabaseAsync("pgsession2")) { Options = "-c statement_timeout=123000" };

        await using var conn = new NpgsqlConnection(PgSession.DetectDeadPeer(given.ConnectionString, "ferry journal"));
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT current_setting('statement_timeout'), (SELECT setting FROM pg_settings WHERE name = 'tcp_keepalives_idle'), current_setting('application_name')", conn);
        await using var r = await cmd.ExecuteReaderAsync();
        Assert.True(await r.ReadAsync());

        Assert.Equal("123s", r.GetString(0));
        Assert.Equal($"{PgSession.IdleSeconds}", r.GetString(1));
        Assert.StartsWith("ferry journal", r.GetString(2));
    }

    [Fact]
    public void The_application_name_names_the_node_within_postgres_63_bytes()
    {
        Assert.Equal("ferry bl 10.213.0.21:4053", PgSession.ApplicationName("ferry bl", "10.213.0.21:4053"));
        Assert.Equal("ferry bl", PgSession.ApplicationName("ferry bl", ""));
        Assert.Equal(63, PgSession.ApplicationName(new string('a', 50), "node-with-a-long-name.example:4053").Length);
    }
}
