using Ferry.Shared.Sql;

namespace Ferry.Worker.Verify;

/// <summary>
/// The order-independent digest of a set of rows: how many, and the sum of each row's 64-bit hash of its
/// text form (<c>hashtextextended(ROW(c1, c2, …)::text, 0)</c>, computed by the server). The text form is the
/// extract's because both sides pin the extract's session settings; the sum is numeric in PostgreSQL, so it
/// cannot overflow, and travels as text.
/// </summary>
internal readonly record struct RowDigest(long Rows, string Sum)
{
    public static RowDigest Empty { get; } = new(0, "0");

    /// <summary>The SQL of one row's hash over <paramref name="columns"/> (quoted here).</summary>
    public static string HashSql(IEnumerable<string> columns, string? alias = null) =>
        $"hashtextextended(ROW({(alias is null ? SqlText.IdentList(columns) : SqlText.IdentList(columns, alias))})::text, 0)";

    /// <summary>The SQL of the aggregate pair: <c>count(*), coalesce(sum(hash), 0)::text</c>.</summary>
    public static string AggregateSql(string hashSql) => $"count(*), coalesce(sum({hashSql}), 0)::text";
}
