using Ferry.Tests.Infrastructure;
using Npgsql;

namespace Ferry.Tests.Metadata;

/// <summary>
/// A fresh source database for one test class, built from <see cref="SetupSql"/>, and the
/// connections.yaml that reaches it through environment references (as a real one would).
/// </summary>
public abstract class SourceDatabaseFixture : IAsyncLifetime
{
    public const string PortVariable = "FERRY_TEST_PG_PORT";
    public const string PasswordVariable = "FERRY_TEST_PG_PASSWORD";

    public string ConnectionString { get; private set; } = "";
    public string Database { get; private set; } = "";

    protected abstract string Prefix { get; }
    protected abstract string SetupSql { get; }

    public async Task InitializeAsync()
    {
        var server = await TestPostgres.GetAsync();
        // Same server for every class, so every class sets the same values.
        Environment.SetEnvironmentVariable(PortVariable, server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Environment.SetEnvironmentVariable(PasswordVariable, server.Password);
        ConnectionString = await TestPostgres.CreateDatabaseAsync(Prefix);
        Database = new NpgsqlConnectionStringBuilder(ConnectionString).Database!;
        await ExecuteAsync(SetupSql);
    }

    public async Task ExecuteAsync(string sql)
    {
        await using var conn = new NpgsqlConnection(ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }

    public string ConnectionsYaml(string source = "qvp") => $$"""
        sources:
          {{source}}: { host: 127.0.0.1, port: "${{{PortVariable}}}", database: {{Database}}, user: ferry, password: "${{{PasswordVariable}}}" }
        target: { host: 127.0.0.1, port: "${{{PortVariable}}}", database: {{Database}}, user: ferry, password: "${{{PasswordVariable}}}" }
        object_store: { kind: filesystem, path: .ferry/objects }
        """;

    public Task DisposeAsync() => Task.CompletedTask;
}
