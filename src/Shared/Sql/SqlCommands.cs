using Npgsql;

namespace Ferry.Shared.Sql;

/// <summary>The statements Ferry runs for their effect, and the one schema-creation that must tolerate a race.</summary>
public static class SqlCommands
{
    /// <summary>Runs one statement (or a batch) with its values bound as parameters; returns the rows affected.</summary>
    public static async Task<int> ExecAsync(this NpgsqlConnection conn, string sql, CancellationToken ct, params NpgsqlParameter[] parameters)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        cmd.Parameters.AddRange(parameters);
        return await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// CREATE SCHEMA IF NOT EXISTS, safe when several processes do it at once: the loser of that race
    /// gets a unique violation from the catalog, which means the schema is there. Run it outside a transaction.
    /// </summary>
    public static async Task EnsureSchemaAsync(this NpgsqlConnection conn, string schema, CancellationToken ct)
    {
        try { await conn.ExecAsync(CreateSchema(schema), ct); }
        catch (PostgresException e) when (IsConcurrentCreate(e)) { }
    }

    /// <summary>The same, for start-up code that has no async context yet.</summary>
    public static void EnsureSchema(this NpgsqlConnection conn, string schema)
    {
        using var cmd = new NpgsqlCommand(CreateSchema(schema), conn);
        try { cmd.ExecuteNonQuery(); }
        catch (PostgresException e) when (IsConcurrentCreate(e)) { }
    }

    private static string CreateSchema(string schema) => $"CREATE SCHEMA IF NOT EXISTS {SqlText.Ident(schema)}";

    private static bool IsConcurrentCreate(PostgresException e) =>
        e.SqlState is PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.DuplicateSchema;
}
