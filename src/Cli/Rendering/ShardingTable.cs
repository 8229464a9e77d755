using Ferry.Coordinator.Api;
using Spectre.Console;
using Spectre.Console.Rendering;
using static Ferry.Cli.Rendering.Cells;

namespace Ferry.Cli.Rendering;

/// <summary>`ferry sharding show`: per entity type, the shards and entities each node hosts.</summary>
public static class ShardingTable
{
    public static IRenderable Build(ShardingOverview sharding)
    {
        var tables = new List<IRenderable>();
        foreach (var region in sharding.Regions)
        {
            var table = new Table
            {
                Border = TableBorder.Rounded,
                Title = new TableTitle(Markup.Escape($"region {region.TypeName}: {region.Shards} shard(s), {region.Entities} entities on {region.Nodes.Count} node(s)")),
            };
            table.AddColumns("node", "shards", "entities", "shards not answering");
            table.Columns[1].RightAligned();
            table.Columns[2].RightAligned();
            foreach (var n in region.Nodes)
                table.AddRow(Cell(n.Address), Cell(n.Shards.ToString("N0")), Cell(n.Entities.ToString("N0")),
                    n.FailedShards.Count == 0 ? Cell("") : new Markup($"[red]{Markup.Escape(string.Join(", ", n.FailedShards))}[/]"));
            if (region.Nodes.Count == 0) table.AddRow(Cell("(no worker hosts shards yet)"), Cell(""), Cell(""), Cell(""));
            tables.Add(table);
        }
        return tables.Count == 0 ? new Text("no shard regions") : new Rows(tables);
    }
}
