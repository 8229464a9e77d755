namespace Ferry.Shared.Metadata;

/// <summary>
/// <c>schema.table</c> as written in a table file. Names are taken as written (Ferry quotes every
/// identifier, so <c>Users</c> means "Users"); a part containing a dot is written in double quotes:
/// <c>public."order.items"</c>. Without a schema, <c>public</c>.
/// </summary>
public readonly record struct QualifiedName(string Schema, string Name)
{
    public const string DefaultSchema = "public";

    public static bool TryParse(string text, out QualifiedName name, out string error)
    {
        name = default;
        error = "";
        var parts = new List<string>();
        var i = 0;
        while (true)
        {
            while (i < text.Length && text[i] == ' ') i++;
            string part;
            if (i < text.Length && text[i] == '"')
            {
                var sb = new System.Text.StringBuilder();
                i++;
                while (true)
                {
                    if (i >= text.Length) { error = "unterminated double quote"; return false; }
                    if (text[i] == '"')
                    {
                        if (i + 1 < text.Length && text[i + 1] == '"') { sb.Append('"'); i += 2; continue; }
                        i++;
                        break;
                    }
                    sb.Append(text[i++]);
                }
                part = sb.ToString();
                while (i < text.Length && text[i] == ' ') i++;
            }
            else
            {
                var start = i;
                while (i < text.Length && text[i] != '.') i++;
                part = text[start..i].Trim();
                if (part.Contains('"')) { error = "a double quote may only surround a whole name"; return false; }
            }
            if (part.Length == 0) { error = "empty name"; return false; }
            parts.Add(part);
            if (i >= text.Length) break;
            if (text[i] != '.') { error = $"unexpected '{text[i]}' after a quoted name"; return false; }
            i++;
        }
        switch (parts.Count)
        {
            case 1: name = new QualifiedName(DefaultSchema, parts[0]); return true;
            case 2: name = new QualifiedName(parts[0], parts[1]); return true;
            default: error = "expected table or schema.table"; return false;
        }
    }

    /// <summary>The form TryParse reads back: parts quoted only when they need it.</summary>
    public override string ToString() => Part(Schema) + "." + Part(Name);

    private static string Part(string p) =>
        p.Contains('.') || p.Contains('"') || p != p.Trim() ? "\"" + p.Replace("\"", "\"\"") + "\"" : p;
}
