using System.Globalization;

namespace Ferry.Shared.Metadata.Yaml;

/// <summary>
/// Reads a table file's <c>obfuscate:</c> section: one line per column, a rule name (<c>phone</c>, <c>keep</c>,
/// <c>null</c>) or a one-key mapping with its parameter (<c>{ hash: 12 }</c>). Everything that can be checked
/// without the source is checked here, at the line; the column types are checked when an extract reads them.
/// </summary>
internal static class ObfuscateSection
{
    private static readonly HashSet<ObfuscationKind> NeedParameter = [ObfuscationKind.Fixed, ObfuscationKind.DateShift, ObfuscationKind.NumberNoise, ObfuscationKind.Truncate];
    private static readonly HashSet<ObfuscationKind> NoParameter = [ObfuscationKind.Keep, ObfuscationKind.Null, ObfuscationKind.Phone, ObfuscationKind.Email];
    private static readonly string[] NameParts = ["first", "last", "full"];
    private static readonly string[] Examples = ["phone", "email", "name", "keep", "null", "{ hash: 12 }", "{ fixed: XX }", "{ date_shift: 30 }", "{ number_noise: 5 }", "{ truncate: 20 }"];

    /// <param name="reserved">Columns the STG process itself needs unchanged (key, CDC, soft delete), with what they are for.</param>
    public static IReadOnlyDictionary<string, ObfuscationRule>? Read(YMapping map, string file, ICollection<MetadataError> errors,
        IReadOnlyDictionary<string, string> reserved, Action<string, TextPosition> mark)
    {
        var before = errors.Count;
        void Error(TextPosition at, string message) => errors.Add(new MetadataError(file, at.Line, at.Column, message));
        var rules = new Dictionary<string, ObfuscationRule>(StringComparer.Ordinal);
        foreach (var (key, value) in map.Entries)
        {
            var column = key.Value;
            if (column.Trim().Length == 0)
            {
                Error(key.Start, "'obfuscate' must name a column before each rule");
                continue;
            }
            var rule = ReadRule(column, value, key.Start, Error);
            if (rule is null) continue;
            if (rule.Kind != ObfuscationKind.Keep && reserved.TryGetValue(column, out var use))
            {
                Error(key.Start, $"'obfuscate.{column}': column {column} is {use}: STG needs its real values (only keep is allowed)");
                continue;
            }
            mark($"obfuscate.{column}", key.Start);
            rules[column] = rule;
        }
        return errors.Count == before ? rules : null;
    }

    private static ObfuscationRule? ReadRule(string column, YNode value, TextPosition keyAt, Action<TextPosition, string> error)
    {
        var field = $"'obfuscate.{column}'";
        switch (value)
        {
            case YScalar { IsNull: true, Value: "" }:
                error(keyAt, $"{field} has no rule (write null to blank the column, keep to copy it; expected one of: {string.Join(", ", Examples)})");
                return null;
            case YScalar { IsNull: true }:
                return new ObfuscationRule(ObfuscationKind.Null);
            case YScalar s:
            {
                if (Kind(s.Value, s.Start, field, error) is not { } kind) return null;
                if (NeedParameter.Contains(kind))
                {
                    error(s.Start, $"{field}: rule {s.Value} needs a parameter, e.g. {Examples.First(e => e.Contains(s.Value + ":"))}");
                    return null;
                }
                return new ObfuscationRule(kind, kind switch
                {
                    ObfuscationKind.Hash => ObfuscationRule.DefaultHashLength.ToString(CultureInfo.InvariantCulture),
                    ObfuscationKind.Name => "first",
                    _ => null,
                });
            }
            case YMapping { Entries.Count: 1 } m:
            {
                var (nameNode, parameter) = m.Entries[0];
                if (Kind(nameNode.Value, nameNode.Start, field, error) is not { } kind) return null;
                if (NoParameter.Contains(kind))
                {
                    error(nameNode.Start, $"{field}: rule {nameNode.Value} takes no parameter (write {column}: {nameNode.Value})");
                    return null;
                }
                if (parameter is not YScalar p || (p.IsNull && kind != ObfuscationKind.Fixed))
                {
                    error(parameter.Start, $"{field}: rule {nameNode.Value} needs a value, found {parameter.Kind}");
                    return null;
                }
                if (p.IsNull)
                {
                    error(p.Start, $"{field}: fixed needs a value (to blank the column write {column}: null)");
                    return null;
                }
                var text = p.Value.Trim();
                string? Bad(string expected)
                {
                    error(p.Start, $"{field}: {nameNode.Value} must be {expected}, found '{p.Value}'");
                    return null;
                }
                var checkedParameter = kind switch
                {
                    ObfuscationKind.Fixed => p.Value,
                    ObfuscationKind.Hash => WholeNumber(text, 1, 64) ?? Bad("a length from 1 to 64 hex digits"),
                    ObfuscationKind.DateShift => WholeNumber(text, 1, 3650) ?? Bad("a number of days from 1 to 3650"),
                    ObfuscationKind.Truncate => WholeNumber(text, 1, 1_000_000) ?? Bad("a length from 1 to 1,000,000 characters"),
                    ObfuscationKind.NumberNoise => Percent(text) ?? Bad("a percentage above 0 and at most 100, e.g. 5 or 2.5"),
                    ObfuscationKind.Name => NameParts.Contains(text) ? text : Bad($"one of {string.Join(", ", NameParts)}"),
                    _ => Bad("nothing"),
                };
                return checkedParameter is null ? null : new ObfuscationRule(kind, checkedParameter);
            }
            case YMapping m:
                error(m.Start, $"{field} must be one rule, e.g. {{ hash: 12 }}, found a mapping of {m.Entries.Count} keys");
                return null;
            default:
                error(value.Start, $"{field} must be a rule (one of: {string.Join(", ", Examples)}), found {value.Kind}");
                return null;
        }
    }

    private static ObfuscationKind? Kind(string name, TextPosition at, string field, Action<TextPosition, string> error)
    {
        if (ObfuscationRule.Names.TryGetValue(name, out var kind)) return kind;
        if (name == "sql")
        {
            // The rules run in the worker on the extract's CSV; a SQL expression would have to run on the source, which sees PROD's COPY.
            error(at, $"{field}: sql rules are not supported yet (the obfuscation runs in the worker, not in the source's SELECT); use one of: {string.Join(", ", ObfuscationRule.Names.Keys)}");
            return null;
        }
        var suggestion = NameSuggestion.Closest(name, [.. ObfuscationRule.Names.Keys]);
        error(at, $"{field}: unknown rule '{name}' ({(suggestion is null ? "" : $"did you mean '{suggestion}'? ")}expected one of: {string.Join(", ", ObfuscationRule.Names.Keys)})");
        return null;
    }

    private static string? WholeNumber(string text, int min, int max) =>
        int.TryParse(text.Replace("_", ""), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n.ToString(CultureInfo.InvariantCulture) : null;

    private static string? Percent(string text) =>
        decimal.TryParse(text.TrimEnd('%').Trim(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var p) && p > 0 && p <= 100
            ? p.ToString(CultureInfo.InvariantCulture) : null;
}
