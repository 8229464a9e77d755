namespace Ferry.Cli.Demo;

/// <summary>
/// One table of a demo source, as the migration metadata needs to know it.
/// </summary>
/// <param name="Key">Primary key columns.</param>
/// <param name="SoftDeleteColumn">deleted_at where the application soft-deletes.</param>
/// <param name="ChangeColumns">The timestamps a CDC window looks at; empty means reload in full.</param>
/// <param name="HardDeletes">Whether the application deletes rows for good (a key sweep is needed to see it).</param>
public sealed record DemoTable(
    DemoSource Source,
    string Name,
    IReadOnlyList<string> Key,
    string? SoftDeleteColumn,
    IReadOnlyList<string> ChangeColumns,
    bool HardDeletes)
{
    public string Schema => "public";
}

/// <summary>Every table the demo scripts create, in load order (parents first).</summary>
public static class DemoTables
{
    private static readonly string[] Id = ["id"];
    private static readonly string[] Stamps = ["created_at", "updated_at"];
    private static readonly string[] SoftStamps = ["created_at", "updated_at", "deleted_at"];

    public static IReadOnlyList<DemoTable> Qvp { get; } =
    [
        new(DemoSource.Qvp, "countries", ["code"], null, [], HardDeletes: false),
        new(DemoSource.Qvp, "organisations", Id, null, Stamps, HardDeletes: false),
        new(DemoSource.Qvp, "users", Id, "deleted_at", SoftStamps, HardDeletes: false),
        new(DemoSource.Qvp, "verification_requests", Id, "deleted_at", SoftStamps, HardDeletes: true),
        new(DemoSource.Qvp, "reports", Id, null, Stamps, HardDeletes: false),
        new(DemoSource.Qvp, "report_reviewers", ["report_id", "user_id"], null, Stamps, HardDeletes: true),
        new(DemoSource.Qvp, "certificates", Id, null, Stamps, HardDeletes: false),
        new(DemoSource.Qvp, "invoices", Id, null, Stamps, HardDeletes: false),
        new(DemoSource.Qvp, "invoice_lines", ["invoice_id", "line_no"], null, Stamps, HardDeletes: true),
        new(DemoSource.Qvp, "file_storage", Id, "deleted_at", ["created_at", "deleted_at"], HardDeletes: true),
    ];

    public static IReadOnlyList<DemoTable> Svp { get; } =
    [
        new(DemoSource.Svp, "schema_migrations", ["version"], null, [], HardDeletes: false),
        new(DemoSource.Svp, "ar_internal_metadata", ["key"], null, Stamps, HardDeletes: false),
        new(DemoSource.Svp, "accounts", Id, null, Stamps, HardDeletes: false),
        new(DemoSource.Svp, "users", Id, null, Stamps, HardDeletes: true),
        new(DemoSource.Svp, "requests", Id, "deleted_at", SoftStamps, HardDeletes: true),
        new(DemoSource.Svp, "documents", Id, "deleted_at", SoftStamps, HardDeletes: true),
        new(DemoSource.Svp, "active_storage_blobs", Id, null, ["created_at"], HardDeletes: true),
        new(DemoSource.Svp, "active_storage_attachments", Id, null, ["created_at"], HardDeletes: true),
    ];

    public static IReadOnlyList<DemoTable> Of(DemoSource source) => source == DemoSource.Qvp ? Qvp : Svp;

    public static IEnumerable<DemoTable> All => Qvp.Concat(Svp);
}
