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
        await bed.ExecAsync(FileCopiesDdl);
        await bed.ExecAsync(await File.ReadAllTextAsync(Path.Combine(SqlRoot, "unipacc", "schema.sql")));
        return bed;
    }

    /// <summary>The files process's STG table, as it creates it in production.</summary>
    public const string FileCopiesDdl = """
        CREATE TABLE IF NOT EXISTS stg.file_copies (
          process_id text NOT NULL,
          source_key text NOT NULL, target_key text, size_bytes bigint, checksum text,
          status text NOT NULL,
          error text, run_id text NOT NULL, attempts integer NOT NULL, source_created_at timestamptz,
          stg_inserted_at timestamptz NOT NULL, stg_updated_at timestamptz NOT NULL,
          PRIMARY KEY (process_id, source_key));
        """;

    /// <summary>The demo sources at scale 1 as of <paramref name="asOf"/>, generated into qvp_src / svp_src and merged into STG.</summary>
    public async Task LoadDemoAsync(DateTimeOffset asOf)
    {
        foreach (var source in new[] { DemoSource.Qvp, DemoSource.Svp })
            await RunDemoScriptAsync(source, "generate", asOf, scale: 1);
        await MergeStgAsync();
    }

    /// <summary>One day of demo activity in both sources, then merged into STG like the STG processes would.</summary>
    public async Task MutateDemoAsync(DateTimeOffset asOf)
    {
        foreach (var source in new[] { DemoSource.Qvp, DemoSource.Svp })
            await RunDemoScriptAsync(source, "mutate", asOf, scale: null);
        await MergeStgAsync();
    }

    private async Task RunDemoScriptAsync(DemoSource source, string kind, DateTimeOffset asOf, int? scale)
    {
        var script = await DemoSources.ScriptAsync(source, kind, CancellationToken.None);
        await using var conn = new NpgsqlConnection(ConnectionString);
        await conn.OpenAsync();
        await using (var set = new NpgsqlCommand($"SELECT set_config('ferry.demo_scale', $1, false), set_config('ferry.demo_as_of', $2, false), set_config('search_path', '{source.Name()}_src', false)", conn))
        {
            set.Parameters.Add(new NpgsqlParameter { Value = scale?.ToString(CultureInfo.InvariantCulture) ?? "" });
            set.Parameters.Add(new NpgsqlParameter { Value = asOf.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'+00'", CultureInfo.InvariantCulture) });
            await set.ExecuteNonQueryAsync();
        }
        await using var tx = await conn.BeginTransactionAsync();
        await using (var cmd = new NpgsqlCommand(script, conn, tx) { CommandTimeout = 0 })
            await cmd.ExecuteNonQueryAsync();
        await tx.CommitAsync();
    }

    /// <summary>
    /// Every source table into its STG table the way the STG merge does it: new keys inserted, changed
    /// rows updated (stg_updated_at = now()), rows gone or soft-deleted (metadata's soft_delete_column)
    /// marked with stg_deleted_at, rows coming back revived. One transaction.
    /// </summary>
    public async Task MergeStgAsync()
    {
        await using var conn = new NpgsqlConnection(ConnectionString);
        await conn.OpenAsync();
        var tables = new List<(string Schema, string Table, List<string> Columns, List<string> Key)>();
        await using (var cmd = new NpgsqlCommand("""
            SELECT n.nspname, c.relname,
                   (SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
                   (SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_constraint k JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY (k.conkey)
                    WHERE k.conrelid = c.oid AND k.contype = 'p')
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname IN ('qvp_src', 'svp_src') AND c.relkind = 'r' ORDER BY 1, 2
            """, conn))
        await using (var r = await cmd.ExecuteReaderAsync())
            while (await r.ReadAsync())
                tables.Add((r.GetString(0), r.GetString(1), [.. r.GetFieldValue<string[]>(2)], [.. r.GetFieldValue<string[]>(3)]));

        await using var tx = await conn.BeginTransactionAsync();
        foreach (var (schema, table, columns, key) in tables)
        {
            var source = schema.Replace("_src", "");
            var softDelete = SoftDeleteColumn(source, table);
            string Q(string c) => $"\"{c.Replace("\"", "\"\"")}\"";
            string List(string alias) => string.Join(", ", columns.Select(c => $"{alias}.{Q(c)}"));
            var join = string.Join(" AND ", key.Select(k => $"t.{Q(k)} = s.{Q(k)}"));
            var soft = softDelete is null ? "false" : $"(s.{Q(softDelete)} IS NOT NULL)";
            var src = $"{schema}.{Q(table)}";
            var stg = $"stg.{Q(source + "_" + table)}";
            await using var merge = new NpgsqlCommand($"""
                UPDATE {stg} t SET ({string.Join(", ", columns.Select(Q))}) = ROW({List("s")}), stg_updated_at = now(),
                       stg_deleted_at = CASE WHEN {soft} THEN coalesce(t.stg_deleted_at, now()) END
                FROM {src} s
                WHERE {join} AND (ROW({List("t")}) IS DISTINCT FROM ROW({List("s")}) OR (t.stg_deleted_at IS NOT NULL) <> {soft});
                UPDATE {stg} t SET stg_deleted_at = now(), stg_updated_at = now()
                WHERE t.stg_deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM {src} s WHERE {join});
                INSERT INTO {stg} ({string.Join(", ", columns.Select(Q))}, stg_deleted_at)
                SELECT {List("s")}, CASE WHEN {soft} THEN now() END FROM {src} s
                WHERE NOT EXISTS (SELECT 1 FROM {stg} t WHERE {join});
                """, conn, tx);
            await merge.ExecuteNonQueryAsync();
        }
        await tx.CommitAsync();
    }

    private static string? SoftDeleteColumn(string source, string table)
    {
        var yaml = Path.Combine(SqlRoot, "..", "metadata", "tables", source, table + ".yaml");
        if (!File.Exists(yaml)) return null;
        var line = File.ReadLines(yaml).FirstOrDefault(l => l.StartsWith("soft_delete_column:", StringComparison.Ordinal));
        return line?["soft_delete_column:".Length..].Trim();
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
        INSERT INTO stg.qvp_reports (id, request_id, author_id, version, title, summary, risk_score, is_final, created_at, updated_at)
        VALUES (300, 100, 11, 1, 'KYC report on Subject A', 'clear', 12.50, true, '2024-04-03 00:00+00', '2024-04-04 00:00+00'),
               (301, 100, 12, 2, 'KYC report on Subject A (revised)', NULL, NULL, false, '2024-04-05 00:00+00', '2024-04-05 00:00+00');
        INSERT INTO stg.qvp_certificates (id, report_id, organisation_id, certificate_no, valid_from, valid_until, created_at, updated_at)
        VALUES (400, 300, 1, 'QVP-2024-0000400', '2024-04-05', 'infinity', '2024-04-05 00:00+00', '2024-04-05 00:00+00');
        INSERT INTO stg.qvp_invoices (id, organisation_id, invoice_no, status, currency, issued_on, due_on, net_amount, vat_amount, total_amount, paid_at, created_at, updated_at)
        VALUES (500, 1, 'INV-2024-000500', 'paid', 'CHF', '2024-04-06', '2024-05-06', 100.00, 8.10, 108.10, '2024-04-20 00:00+00', '2024-04-06 00:00+00', '2024-04-20 00:00+00');
        INSERT INTO stg.qvp_file_storage (id, request_id, report_id, uploaded_by, kind, bucket, object_key, file_name, content_type, size_bytes, checksum_md5, created_at, deleted_at, stg_deleted_at)
        VALUES (600, 100, NULL, 10, 'upload', 'qvp-uploads', 'uploads/2024/04/100/600.pdf', 'passport.pdf', 'application/pdf', 1234, 'm600', '2024-04-01 01:00+00', NULL, NULL),
               (601, 100, 300, 11, 'report_pdf', 'qvp-documents', 'reports/100/601.pdf', 'Report 100 v1.pdf', 'application/pdf', 2000, 'm601', '2024-04-03 00:01+00', NULL, NULL),
               (602, 100, NULL, 10, 'upload', 'qvp-uploads', 'uploads/2024/04/100/602.png', 'old.png', 'image/png', 10, 'm602', '2024-04-01 02:00+00', '2024-04-02 00:00+00', now());
        INSERT INTO stg.svp_documents (id, request_id, uploaded_by_id, type, title, created_at, updated_at)
        VALUES (700, 200, 20, 'Documents::Passport', 'Passport', '2024-05-01 01:00', '2024-05-01 01:00');
        INSERT INTO stg.svp_active_storage_blobs (id, key, filename, content_type, service_name, byte_size, checksum, created_at)
        VALUES (800, 'blobkey800', 'pass.jpg', 'image/jpeg', 'oci', 5000, 'c800', '2024-05-01 01:00'),
               (801, 'blobkey801', 'notes.txt', 'text/plain', 'oci', 10, NULL, '2024-05-03 01:00'),
               (802, 'blobkey802', 'avatar.png', 'image/png', 'oci', 99, 'c802', '2023-12-01 00:00');
        INSERT INTO stg.svp_active_storage_attachments (id, name, record_type, record_id, blob_id, created_at)
        VALUES (900, 'file', 'Document', 700, 800, '2024-05-01 01:00'),
               (901, 'attachments', 'Request', 201, 801, '2024-05-03 01:00'),
               (902, 'avatar', 'User', 20, 802, '2023-12-01 00:00');
        INSERT INTO stg.file_copies (process_id, source_key, target_key, size_bytes, checksum, status, error, run_id, attempts, source_created_at, stg_inserted_at, stg_updated_at)
        VALUES ('files.qvp', 'uploads/2024/04/100/600.pdf', 'unipacc/qvp/600.pdf', 1234, 'm600', 'copied', NULL, 'files-1', 1, '2024-04-01 01:00+00', now(), now()),
               ('files.qvp', 'reports/100/601.pdf', NULL, NULL, NULL, 'failed', 'source object missing', 'files-1', 3, '2024-04-03 00:01+00', now(), now()),
               ('files.svp', 'blobkey800', 'unipacc/svp/blobkey800', 5000, 'c800', 'copied', NULL, 'files-1', 1, '2024-05-01 01:00+00', now(), now());
        """);

    public Task<MergeCounts> RunAsync(string table, TransformMode? mode = null) => RunAsync(Transform(table), mode);

    public Task<MergeCounts> RunAsync(TransformFile file, TransformMode? mode = null) =>
        Transformer.RunAsync(file, ConnectionString, Guid.NewGuid().ToString("N"), CancellationToken.None, mode);

    /// <summary>Every transform in plan order; the counts by target table.</summary>
    public async Task<Dictionary<string, MergeCounts>> RunAllAsync(TransformMode? mode = null)
    {
        var counts = new Dictionary<string, MergeCounts>();
        foreach (var level in (await TransformPlan.BuildAsync(AllTransforms(), ConnectionString, CancellationToken.None)).Levels)
            foreach (var file in level)
                counts[file.Target.Name] = await Transformer.RunAsync(file, ConnectionString, Guid.NewGuid().ToString("N"), CancellationToken.None, mode);
        return counts;
    }

    /// <summary>The UniPACC tables, parents first.</summary>
    public static readonly string[] TargetTables = ["organisations", "users", "verification_requests", "reports", "certificates", "invoices", "attachments"];

    /// <summary>Every row of every target table as text, by table and id.</summary>
    public async Task<List<string?[]>> SnapshotAsync() =>
        await RowsAsync(string.Join("\nUNION ALL ", TargetTables.Select(t => $"SELECT '{t}', id, x::text FROM unipacc.{t} x")) + "\nORDER BY 1, 2");
}
