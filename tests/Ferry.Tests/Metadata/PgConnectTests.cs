using Ferry.Shared.Metadata;

namespace Ferry.Tests.Metadata;

public class PgConnectTests
{
    [Fact]
    public async Task A_connection_that_cannot_be_opened_is_named_with_its_host_port_and_database()
    {
        var qvp = new PgConnection("qvp", "127.0.0.1", 1, "qvp", "ferry", null);

        var error = await Assert.ThrowsAsync<ConnectionFailedException>(() => PgConnect.OpenAsync(qvp.ToConnectionString("ferry test")));

        Assert.StartsWith("source qvp (127.0.0.1:1/qvp): cannot connect: ", error.Message);
        Assert.DoesNotContain('\n', error.Message);
        Assert.Equal("source qvp (127.0.0.1:1/qvp)", error.Connection);
        Assert.True(error.IsTransient); // a server that is down may come back
    }

    [Fact]
    public async Task The_target_and_connection_strings_from_elsewhere_are_named_too()
    {
        var target = new PgConnection("target", "ferry-test-no-such-host.invalid", 5432, "unipacc", "ferry", null);

        var named = await Assert.ThrowsAsync<ConnectionFailedException>(() => PgConnect.OpenAsync(target.ToConnectionString()));
        var other = await Assert.ThrowsAsync<ConnectionFailedException>(() => PgConnect.OpenAsync("Host=127.0.0.1;Port=1;Database=x;Username=u"));

        Assert.StartsWith("target (ferry-test-no-such-host.invalid:5432/unipacc): cannot connect: ", named.Message);
        Assert.StartsWith("database 127.0.0.1:1/x: cannot connect: ", other.Message);
    }
}
