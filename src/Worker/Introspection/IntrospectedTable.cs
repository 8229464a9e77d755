using Ferry.Shared.Metadata;

namespace Ferry.Worker.Introspection;

/// <summary>A source relation as the catalog describes it: what metadata generation and validation need.</summary>
public sealed record IntrospectedTable(
    QualifiedName Name,
    RelationKind Kind,
    IReadOnlyList<IntrospectedColumn> Columns,
    IntrospectedKey? PrimaryKey,
    IReadOnlyList<IntrospectedKey> UniqueKeys,
    RowEstimate? Rows,
    ChangeColumns Changes)
{
    public IntrospectedColumn? Column(string name) => Columns.FirstOrDefault(c => c.Name == name);

    /// <summary>
    /// The key STG merges on: the primary key, else the unique index with the fewest columns whose
    /// columns are all NOT NULL (a nullable unique column does not identify a row).
    /// </summary>
    public IntrospectedKey? BestKey =>
        PrimaryKey ?? UniqueKeys
            .Where(k => k.Columns.All(c => Column(c)?.NotNull == true))
            .OrderBy(k => k.Columns.Count).ThenBy(k => k.IndexName, StringComparer.Ordinal)
            .FirstOrDefault();

    /// <summary>True when <paramref name="columns"/> (in any order) are exactly the primary key or a unique index.</summary>
    public bool IsUniqueKey(IEnumerable<string> columns)
    {
        var set = columns.ToHashSet(StringComparer.Ordinal);
        return (PrimaryKey is null ? UniqueKeys : UniqueKeys.Prepend(PrimaryKey)).Any(k => set.SetEquals(k.Columns));
    }
}

public enum RelationKind { Table, PartitionedTable, View, MaterializedView, ForeignTable }

/// <summary>One column. <see cref="Type"/> is as declared (format_type); <see cref="IsTimestamp"/> looks through domains.</summary>
public sealed record IntrospectedColumn(string Name, string Type, bool NotNull, bool IsTimestamp);

public sealed record IntrospectedKey(string IndexName, IReadOnlyList<string> Columns, bool IsPrimaryKey);

/// <summary>How many rows: the planner's estimate (pg_class.reltuples), or an exact count when the table was never analyzed.</summary>
public sealed record RowEstimate(long Rows, bool Exact)
{
    public override string ToString() => Exact ? $"{Rows:N0} rows (counted)" : $"about {Rows:N0} rows (planner estimate)";
}

/// <summary>The timestamp columns that say when a row was created, last updated and soft-deleted, where a table has them.</summary>
public sealed record ChangeColumns(string? Created, string? Updated, string? Deleted)
{
    public static ChangeColumns None { get; } = new(null, null, null);

    /// <summary>What a window predicate looks at: created, updated, deleted, in that order.</summary>
    public IReadOnlyList<string> WindowColumns => new[] { Created, Updated, Deleted }.OfType<string>().ToArray();

    /// <summary>A window needs a column that moves when a row is inserted or changed; a deletion stamp alone misses new rows.</summary>
    public bool SupportsWindow => Created is not null || Updated is not null;
}
