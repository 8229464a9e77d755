using System.Text;
using System.Text.RegularExpressions;
using Ferry.Shared.Metadata;

namespace Ferry.Shared.Bl;

public enum TransformMode { Incremental, Full }

/// <summary>A header or file problem, located as file:line.</summary>
public sealed class TransformFileException(string message) : Exception(message);

/// <summary>
/// One sql/bl/*.sql file: a header of comments (target, key, mode, depends, deleted) and one SELECT
/// over STG. <see cref="Query"/> is the file's whole text with @since replaced by a parameter padded
/// to the same length, so a character position in the query is the same position in the file.
/// </summary>
public sealed partial record TransformFile(
    string Path,
    QualifiedName Target,
    IReadOnlyList<string> Key,
    TransformMode Mode,
    IReadOnlyList<string> Depends,
    string? DeletedColumn,
    string Text)
{
    public static readonly string[] Fields = ["target", "key", "mode", "depends", "deleted"];

    /// <summary>Process id, e.g. bl.unipacc.users.</summary>
    public string ProcessId => $"bl.{Target.Schema}.{Target.Name}";

    public string FileName => System.IO.Path.GetFileName(Path);

    /// <summary>The SELECT with @since as $1 (padded: positions match the file), trailing semicolon dropped.</summary>
    public string Query => SinceAsParameter(Text.TrimEnd().TrimEnd(';'));

    public static TransformFile Load(string path) => Parse(path, File.ReadAllText(path));

    public static IReadOnlyList<TransformFile> LoadFolder(string folder) =>
        Directory.GetFiles(folder, "*.sql").Order(StringComparer.Ordinal).Select(Load).ToList();

    public static TransformFile Parse(string path, string text)
    {
        var name = System.IO.Path.GetFileName(path);
        var lines = text.Split('\n');
        var seen = new Dictionary<string, (string Value, int Line)>();
        var bodyLine = 0;
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r').Trim();
            if (line.Length == 0) continue;
            if (!line.StartsWith("--", StringComparison.Ordinal)) { bodyLine = i + 1; break; }
            var m = FieldLine().Match(line);
            if (!m.Success) continue; // a free comment
            var field = m.Groups[1].Value.ToLowerInvariant();
            var value = m.Groups[2].Value.Trim();
            if (!Fields.Contains(field))
                throw new TransformFileException($"{name}:{i + 1}: unknown header field '{field}' (expected one of {string.Join(", ", Fields)})");
            if (seen.TryGetValue(field, out var first))
                throw new TransformFileException($"{name}:{i + 1}: '{field}' is given twice (first on line {first.Line})");
            if (value.Length == 0 && field != "depends")
                throw new TransformFileException($"{name}:{i + 1}: '{field}' has no value");
            seen[field] = (value, i + 1);
        }
        if (bodyLine == 0)
            throw new TransformFileException($"{name}:{lines.Length}: no SELECT after the header");

        if (!seen.TryGetValue("target", out var target))
            throw new TransformFileException($"{name}:1: the header has no 'target:' line (e.g. -- target: unipacc.users)");
        if (!target.Value.Contains('.') || !QualifiedName.TryParse(target.Value, out var targetName, out var error))
            throw new TransformFileException($"{name}:{target.Line}: target '{target.Value}' is not schema.table{(target.Value.Contains('.') ? "" : " (give the schema)")}");
        _ = error;

        if (!seen.TryGetValue("key", out var key))
            throw new TransformFileException($"{name}:1: the header has no 'key:' line (e.g. -- key: id)");
        var keyColumns = List(key.Value);
        if (keyColumns.Count == 0 || keyColumns.Any(k => k.Length == 0))
            throw new TransformFileException($"{name}:{key.Line}: key '{key.Value}' is not a comma-separated list of columns");

        var mode = TransformMode.Incremental;
        if (seen.TryGetValue("mode", out var modeText))
            mode = modeText.Value.ToLowerInvariant() switch
            {
                "incremental" => TransformMode.Incremental,
                "full" => TransformMode.Full,
                _ => throw new TransformFileException($"{name}:{modeText.Line}: mode '{modeText.Value}' is neither incremental nor full"),
            };

        var depends = seen.TryGetValue("depends", out var dep) ? List(dep.Value) : [];
        if (depends.Any(d => d.Length == 0))
            throw new TransformFileException($"{name}:{dep.Line}: depends '{dep.Value}' has an empty name");

        string? deleted = null;
        if (seen.TryGetValue("deleted", out var del))
        {
            if (del.Value.Contains(' ') || del.Value.Contains(','))
                throw new TransformFileException($"{name}:{del.Line}: deleted '{del.Value}' must be one boolean column of the SELECT");
            if (keyColumns.Contains(del.Value))
                throw new TransformFileException($"{name}:{del.Line}: deleted column '{del.Value}' is also a key column");
            deleted = del.Value;
        }

        return new TransformFile(path, targetName, keyColumns, mode, depends, deleted, text);
    }

    /// <summary>Splits a <see cref="TransformFileException"/> message "name.sql:12: what" into (12, "what"); without a line, (null, what).</summary>
    public static (int? Line, string Message) SplitLocation(string message)
    {
        var m = Location().Match(message);
        if (!m.Success) return (null, message);
        return (m.Groups[2].Success ? int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture) : null, message[m.Length..]);
    }

    /// <summary>The 1-based line of a 1-based character position in <see cref="Text"/> (as PostgreSQL reports positions).</summary>
    public int LineOf(int position)
    {
        var end = Math.Clamp(position - 1, 0, Text.Length);
        var line = 1;
        for (var i = 0; i < end; i++) if (Text[i] == '\n') line++;
        return line;
    }

    private static List<string> List(string value) =>
        value.Length == 0 ? [] : value.Split(',').Select(s => s.Trim()).ToList();

    /// <summary>Replaces @since by "$1    " outside quotes and comments.</summary>
    private static string SinceAsParameter(string sql)
    {
        const string since = "@since";
        var sb = new StringBuilder(sql.Length);
        var i = 0;
        while (i < sql.Length)
        {
            var c = sql[i];
            if (c == '-' && i + 1 < sql.Length && sql[i + 1] == '-')
            {
                var end = sql.IndexOf('\n', i);
                end = end < 0 ? sql.Length : end;
                sb.Append(sql, i, end - i); i = end;
            }
            else if (c == '/' && i + 1 < sql.Length && sql[i + 1] == '*')
            {
                var end = sql.IndexOf("*/", i + 2, StringComparison.Ordinal);
                end = end < 0 ? sql.Length : end + 2;
                sb.Append(sql, i, end - i); i = end;
            }
            else if (c is '\'' or '"')
            {
                var end = i + 1;
                while (end < sql.Length)
                {
                    if (sql[end] == c)
                    {
                        if (end + 1 < sql.Length && sql[end + 1] == c) { end += 2; continue; }
                        break;
                    }
                    end++;
                }
                end = Math.Min(end + 1, sql.Length);
                sb.Append(sql, i, end - i); i = end;
            }
            else if (c == '$' && DollarTag().Match(sql, i) is { Success: true } tag)
            {
                var close = sql.IndexOf(tag.Value, i + tag.Length, StringComparison.Ordinal);
                var end = close < 0 ? sql.Length : close + tag.Length;
                sb.Append(sql, i, end - i); i = end;
            }
            else if (c == '@' && string.CompareOrdinal(sql, i, since, 0, since.Length) == 0
                     && (i + since.Length == sql.Length || !IsIdentChar(sql[i + since.Length])))
            {
                sb.Append("$1    "); i += since.Length;
            }
            else { sb.Append(c); i++; }
        }
        return sb.ToString();
    }

    private static bool IsIdentChar(char c) => char.IsLetterOrDigit(c) || c == '_' || c == '$';

    [GeneratedRegex(@"^--\s*([A-Za-z_]+)\s*:(.*)$")]
    private static partial Regex FieldLine();

    [GeneratedRegex(@"^([^:\s]+\.sql)(?::(\d+))?: ")]
    private static partial Regex Location();

    [GeneratedRegex(@"\G\$([A-Za-z_][A-Za-z0-9_]*)?\$")]
    private static partial Regex DollarTag();
}
