using System.CommandLine;
using Ferry.Cli.Commands;
using Ferry.Shared.Metadata;

// Tables in logs and CI output should not be squeezed to 80 columns.
if (Console.IsOutputRedirected)
    Spectre.Console.AnsiConsole.Profile.Width = 180;

var root = new RootCommand("Ferry: move PostgreSQL applications and their files into one new system, table by table.");
foreach (var command in CommandCatalog.All())
    root.Subcommands.Add(command);
try
{
    return await root.Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception e) when (e is MetadataException or ArgumentException or InvalidOperationException)
{
    // Mistakes in what the user asked for or wrote: the message says what and where; no stack trace.
    Console.Error.WriteLine($"ferry: {e.Message}");
    return 2;
}
catch (OperationCanceledException)
{
    Console.Error.WriteLine("ferry: cancelled");
    return 130;
}
