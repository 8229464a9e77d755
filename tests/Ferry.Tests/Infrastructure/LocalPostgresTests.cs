using Npgsql;

namespace Ferry.Tests.Infrastructure;

public class LocalPostgresTests
{
    [Fact]
    public async Task The_harness_starts_a_real_PostgreSQL_15_or_newer_and_gives_each_caller_its_own_database()
    {
        var a = await TestPostgres.CreateDatabaseAsync("harness");
        var b = await TestPostgres.CreateDatabaseAsync("harness");
        Assert.NotEqual(a, b);
        await using var conn = new NpgsqlConnection(a);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SHOW server_version_num", conn);
        var version = int.Parse((string)(await cmd.ExecuteScalarAsync())!);
        Assert.True(version >= 150000, $"server_version_num {version}");
    }
}
