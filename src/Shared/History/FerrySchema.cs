using System.Reflection;
using Npgsql;

namespace Ferry.Shared.History;

/// <summary>Ferry's own schema in the target database (run history), migrated under an advisory lock.</summary>
public static class FerrySchema
{
    private const string Resource = "Ferry.Shared.Sql.ferry.schema.sql";

    /// <summary>The advisory lock key every node takes while it migrates ("ferry" as a number).</summary>
    public const long LockKey = 0x6665727279;

    private static readonly Lazy<string> Script = new(() =>
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(Resource)
            ?? throw new InvalidOperationException($"{Resource} is not embedded in {Assembly.GetExecutingAssembly().GetName().Name}");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    public static async Task MigrateAsync(string connectionString, CancellationToken ct = default)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var lockCmd = new NpgsqlCommand("SELECT pg_advisory_xact_lock($1)", conn, tx))
        {
            lockCmd.Parameters.Add(new NpgsqlParameter { Value = LockKey });
            await lockCmd.ExecuteNonQueryAsync(ct);
        }
        await using (var migrate = new NpgsqlCommand(Script.Value, conn, tx))
            await migrate.ExecuteNonQueryAsync(ct);
        await tx.CommitAsync(ct);
    }
}

/// <summary>Migrates Ferry's schema when the node starts, before its actors run (registered ahead of Akka's own hosted service).</summary>
public sealed class FerrySchemaMigration(RunHistory history) : Microsoft.Extensions.Hosting.IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => history.EnsureAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
