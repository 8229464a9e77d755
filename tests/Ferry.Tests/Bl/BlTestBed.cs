using System.Globalization;
using Ferry.Cli.Demo;
using Ferry.Shared.Stg;
using Ferry.Tests.Infrastructure;
using Ferry.Tests.Stg;
using Ferry.Shared.Bl;
using Ferry.Worker.Bl;
using Npgsql;

namespace Ferry.Tests.Bl;

/// <summary>
/// A fresh target database with STG tables shaped like the demo sources' (created from
/// sql/demo/*_schema.sql plus the STG columns, then filled by hand) and the UniPACC schema applied.
/// </summary>
public sealed class BlTestBed
{
    public required string ConnectionString { get; init; }
    public static string SqlRoot { get; } = SqlFolder.Locate();

    public static TransformFile Transform(string table) => TransformFile.Load(Path.Combine(SqlRoot, "bl", table + ".sql"));

    public static IReadOnlyList<TransformFile> AllTransforms() => TransformFile.LoadFolder(Path.Combine(SqlRoot, "bl"));

    public static async Task<BlTestBed> CreateAsync(string name)
    {
        var cs = await TestPostgres.CreateDatabaseAsync(name);
        var bed = new BlTestBed { ConnectionString = cs };
        foreach (var source in new[] { "qvp", "svp" })
        {
            var schema = await File.ReadAllTextAsync(Path.Combine(SqlRoot, "demo", $"{source}_schema.sql"));
            await bed.ExecAsync($"CREATE SCHEMA {source}_src; SET search_path = {source}_src;\n{schema}\nRESET search_path;");
        }
        await bed.ExecAsync("""
            CREATE SCHEMA stg;
            DO $$
            DECLARE t record;
            BEGIN
                FOR t IN SELECT table_schema, table_name FROM information_schema.tables
                         WHERE table_schema IN ('qvp_src', 'svp_src') LOOP
                    EXECUTE format('CREATE TABLE stg.%I (LIKE %I.%I INCLUDING DEFAULTS, stg_row_hash bigint NOT NULL DEFAULT 0,
                        stg_inserted_at timestamptz NOT NULL DEFAULT now(), stg_updated_at timestamptz NOT NULL DEFAULT now(),
                        stg_deleted_at timestamptz, stg_run_id text NOT NULL DEFAULT ''fixture'')',
                        replace(t.table_schema, '_src', '') || '_' || t.table_name, t.table_schema, t.table_name);
                END LOOP;
            END $$;
            """);
        await bed.ExecAsync(await File.ReadAllTextAsync(Path.Combine(SqlRoot, "unipacc", "schema.sql")));
        return bed;
    }

    public Task ExecAsync(string sql, params object[] values) => StgTestBed.ExecAsync(ConnectionString, sql, values);

    /// <summary>Every row as text the way psql shows it (booleans t/f, timestamps in UTC), NULL as null.</summary>
    public async Task<List<string?[]>> RowsAsync(string sql)
    {
        await using var conn = new NpgsqlConnection(ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        await using var r = await cmd.ExecuteReaderAsync();
        var rows = new List<string?[]>();
        while (await r.ReadAsync())
        {
            var row = new string?[r.FieldCount];
            for (var i = 0; i < r.FieldCount; i++)
                row[i] = r.IsDBNull(i) ? null : r.GetValue(i) switch
                {
                    bool b => b ? "t" : "f",
                    DateTime d => d.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + "+00",
                    IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                    var v => v.ToString(),
                };
            rows.Add(row);
        }
        return rows;
    }

    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var conn = new NpgsqlConnection(ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        return (T)(await cmd.ExecuteScalarAsync())!;
    }

    /// <summary>Two organisations, users (one person in both systems), requests in both systems.</summary>
    public Task LoadSmallFixtureAsync() => ExecAsync("""
        INSERT INTO stg.qvp_organisations (id, name, legal_name, country_code, vat_number, created_at, updated_at)
        VALUES (1, 'Acme', 'Acme GmbH', 'DE', 'DE1', '2024-01-01 00:00+00', '2024-01-02 00:00+00');
        INSERT INTO stg.svp_accounts (id, name, slug, billing_email, vat_number, active, created_at, updated_at)
        VALUES (1, 'Beta', 'beta', 'billing@beta.example', 'FR2', true, '2024-02-01 00:00', '2024-02-02 00:00');
        INSERT INTO stg.qvp_users (id, organisation_id, email, first_name, last_name, phone, locale, is_active, created_at, updated_at)
        VALUES (10, 1, 'Ann@Example.com', 'Ann', 'Lee', '+49 1', 'de', true, '2024-01-05 00:00+00', '2024-01-06 00:00+00'),
               (11, 1, 'bob@example.com', 'Bob', 'Roe', NULL, 'en', true, '2024-01-07 00:00+00', '2024-01-08 00:00+00');
        INSERT INTO stg.svp_users (id, account_id, email, first_name, last_name, phone, locale, created_at, updated_at)
        VALUES (20, 1, 'ann@example.com', 'Anna', 'Lee', '+33 9', 'fr', '2023-12-01 00:00', '2024-03-01 00:00'),
               (21, 1, 'cy@example.com', 'Cy', 'Ng', NULL, NULL, '2024-02-03 00:00', '2024-02-04 00:00');
        INSERT INTO stg.qvp_verification_requests (id, public_id, organisation_id, requested_by, assigned_to, "Type", status, subject_name, created_at, updated_at)
        VALUES (100, '00000000-0000-0000-0000-000000000100', 1, 10, 11, 'KYC', 'submitted', 'Subject A', '2024-04-01 00:00+00', '2024-04-02 00:00+00');
        INSERT INTO stg.svp_requests (id, account_id, user_id, assignee_id, reference, status, kind, subject_name, created_at, updated_at)
        VALUES (200, 1, 20, NULL, 'REF-200', 3, 'passport', 'Subject B', '2024-05-01 00:00', '2024-05-02 00:00'),
               (201, 1, 21, 20, 'REF-201', 1, 'id_card', 'Subject C', '2024-05-03 00:00', '2024-05-04 00:00');
        """);

    public Task<MergeCounts> RunAsync(string table, TransformMode? mode = null) => RunAsync(Transform(table), mode);

    public Task<MergeCounts> RunAsync(TransformFile file, TransformMode? mode = null) =>
        Transformer.RunAsync(file, ConnectionString, Guid.NewGuid().ToString("N"), CancellationToken.None, mode);

    public async Task RunAllAsync(TransformMode? mode = null)
    {
        foreach (var level in (await TransformPlan.BuildAsync(AllTransforms(), ConnectionString, CancellationToken.None)).Levels)
            foreach (var file in level)
                await Transformer.RunAsync(file, ConnectionString, Guid.NewGuid().ToString("N"), CancellationToken.None, mode);
    }
}
