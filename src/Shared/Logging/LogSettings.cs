using Serilog.Events;

namespace Ferry.Shared.Logging;

/// <summary>How a node or the CLI writes its log: console text for people, compact JSON for machines.</summary>
public enum LogFormat { Text, Json }

/// <summary>
/// A node's log settings (flags --log-format, --log-level, --log-file and their FERRY_LOG_* variables).
/// <see cref="Secrets"/> are values masked in every line, whatever sink it goes to.
/// </summary>
public sealed record LogSettings
{
    public LogFormat Format { get; init; } = LogFormat.Text;
    public LogEventLevel Level { get; init; } = LogEventLevel.Information;
    /// <summary>A rolling file (one a day, 14 kept), always compact JSON; null = none.</summary>
    public string? File { get; init; }
    public IReadOnlyCollection<string> Secrets { get; init; } = [];

    public static bool TryParseFormat(string? text, out LogFormat format)
    {
        format = LogFormat.Text;
        switch (text?.Trim().ToLowerInvariant())
        {
            case null or "" or "text": return true;
            case "json": format = LogFormat.Json; return true;
            default: return false;
        }
    }

    /// <summary>debug, info, warning, error (and Serilog's own names: verbose, information, fatal…).</summary>
    public static bool TryParseLevel(string? text, out LogEventLevel level)
    {
        level = LogEventLevel.Information;
        switch (text?.Trim().ToLowerInvariant())
        {
            case null or "": return true;
            case "info": return true;
            case "warn": level = LogEventLevel.Warning; return true;
            default: return Enum.TryParse(text, ignoreCase: true, out level) && Enum.IsDefined(level);
        }
    }
}
