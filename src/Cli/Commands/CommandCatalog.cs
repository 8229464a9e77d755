using System.CommandLine;

namespace Ferry.Cli.Commands;

/// <summary>Every `ferry` verb, in the order `ferry --help` lists them.</summary>
public static class CommandCatalog
{
    public static IEnumerable<Command> All() =>
    [
        DemoCommand.Build(),
        NodeCommands.Coordinator(),
        NodeCommands.Worker(),
        NodeCommands.Standalone(),
        RunCommands.Run(),
        RunCommands.Replay(),
        FilesCommands.Build(),
        VerifyCommand.Build(),
        PlanCommand.Build(),
        MetadataCommands.Build(),
        ClusterCommands.Status(),
        ClusterCommands.Runs(),
        LogCommands.Logs(),
        ClusterCommands.Cluster(),
        ClusterCommands.Sharding(),
    ];
}
