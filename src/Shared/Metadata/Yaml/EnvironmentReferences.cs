using System.Text.RegularExpressions;

namespace Ferry.Shared.Metadata.Yaml;

/// <summary>
/// <c>${NAME}</c> and <c>${NAME:-default}</c> in metadata values. Secrets stay references
/// (<see cref="SecretRef"/>, resolved when a connection opens, never with a default); other values are expanded at load.
/// As in the shell, the default applies when the variable is unset or empty.
/// </summary>
internal static partial class EnvironmentReferences
{
    [GeneratedRegex(@"\$\{(?<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?<default>[^}]*))?\}")]
    private static partial Regex Reference();

    [GeneratedRegex(@"^\$\{(?<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?<default>[^}]*))?\}$")]
    private static partial Regex WholeReference();

    /// <summary>The reference when <paramref name="value"/> is one whole <c>${NAME}</c>; <paramref name="hasDefault"/> says it carried a <c>:-default</c>.</summary>
    public static SecretRef? AsSecret(string value, out bool hasDefault)
    {
        var m = WholeReference().Match(value.Trim());
        hasDefault = m.Success && m.Groups["default"].Success;
        return m.Success ? new SecretRef(m.Groups["name"].Value) : null;
    }

    /// <summary>The value with every reference replaced; null and <paramref name="error"/> when a variable has no value and no default.</summary>
    public static string? Expand(string value, out string? error)
    {
        string? missing = null;
        var expanded = Reference().Replace(value, m =>
        {
            var name = m.Groups["name"].Value;
            if (Environment.GetEnvironmentVariable(name) is { Length: > 0 } v) return v;
            if (m.Groups["default"].Success) return m.Groups["default"].Value;
            missing ??= name;
            return "";
        });
        if (missing is not null)
        {
            error = $"environment variable {missing} is not set (referenced as ${{{missing}}}; give a default with ${{{missing}:-value}})";
            return null;
        }
        if (expanded.Contains("${"))
        {
            error = $"malformed environment reference in '{value}' (expected ${{NAME}} or ${{NAME:-default}})";
            return null;
        }
        error = null;
        return expanded;
    }
}
