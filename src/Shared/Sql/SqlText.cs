namespace Ferry.Shared.Sql;

/// <summary>
/// The one place where Ferry turns names from metadata into SQL text. Every identifier is quoted;
/// values never pass through here: they are bound as parameters.
/// </summary>
public static class SqlText
{
    /// <summary>"name", with embedded quotes doubled. Rejects NUL, which PostgreSQL cannot store in a name.</summary>
    public static string Ident(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Contains('\0'))
            throw new ArgumentException("identifier contains a NUL character", nameof(name));
        return "\"" + name.Replace("\"", "\"\"") + "\"";
    }

    /// <summary>"schema"."table".</summary>
    public static string Qualified(string schema, string name) => Ident(schema) + "." + Ident(name);

    /// <summary>"a", "b", "c".</summary>
    public static string IdentList(IEnumerable<string> names) => string.Join(", ", names.Select(Ident));

    /// <summary>prefix."a", prefix."b".</summary>
    public static string IdentList(IEnumerable<string> names, string alias) => string.Join(", ", names.Select(n => alias + "." + Ident(n)));

    /// <summary>A string literal, for the rare places that cannot take a parameter (COPY's inner query has none).</summary>
    public static string Literal(string value)
    {
        if (value.Contains('\0'))
            throw new ArgumentException("literal contains a NUL character", nameof(value));
        return "'" + value.Replace("'", "''") + "'";
    }
}
