namespace Ferry.Worker.Introspection;

/// <summary>
/// Recognises created_at / updated_at / deleted_at and their usual spellings (createdAt, modified_on,
/// date_created, discarded_at …) among a table's timestamp columns.
/// </summary>
public static class ChangeColumnNames
{
    // Exact spellings (lower case, underscores removed), best first; then fragments as a fallback.
    private static readonly string[] Created = ["createdat", "created", "createdon", "creationdate", "createdate", "datecreated", "insertedat", "createdtime", "creationtime", "createtime", "inserttime", "insertdate", "createdts", "createts"];
    private static readonly string[] Updated = ["updatedat", "updated", "updatedon", "modifiedat", "modified", "modifiedon", "lastmodified", "lastmodifiedat", "lastupdated", "lastupdatedat", "changedat", "updatedate", "modifydate", "modificationdate", "lastmodifieddate", "updatetime", "updatedtime", "updatedts", "updatets"];
    private static readonly string[] Deleted = ["deletedat", "deleted", "deletedon", "deletiondate", "deletedate", "discardedat", "removedat", "deletedtime", "deletedts"];
    private static readonly string[] CreatedFragments = ["creat", "insert"];
    private static readonly string[] UpdatedFragments = ["updat", "modif", "chang"];
    private static readonly string[] DeletedFragments = ["delet", "discard", "remov"];

    public static ChangeColumns Find(IReadOnlyList<IntrospectedColumn> columns)
    {
        var candidates = columns.Where(c => c.IsTimestamp).Select(c => c.Name).ToList();
        var taken = new HashSet<string>(StringComparer.Ordinal);
        string? Pick(string[] exact, string[] fragments)
        {
            var pick = exact.Select(e => candidates.FirstOrDefault(c => Normal(c) == e && !taken.Contains(c))).FirstOrDefault(c => c is not null)
                ?? candidates.FirstOrDefault(c => !taken.Contains(c) && fragments.Any(f => Normal(c).Contains(f, StringComparison.Ordinal)));
            if (pick is not null) taken.Add(pick);
            return pick;
        }
        // Deleted first, so "deleted_on" is never mistaken for a change stamp by a fragment match.
        var deleted = Pick(Deleted, DeletedFragments);
        var created = Pick(Created, CreatedFragments);
        var updated = Pick(Updated, UpdatedFragments);
        return new ChangeColumns(created, updated, deleted);
    }

    private static string Normal(string name) => name.Replace("_", "").ToLowerInvariant();
}
