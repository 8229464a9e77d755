namespace Ferry.Cli.Demo;

/// <summary>What one "day later" did to one table. A row is counted once, by its net effect.</summary>
public sealed record TableMutation(DemoSource Source, string Table, long Inserted, long Updated, long SoftDeleted, long HardDeleted)
{
    public long Changed => Inserted + Updated + SoftDeleted + HardDeleted;
}

/// <summary>What <see cref="DemoSources.MutateAsync(string, string, DateTimeOffset?, CancellationToken)"/> did, table by table.</summary>
public sealed record MutationSummary(DateTimeOffset AsOf, IReadOnlyList<TableMutation> Tables)
{
    public TableMutation For(DemoSource source, string table) =>
        Tables.FirstOrDefault(t => t.Source == source && t.Table == table)
        ?? throw new KeyNotFoundException($"the mutation summary has no table {source.Name()}.{table}");

    public long Inserted => Tables.Sum(t => t.Inserted);
    public long Updated => Tables.Sum(t => t.Updated);
    public long SoftDeleted => Tables.Sum(t => t.SoftDeleted);
    public long HardDeleted => Tables.Sum(t => t.HardDeleted);
}
