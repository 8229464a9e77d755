using Ferry.Shared.Stg;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Ferry.Cli.Rendering;

/// <summary>
/// How the cluster tables write a cell: counts with thousands separators, local times, durations a person
/// reads at a glance, errors on one line in red, states coloured by how they ended.
/// </summary>
internal static class Cells
{
    public static Text Cell(string text) => new(text);

    /// <summary>An error on one line in red, or an empty cell when there is none.</summary>
    public static IRenderable ErrorCell(string? error) =>
        error is null ? Cell("") : new Markup($"[red]{Markup.Escape(OneLine(error))}[/]");

    public static Markup StateMarkup<T>(T state) where T : struct, Enum => new(StateText(state));

    /// <summary>A run or process state as markup: green when it succeeded, red when it failed, orange when it was skipped (an upstream process failed).</summary>
    public static string StateText<T>(T state) where T : struct, Enum => Lower(state) switch
    {
        "succeeded" => "[green]succeeded[/]",
        "failed" => "[red]failed[/]",
        "running" => "[blue]running[/]",
        "cancelled" => "[yellow]cancelled[/]",
        "skipped" => "[darkorange]skipped[/]",
        var other => Markup.Escape(other),
    };

    public static string Lower<T>(T value) where T : struct, Enum => value.ToString().ToLowerInvariant();
    public static string Lower<T>(T? value) where T : struct, Enum => value is { } v ? Lower(v) : "";
    public static string N(long? n) => n?.ToString("N0") ?? "";
    public static string Short(MergeCounts c) => $"+{c.Inserted:N0} ~{c.Updated:N0} -{c.Deleted:N0}";
    public static string When(DateTimeOffset? at) => at?.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss") ?? "";
    public static string OneLine(string? text) => text?.ReplaceLineEndings(" ").Trim() ?? "";

    public static string Took(TimeSpan t) => t.TotalSeconds < 60 ? $"{Math.Max(t.TotalSeconds, 0):0.0} s"
        : t.TotalMinutes < 60 ? $"{(int)t.TotalMinutes} min {t.Seconds:00} s"
        : $"{(int)t.TotalHours} h {t.Minutes:00} min";
}
