using Ferry.Shared.Stg;
using Ferry.Shared.Bl;
using Ferry.Worker.Bl;

namespace Ferry.Tests.Bl;

public sealed class TransformerTests
{
    private static async Task<BlTestBed> LoadedAsync(string name)
    {
        var bed = await BlTestBed.CreateAsync(name);
        await bed.LoadSmallFixtureAsync();
        await bed.RunAllAsync();
        return bed;
    }

    private const string UsersQuery = """
        SELECT u.email, u.first_name, u.last_name, u.phone, u.locale, o.name, u.origin, u.qvp_user_id, u.svp_user_id, u.is_active, u.created_at, u.updated_at
        FROM unipacc.users u LEFT JOIN unipacc.organisations o ON o.id = u.organisation_id ORDER BY u.email
        """;

    [Fact]
    public async Task The_business_layer_matches_the_hand_computed_rows()
    {
        var bed = await LoadedAsync("bl_contents");

        Assert.Equal(
            [
                ["qvp", "1", "Acme", "Acme GmbH", "DE", "DE1", null, "t"],
                ["svp", "1", "Beta", null, null, "FR2", "billing@beta.example", "t"],
            ],
            await bed.RowsAsync("SELECT origin, origin_key, name, legal_name, country_code, vat_number, billing_email, is_active FROM unipacc.organisations ORDER BY origin"));

        var users = await bed.RowsAsync(UsersQuery);
        Assert.Equal(3, users.Count);
        // Ann is in both systems: one user, QVP's values, SVP's earlier creation and later update.
        Assert.Equal<string?[]>(["ann@example.com", "Ann", "Lee", "+49 1", "de", "Acme", "both", "10", "20", "t", "2023-12-01 00:00:00+00", "2024-03-01 00:00:00+00"], users[0]);
        Assert.Equal<string?[]>(["bob@example.com", "Bob", "Roe", null, "en", "Acme", "qvp", "11", null, "t", "2024-01-07 00:00:00+00", "2024-01-08 00:00:00+00"], users[1]);
        Assert.Equal<string?[]>(["cy@example.com", "Cy", "Ng", null, null, "Beta", "svp", null, "21", "t", "2024-02-03 00:00:00+00", "2024-02-04 00:00:00+00"], users[2]);

        Assert.Equal(
            [
                ["qvp", "100", "00000000-0000-0000-0000-000000000100", "Acme", "ann@example.com", "bob@example.com", "KYC", "submitted"],
                ["svp", "200", "REF-200", "Beta", "ann@example.com", null, "passport", "approved"],
                ["svp", "201", "REF-201", "Beta", "cy@example.com", "ann@example.com", "id_card", "submitted"],
            ],
            await bed.RowsAsync("""
                SELECT r.origin, r.origin_key, r.reference, o.name, rq.email, asg.email, r.kind, r.status
                FROM unipacc.verification_requests r JOIN unipacc.organisations o ON o.id = r.organisation_id
                LEFT JOIN unipacc.users rq ON rq.id = r.requested_by LEFT JOIN unipacc.users asg ON asg.id = r.assigned_to
                ORDER BY r.origin, r.origin_key
                """));
    }

    [Fact]
    public async Task Rerunning_changes_no_rows()
    {
        var bed = await LoadedAsync("bl_rerun");
        var before = await bed.RowsAsync("SELECT * FROM unipacc.users ORDER BY id");

        // A full run reads everything again and must still find nothing to write.
        Assert.Equal(new MergeCounts(0, 0, 0, 3), await bed.RunAsync("users", TransformMode.Full));
        Assert.Equal(new MergeCounts(0, 0, 0, 3), await bed.RunAsync("verification_requests", TransformMode.Full));
        // An incremental run with no STG change since the last run reads nothing.
        Assert.Equal(MergeCounts.Zero, await bed.RunAsync("users"));
        Assert.Equal(before, await bed.RowsAsync("SELECT * FROM unipacc.users ORDER BY id"));
    }

    [Fact]
    public async Task The_same_person_in_both_systems_is_one_user_with_a_stable_id()
    {
        var bed = await LoadedAsync("bl_person");
        var id = await bed.ScalarAsync<long>("SELECT id FROM unipacc.users WHERE email = 'ann@example.com'");

        // Ann leaves QVP: she stays (SVP), then the mapping keeps her id on a full rebuild.
        await bed.ExecAsync("UPDATE stg.qvp_users SET stg_deleted_at = now(), stg_updated_at = now() WHERE id = 10");
        Assert.Equal(new MergeCounts(0, 1, 0, 0), await bed.RunAsync("users"));
        await bed.ExecAsync("TRUNCATE unipacc.users CASCADE");
        await bed.RunAsync("users", TransformMode.Full);
        Assert.Equal([[id.ToString(), "svp", null, "20", "Anna"]],
            await bed.RowsAsync("SELECT id, origin, qvp_user_id, svp_user_id, first_name FROM unipacc.users WHERE email = 'ann@example.com'"));
        Assert.Equal(1L, await bed.ScalarAsync<long>("SELECT count(*) FROM dwh.id_map WHERE system = 'person' AND source_key = 'ann@example.com'"));
    }
}

public sealed class TransformerChangeTests
{
    private const string Snapshot = """
        SELECT 'u', id::text, email, first_name, origin, organisation_id::text FROM unipacc.users
        UNION ALL SELECT 'o', id::text, name, vat_number, origin, billing_email FROM unipacc.organisations
        UNION ALL SELECT 'r', id::text, reference, status, requested_by::text, assigned_to::text FROM unipacc.verification_requests
        ORDER BY 1, 2
        """;

    [Fact]
    public async Task An_incremental_run_after_an_STG_change_equals_a_full_rebuild()
    {
        var bed = await BlTestBed.CreateAsync("bl_incr");
        await bed.LoadSmallFixtureAsync();
        await bed.RunAllAsync();
        await Task.Delay(10); // STG changes strictly after the last run's start
        await bed.ExecAsync("""
            UPDATE stg.svp_accounts SET name = 'Beta SA', stg_updated_at = now() WHERE id = 1;
            UPDATE stg.qvp_users SET email = 'robert@example.com', stg_updated_at = now() WHERE id = 11;
            UPDATE stg.svp_requests SET status = 4, stg_updated_at = now() WHERE id = 201;
            INSERT INTO stg.svp_users (id, account_id, email, first_name, created_at, updated_at) VALUES (22, 1, 'dee@example.com', 'Dee', '2024-06-01', '2024-06-01');
            """);
        await bed.RunAllAsync();
        var incremental = await bed.RowsAsync(Snapshot);

        await bed.ExecAsync("TRUNCATE unipacc.organisations, unipacc.users, unipacc.verification_requests CASCADE");
        await bed.RunAllAsync(TransformMode.Full);
        Assert.Equal(await bed.RowsAsync(Snapshot), incremental);
        Assert.Contains(incremental, r => r[2] == "robert@example.com");
        Assert.DoesNotContain(incremental, r => r[2] == "bob@example.com");
    }

    [Fact]
    public async Task Deletes_in_STG_propagate_to_the_business_layer()
    {
        var bed = await BlTestBed.CreateAsync("bl_delete");
        await bed.LoadSmallFixtureAsync();
        await bed.RunAllAsync();
        await bed.ExecAsync("""
            UPDATE stg.svp_users SET stg_deleted_at = now(), stg_updated_at = now() WHERE id = 21;
            UPDATE stg.qvp_verification_requests SET stg_deleted_at = now(), stg_updated_at = now() WHERE id = 100;
            """);

        Assert.Equal(new MergeCounts(0, 0, 1, 0), await bed.RunAsync("users"));
        // The FK already set REF-201's requester NULL, which is what the transform computes: nothing else to read.
        Assert.Equal(new MergeCounts(0, 0, 1, 0), await bed.RunAsync("verification_requests"));
        Assert.Equal(["ann@example.com", "bob@example.com"], (await bed.RowsAsync("SELECT email FROM unipacc.users ORDER BY 1")).Select(r => r[0]));
        // The request Cy made stays, without its requester.
        Assert.Equal([["REF-200", "ann@example.com"], ["REF-201", null]],
            await bed.RowsAsync("SELECT r.reference, u.email FROM unipacc.verification_requests r LEFT JOIN unipacc.users u ON u.id = r.requested_by ORDER BY 1"));
    }

    [Fact]
    public async Task A_transform_with_a_SQL_error_fails_alone_with_its_file_line_and_the_database_message()
    {
        var bed = await BlTestBed.CreateAsync("bl_error");
        await bed.LoadSmallFixtureAsync();
        var broken = TransformFile.Parse("/x/organisations.sql", """
            -- target: unipacc.organisations
            -- key: id

            SELECT id,
                   name
            FROM stg.qvp_organisations
            WHERE no_such_column > @since
            """);
        var e = await Assert.ThrowsAsync<TransformFailedException>(() => bed.RunAsync(broken));
        Assert.Equal("bl.unipacc.organisations: transform failed: organisations.sql:7: column \"no_such_column\" does not exist; unipacc.organisations unchanged", e.Message);

        // Others still run; the fixed file then brings the target to the right state.
        await Assert.ThrowsAsync<TransformFailedException>(() => bed.RunAsync("users"));  // its organisations are missing: FK
        await bed.RunAsync("organisations");
        Assert.Equal(new MergeCounts(3, 0, 0, 0), await bed.RunAsync("users"));
    }
}

public sealed class TransformPlanTests
{
    private static TransformFile File(string table, string depends = "") =>
        TransformFile.Parse($"/x/{table}.sql", $"-- target: unipacc.{table}\n-- key: id\n-- depends: {depends}\nSELECT 1 AS id\n");

    [Fact]
    public async Task The_plan_puts_parents_before_children_by_foreign_keys_and_depends()
    {
        var bed = await BlTestBed.CreateAsync("bl_plan");
        var plan = await TransformPlan.BuildAsync(BlTestBed.AllTransforms(), bed.ConnectionString, CancellationToken.None);
        var levels = plan.Levels.Select(l => l.Select(f => f.Target.Name).ToList()).ToList();
        int Level(string t) => levels.FindIndex(l => l.Contains(t));
        Assert.Equal(0, Level("organisations"));
        Assert.True(Level("users") > Level("organisations"));
        Assert.True(Level("verification_requests") > Level("users"));
        Assert.True(Level("reports") > Level("verification_requests"));
        Assert.True(Level("certificates") > Level("reports"));
        Assert.True(Level("invoices") > Level("organisations"));
        Assert.True(Level("attachments") > Level("reports"));
        Assert.Equal(BlTestBed.TargetTables.Order(), levels.SelectMany(l => l).Order());
        // Every foreign key between two transformed tables points to an earlier level.
        foreach (var (child, parent, _) in await ReadForeignKeys(bed))
            if (Level(child.Name) >= 0 && Level(parent.Name) >= 0)
                Assert.True(Level(child.Name) > Level(parent.Name), $"{child} runs before {parent}");
    }

    private static async Task<IReadOnlyList<(Ferry.Shared.Metadata.QualifiedName, Ferry.Shared.Metadata.QualifiedName, string)>> ReadForeignKeys(BlTestBed bed)
    {
        await using var conn = new Npgsql.NpgsqlConnection(bed.ConnectionString);
        await conn.OpenAsync();
        return await TransformPlan.ReadForeignKeysAsync(conn, CancellationToken.None);
    }

    [Fact]
    public void A_dependency_cycle_is_reported_with_its_tables()
    {
        var fk = new Ferry.Shared.Metadata.QualifiedName("unipacc", "c");
        var e = Assert.Throws<TransformFileException>(() => TransformPlan.Build(
            [File("a", "b"), File("b"), File("c"), File("d", "a")],
            [(new("unipacc", "b"), fk, "b_c_fkey"), (fk, new("unipacc", "a"), "c_a_fkey")]));
        Assert.Equal("dependency cycle: unipacc.a → unipacc.b → unipacc.c → unipacc.a", e.Message);
    }

    [Fact]
    public void Tables_without_dependencies_between_them_share_a_level()
    {
        var plan = TransformPlan.Build([File("a"), File("b", "a"), File("c", "a"), File("d", "b, c")], []);
        Assert.Equal([["a"], ["b", "c"], ["d"]], plan.Levels.Select(l => l.Select(f => f.Target.Name).ToArray()).ToArray());
    }
}

public sealed class TransformFileTests
{
    [Theory]
    [InlineData("-- key: id\nSELECT 1", "t.sql:1: the header has no 'target:' line (e.g. -- target: unipacc.users)")]
    [InlineData("-- target: users\n-- key: id\nSELECT 1", "t.sql:1: target 'users' is not schema.table (give the schema)")]
    [InlineData("-- target: unipacc.users\n-- key: id\n-- mode: sometimes\nSELECT 1", "t.sql:3: mode 'sometimes' is neither incremental nor full")]
    [InlineData("-- target: unipacc.users\n-- keys: id\nSELECT 1", "t.sql:2: unknown header field 'keys' (expected one of target, key, mode, depends, deleted)")]
    [InlineData("-- target: unipacc.users\n-- key: id\n-- key: id\nSELECT 1", "t.sql:3: 'key' is given twice (first on line 2)")]
    [InlineData("-- target: unipacc.users\n-- key: id\n", "t.sql:3: no SELECT after the header")]
    public void A_bad_header_is_reported_with_file_and_line(string text, string message) =>
        Assert.Equal(message, Assert.Throws<TransformFileException>(() => TransformFile.Parse("/x/t.sql", text)).Message);

    [Fact]
    public void Since_becomes_a_parameter_only_outside_quotes_and_comments_and_keeps_positions()
    {
        var file = TransformFile.Parse("/x/t.sql", "-- target: s.t\n-- key: id\nSELECT '@since' AS a, x >= @since -- @since\nFROM y");
        Assert.Equal("-- target: s.t\n-- key: id\nSELECT '@since' AS a, x >= $1     -- @since\nFROM y", file.Query);
        Assert.Equal(file.Text.Length, file.Query.Length);
        Assert.Equal(TransformMode.Incremental, file.Mode);
    }
}
