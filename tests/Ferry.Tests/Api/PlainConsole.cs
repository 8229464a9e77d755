using Spectre.Console;
using Spectre.Console.Rendering;

namespace Ferry.Tests.Api;

/// <summary>A console without colours or a terminal that records what a user would read.</summary>
public static class PlainConsole
{
    public static (IAnsiConsole Console, StringWriter Output) Recording(int width)
    {
        var output = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(output),
        });
        console.Profile.Width = width;
        return (console, output);
    }

    public static string Render(IRenderable renderable, int width = 250)
    {
        var (console, output) = Recording(width);
        console.Write(renderable);
        return output.ToString();
    }
}
