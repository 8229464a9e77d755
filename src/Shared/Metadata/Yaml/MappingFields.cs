using System.Globalization;

namespace Ferry.Shared.Metadata.Yaml;

/// <summary>
/// Typed reads of one YAML mapping that report, instead of throwing, every unknown key, wrong type
/// and missing field at the position of the offending node. A read that fails returns null, so a
/// file is checked to the end and all its errors are reported together.
/// </summary>
internal sealed class MappingFields
{
    private readonly YMapping _map;
    private readonly string _file;
    private readonly ICollection<MetadataError> _errors;
    private readonly string? _section;

    public MappingFields(YMapping map, string file, ICollection<MetadataError> errors, string? section, IReadOnlyList<string> allowed)
    {
        _map = map;
        _file = file;
        _errors = errors;
        _section = section;
        foreach (var (key, _) in map.Entries)
        {
            if (allowed.Contains(key.Value)) continue;
            var suggestion = NameSuggestion.Closest(key.Value, allowed);
            var hint = suggestion is null ? "" : $"did you mean '{suggestion}'? ";
            Error(key.Start, $"unknown key '{key.Value}'{(_section is null ? "" : $" in '{_section}'")} ({hint}expected one of: {string.Join(", ", allowed)})");
        }
    }

    public string File => _file;
    public TextPosition Start => _map.Start;

    /// <summary>The qualified field name used in messages: <c>cdc.days</c>.</summary>
    public string Name(string key) => _section is null ? key : $"{_section}.{key}";

    public void Error(TextPosition at, string message) => _errors.Add(new MetadataError(_file, at.Line, at.Column, message));

    public void Missing(string key)
    {
        if (KeyPosition(key) is { } at)
            Error(at, $"'{Name(key)}' has no value");
        else
            Error(_map.Start, _section is null
                ? $"missing required field '{key}'"
                : $"missing required field '{key}' in '{_section}'");
    }

    /// <summary>The value node, or null when the key is absent or its value is null/empty.</summary>
    public YNode? Node(string key) => _map[key] is { } n && n is not YScalar { IsNull: true } ? n : null;

    public bool Has(string key) => Node(key) is not null;

    /// <summary>Where the key itself is written (for "this key does not apply here").</summary>
    public TextPosition? KeyPosition(string key) => _map.Entries.FirstOrDefault(e => e.Key.Value == key).Key?.Start;

    public YScalar? Scalar(string key, bool required = false, string expected = "a value")
    {
        switch (Node(key))
        {
            case null:
                if (required) Missing(key);
                return null;
            case YScalar s:
                return s;
            case var other:
                Error(other.Start, $"'{Name(key)}' must be {expected}, found {other.Kind}");
                return null;
        }
    }

    public string? String(string key, bool required = false)
    {
        var s = Scalar(key, required, "text");
        if (s is null) return null;
        if (s.Value.Trim().Length == 0)
        {
            Error(s.Start, $"'{Name(key)}' must not be empty");
            return null;
        }
        return s.Value;
    }

    public long? Long(string key, long min, long max, bool required = false)
    {
        var s = Scalar(key, required, "a whole number");
        if (s is null) return null;
        var text = s.Value.Replace("_", "");
        if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            Error(s.Start, $"'{Name(key)}' must be a whole number, found '{s.Value}'");
            return null;
        }
        if (value < min || value > max)
        {
            Error(s.Start, $"'{Name(key)}' must be between {min:N0} and {max:N0}, found {value:N0}");
            return null;
        }
        return value;
    }

    public int? Int(string key, int min, int max, bool required = false) => (int?)Long(key, min, max, required);

    public bool? Bool(string key)
    {
        var s = Scalar(key, expected: "true or false");
        if (s is null) return null;
        if (bool.TryParse(s.Value.Trim(), out var value)) return value;
        Error(s.Start, $"'{Name(key)}' must be true or false, found '{s.Value}'");
        return null;
    }

    /// <summary>Text with <c>${VAR}</c> / <c>${VAR:-default}</c> expanded now.</summary>
    public string? ExpandedString(string key, bool required = false)
    {
        var s = Scalar(key, required, "text");
        if (s is null) return null;
        var value = EnvironmentReferences.Expand(s.Value, out var error);
        if (value is null)
        {
            Error(s.Start, $"'{Name(key)}': {error}");
            return null;
        }
        if (value.Trim().Length == 0)
        {
            Error(s.Start, $"'{Name(key)}' must not be empty");
            return null;
        }
        return value;
    }

    /// <summary>A whole number, after expanding <c>${VAR:-default}</c>.</summary>
    public int? ExpandedInt(string key, int min, int max)
    {
        var s = Scalar(key, expected: "a whole number");
        if (s is null) return null;
        var text = EnvironmentReferences.Expand(s.Value, out var error);
        if (text is null)
        {
            Error(s.Start, $"'{Name(key)}': {error}");
            return null;
        }
        if (!int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            Error(s.Start, $"'{Name(key)}' must be a whole number from {min} to {max}, found '{text}'");
            return null;
        }
        return value;
    }

    /// <summary>
    /// A secret: only ever a reference to the environment, never the value itself. A literal is an
    /// error, and so is a default (<c>${VAR:-value}</c>): it would be the same literal, applied whenever
    /// the variable is unset. The message never repeats the value.
    /// </summary>
    public SecretRef? Secret(string key, string exampleVariable)
    {
        var s = Scalar(key, expected: "an environment reference");
        if (s is null) return null;
        var what = key == "password" ? "passwords" : "secrets";
        if (EnvironmentReferences.AsSecret(s.Value, out var hasDefault) is { } secret)
        {
            if (!hasDefault) return secret;
            Error(s.Start, $"'{Name(key)}' has a default value: {what} only as ${{ENV}} references without a default " +
                $"(a default is a literal secret in the file), e.g. {key}: \"${{{secret.Variable}}}\"");
            return null;
        }
        Error(s.Start, $"'{Name(key)}' is a literal value: {what} only as ${{ENV}} references, e.g. {key}: \"${{{exampleVariable}}}\"");
        return null;
    }

    /// <summary>A list of names (<c>[a, b]</c>); a single name is taken as a list of one.</summary>
    public IReadOnlyList<(string Value, TextPosition At)>? NameList(string key, bool required = false)
    {
        var node = Node(key);
        if (node is null)
        {
            if (required) Missing(key);
            return null;
        }
        var items = node switch
        {
            YSequence seq => seq.Items,
            YScalar s => [s],
            _ => null,
        };
        if (items is null)
        {
            Error(node.Start, $"'{Name(key)}' must be a list of column names, found {node.Kind}");
            return null;
        }
        if (items.Count == 0)
        {
            Error(node.Start, $"'{Name(key)}' must name at least one column");
            return null;
        }
        var result = new List<(string, TextPosition)>();
        var ok = true;
        foreach (var item in items)
        {
            if (item is not YScalar { IsNull: false } s || s.Value.Trim().Length == 0)
            {
                Error(item.Start, $"'{Name(key)}' must contain column names, found {(item is YScalar ? "an empty entry" : item.Kind)}");
                ok = false;
                continue;
            }
            if (result.Any(r => r.Item1 == s.Value))
            {
                Error(s.Start, $"'{Name(key)}' names column '{s.Value}' twice");
                ok = false;
                continue;
            }
            result.Add((s.Value, s.Start));
        }
        return ok ? result : null;
    }

    public YMapping? Mapping(string key, bool required = false)
    {
        var node = Node(key);
        if (node is null)
        {
            if (required) Missing(key);
            return null;
        }
        if (node is YMapping m) return m;
        Error(node.Start, $"'{Name(key)}' must be a mapping (key: value lines), found {node.Kind}");
        return null;
    }
}
