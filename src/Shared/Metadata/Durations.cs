using System.Globalization;
using System.Text.RegularExpressions;

namespace Ferry.Shared.Metadata;

/// <summary>Durations as metadata and the CLI write them: 30s, 10m, 2h, 7d, or sums such as 1h30m.</summary>
public static partial class Durations
{
    [GeneratedRegex(@"^(\d+[smhd])+$")]
    private static partial Regex Whole();

    [GeneratedRegex(@"(\d+)([smhd])")]
    private static partial Regex Part();

    /// <summary>The duration <paramref name="text"/> writes, or null when it is not one.</summary>
    public static TimeSpan? Parse(string text)
    {
        text = text.Trim();
        if (!Whole().IsMatch(text)) return null;
        var total = TimeSpan.Zero;
        foreach (Match m in Part().Matches(text))
        {
            if (!long.TryParse(m.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n > 100_000) return null;
            total += m.Groups[2].Value switch
            {
                "s" => TimeSpan.FromSeconds(n),
                "m" => TimeSpan.FromMinutes(n),
                "h" => TimeSpan.FromHours(n),
                _ => TimeSpan.FromDays(n),
            };
        }
        return total;
    }
}
