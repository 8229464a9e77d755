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

    /// <remarks>
    /// The advisory lock orders the nodes, but a backend that waited for it may still read the catalog as
    /// it was before the holder committed (an advisory lock does not refresh the catalog caches), and then
    /// trip over the schema or table it just saw missing: one more attempt, in a new transaction, sees it.
    /// </remarks>
    public static async Task MigrateAsync(string connectionString, CancellationToken ct = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await MigrateOnceAsync(connectionString, ct);
                return;
            }
            catch (PostgresException e) when (attempt < 3 && e.SqlState is PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.DuplicateSchema
                                                  or PostgresErrorCodes.DuplicateTable or PostgresErrorCodes.DuplicateObject)
            {
            }
        }
    }

    private static async Task MigrateOnceAsync(string connectionString, CancellationToken ct)
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
