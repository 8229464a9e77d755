using Ferry.Shared.Stg;
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
