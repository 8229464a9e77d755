using System.CommandLine;
using Ferry.Cli.Commands;

var root = new RootCommand("Ferry: move PostgreSQL applications and their files into one new system, table by table.");
foreach (var command in CommandCatalog.All())
    root.Subcommands.Add(command);
return await root.Parse(args).InvokeAsync();
