namespace Ferry.Shared.Stg;

/// <summary>What a merge did to STG. Revived rows (deleted earlier, back now) count as updated.</summary>
public sealed record MergeCounts(long Inserted, long Updated, long Deleted, long Unchanged)
{
    public static MergeCounts Zero { get; } = new(0, 0, 0, 0);
    public long Changed => Inserted + Updated + Deleted;
    public override string ToString() => $"{Inserted:N0} inserted, {Updated:N0} updated, {Deleted:N0} deleted, {Unchanged:N0} unchanged";
}
