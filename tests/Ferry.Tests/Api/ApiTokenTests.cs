using System.Net;
using Ferry.Coordinator.Api;

namespace Ferry.Tests.Api;

public sealed class ApiTokenTests : IDisposable
{
    private readonly string _home = Path.Combine(Path.GetTempPath(), $"ferry-token-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_home)) Directory.Delete(_home, recursive: true);
    }

    [Fact]
    public void A_coordinator_without_a_token_creates_one_only_its_user_can_read_and_keeps_it()
    {
        var first = ApiToken.ForCoordinator(_home, environmentValue: null);
        var second = ApiToken.ForCoordinator(_home, environmentValue: null);

        var file = ApiToken.FilePath(_home);
        Assert.Equal(file, first.Source);
        Assert.Equal(first.Value, second.Value);
        Assert.True(first.Value.Length >= 40);
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        Assert.DoesNotContain(first.Value, first.ToString());
        Assert.Equal(first.Value, ApiToken.ForClient(null, _home, environmentValue: null)?.Value);
    }

    [Fact]
    public void The_environment_token_wins_over_the_file_and_a_given_token_wins_for_the_client()
    {
        ApiToken.ForCoordinator(_home, environmentValue: null);
        var fromEnv = ApiToken.ForCoordinator(_home, "an-operator-chosen-token-1234");
        Assert.Equal("an-operator-chosen-token-1234", fromEnv.Value);
        Assert.Equal("$FERRY_API_TOKEN", fromEnv.Source);
        Assert.Equal("given-token", ApiToken.ForClient("given-token", _home, "an-operator-chosen-token-1234")?.Value);
        Assert.Null(ApiToken.ForClient(null, Path.Combine(_home, "elsewhere"), environmentValue: null));
        Assert.Throws<InvalidOperationException>(() => ApiToken.ForCoordinator(_home, "short"));
    }

    [Fact]
    public void A_token_file_others_can_read_is_refused()
    {
        if (OperatingSystem.IsWindows()) return;
        ApiToken.ForCoordinator(_home, environmentValue: null);
        File.SetUnixFileMode(ApiToken.FilePath(_home), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);

        var e = Assert.Throws<InvalidOperationException>(() => ApiToken.ForCoordinator(_home, environmentValue: null));
        Assert.Contains("chmod 600", e.Message);
    }

    [Fact]
    public void Tokens_match_only_when_equal()
    {
        var token = ApiToken.Generate();
        Assert.True(ApiToken.Matches(token, token));
        Assert.False(ApiToken.Matches(token, token[..^1]));
        Assert.False(ApiToken.Matches(token, token + "x"));
        Assert.False(ApiToken.Matches(token, null));
        Assert.False(ApiToken.Matches(token, ""));
    }

    [Theory]
    [InlineData(null, "127.0.0.1", 8080)]
    [InlineData("9090", "127.0.0.1", 9090)]
    [InlineData("0.0.0.0", "0.0.0.0", 8080)]
    [InlineData("0.0.0.0:9090", "0.0.0.0", 9090)]
    [InlineData("::", "::", 8080)]
    [InlineData("[::]:9090", "::", 9090)]
    public void The_api_bind_option_reads_an_address_a_port_or_both(string? bind, string address, int port)
    {
        Assert.Equal((IPAddress.Parse(address), port), ApiOptions.ParseBind(bind));
    }

    [Fact]
    public void A_bind_that_is_not_an_address_is_refused_with_an_example()
    {
        var e = Assert.Throws<ArgumentException>(() => ApiOptions.ParseBind("example.com:80"));
        Assert.Contains("0.0.0.0:8080", e.Message);
    }
}
