using System.Globalization;
using System.Text.RegularExpressions;

namespace Ferry.Shared.Verify;

/// <summary>A check file's header or section problem, located as file:line (like <see cref="Bl.TransformFileException"/>).</summary>
public sealed class CheckFileException(string message) : Exception(message);

/// <summary>
/// One query of a check: on a source (<see cref="Source"/> names it) or on the target (null). <see cref="Line"/> is the
/// line of its <c>-- source: x</c> / <c>-- target</c> marker; <see cref="Sql"/> is the text after it, trailing semicolon dropped.
/// </summary>
public sealed record CheckQuery(string? Source, string Sql, int Line)
{
    public string Side => Source is null ? "target" : $"source {Source}";

    /// <summary>The file line of a 1-based character position in <see cref="Sql"/> (as PostgreSQL reports positions).</summary>
    public int LineOf(int position)
    {
        var end = Math.Clamp(position - 1, 0, Sql.Length);
        var line = Line + 1;
        for (var i = 0; i < end; i++) if (Sql[i] == '\n') line++;
        return line;
    }
}

/// <summary>
/// One key indicator, sql/checks/&lt;name&gt;.sql: a header of comments (title, tolerance), then one query per source
/// after <c>-- source: &lt;name&gt;</c> and one on the target after <c>-- target</c>. Every query returns rows
/// (key text, value numeric); the sources' values are summed per key and compared with the target's per key,
/// a key on one side only counting as 0 on the other. A difference larger than <see cref="Tolerance"/> (absolute) is reported.
/// </summary>
public sealed partial record CheckFile(string Path, string Title, decimal Tolerance, IReadOnlyList<CheckQuery> Sources, CheckQuery Target)
{
    public static readonly string[] Fields = ["title", "tolerance"];

    /// <summary>The check's name: the file name without .sql (invoice_amounts_per_month).</summary>
    public string Name => System.IO.Path.GetFileNameWithoutExtension(Path);

    public string FileName => System.IO.Path.GetFileName(Path);

    public static CheckFile Load(string path) => Parse(path, File.ReadAllText(path));

    public static IReadOnlyList<CheckFile> LoadFolder(string folder) =>
        Directory.GetFiles(folder, "*.sql").Order(StringComparer.Ordinal).Select(Load).ToList();

    public static CheckFile Parse(string path, string text)
    {
        var name = System.IO.Path.GetFileName(path);
        var lines = text.Split('\n');
        var seen = new Dictionary<string, (string Value, int Line)>();
        var sections = new List<(string? Source, int Line)>();
        var bodies = new List<List<string>>();
        for (var i = 0; i < lines.Length; i++)
        {
            var raw = lines[i].TrimEnd('\r');
            var line = raw.Trim();
            if (Section().Match(line) is { Success: true } s)
            {
                var kind = s.Groups[1].Value.ToLowerInvariant();
                var source = s.Groups[2].Value.Trim();
                if (kind == "target" && source.Length > 0)
                    throw new CheckFileException($"{name}:{i + 1}: '-- target' takes no name (the target is the migration's target)");
                if (kind == "source" && !SourceName().IsMatch(source))
                    throw new CheckFileException($"{name}:{i + 1}: '-- source:' needs a source name (e.g. -- source: qvp), found '{source}'");
                var key = kind == "target" ? null : source;
                var twice = sections.FindIndex(x => x.Source == key);
                if (twice >= 0)
                    throw new CheckFileException($"{name}:{i + 1}: {(key is null ? "the target" : $"source '{key}'")} has two queries (first on line {sections[twice].Line})");
                sections.Add((key, i + 1));
                bodies.Add([]);
                continue;
            }
            if (sections.Count > 0) { bodies[^1].Add(raw); continue; }

            // The header: comments and blank lines only, fields as "-- name: value".
            if (line.Length == 0) continue;
            if (!line.StartsWith("--", StringComparison.Ordinal))
                throw new CheckFileException($"{name}:{i + 1}: SQL before the first '-- source: <name>' line (each query follows its -- source: or -- target line)");
            var m = FieldLine().Match(line);
            if (!m.Success) continue; // a free comment
            var field = m.Groups[1].Value.ToLowerInvariant();
            var value = m.Groups[2].Value.Trim();
            if (!Fields.Contains(field))
                throw new CheckFileException($"{name}:{i + 1}: unknown header field '{field}' (expected one of {string.Join(", ", Fields)}, then -- source: / -- target sections)");
            if (seen.TryGetValue(field, out var first))
                throw new CheckFileException($"{name}:{i + 1}: '{field}' is given twice (first on line {first.Line})");
            if (value.Length == 0)
                throw new CheckFileException($"{name}:{i + 1}: '{field}' has no value");
            seen[field] = (value, i + 1);
        }

        if (!seen.TryGetValue("title", out var title))
            throw new CheckFileException($"{name}:1: the header has no 'title:' line (e.g. -- title: Invoice totals per month)");
        var tolerance = 0m;
        if (seen.TryGetValue("tolerance", out var tol)
            && (!decimal.TryParse(tol.Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out tolerance) || tolerance < 0))
            throw new CheckFileException($"{name}:{tol.Line}: tolerance '{tol.Value}' is not a non-negative number (an absolute difference, e.g. 0.01)");

        var queries = new List<CheckQuery>();
        for (var k = 0; k < sections.Count; k++)
        {
            var sql = string.Join('\n', bodies[k]).TrimEnd().TrimEnd(';');
            var (source, line) = sections[k];
            if (!HasSql(sql))
                throw new CheckFileException($"{name}:{line}: the query of {(source is null ? "the target" : $"source '{source}'")} is empty");
            queries.Add(new CheckQuery(source, sql, line));
        }
        var sources = queries.Where(q => q.Source is not null).ToList();
        if (sources.Count == 0)
            throw new CheckFileException($"{name}:{lines.Length}: no '-- source: <name>' query (a check compares the sources with the target)");
        var target = queries.FirstOrDefault(q => q.Source is null)
            ?? throw new CheckFileException($"{name}:{lines.Length}: no '-- target' query (a check compares the sources with the target)");
        return new CheckFile(path, title.Value, tolerance, sources, target);
    }

    /// <summary>Anything but blank lines and line comments.</summary>
    private static bool HasSql(string sql) =>
        sql.Split('\n').Any(l => l.Trim() is { Length: > 0 } t && !t.StartsWith("--", StringComparison.Ordinal));

    // "-- source: qvp", "-- target" (or "-- target:"); "-- target rows are …" stays a comment.
    [GeneratedRegex(@"^--\s*(source|target)\s*(?::(.*))?$", RegexOptions.IgnoreCase)]
    private static partial Regex Section();

    [GeneratedRegex(@"^[A-Za-z0-9_]+$")]
    private static partial Regex SourceName();

    [GeneratedRegex(@"^--\s*([A-Za-z_]+)\s*:(.*)$")]
    private static partial Regex FieldLine();
}
