using System.Reflection;
using Npgsql;

namespace Ferry.Worker.Bl;

/// <summary>
/// The engine's own DWH objects (sql/dwh/id_map.sql: dwh.id_map, dwh.map_id, dwh.bl_runs), shipped
/// inside this assembly and applied before every transform; the script is idempotent.
/// </summary>
public static class DwhSchema
{
    private const string Resource = "Ferry.Worker.Sql.dwh.id_map.sql";

    public static string Script { get; } = ReadScript();

    public static async Task EnsureAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        // Serialised: parallel transforms would otherwise race on CREATE OR REPLACE FUNCTION.
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var lockCmd = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtext('ferry.dwh.schema'))", conn, tx))
            await lockCmd.ExecuteNonQueryAsync(ct);
        await using (var cmd = new NpgsqlCommand(Script, conn, tx))
            await cmd.ExecuteNonQueryAsync(ct);
        await tx.CommitAsync(ct);
    }

    private static string ReadScript()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(Resource)
            ?? throw new InvalidOperationException($"{Resource} is not embedded in {Assembly.GetExecutingAssembly().GetName().Name}");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
