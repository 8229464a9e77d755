using Ferry.Coordinator.Api;
using Spectre.Console;
using static Ferry.Cli.Rendering.Cells;

namespace Ferry.Cli.Rendering;

/// <summary>`ferry cluster show`: the members, their roles and status, the leader and who is unreachable.</summary>
public static class ClusterTable
{
    public static Table Build(ClusterMembership membership)
    {
        var table = new Table { Border = TableBorder.Rounded, Title = new TableTitle($"{membership.Members.Count} member(s), seen from {Markup.Escape(membership.Self)}") };
        table.AddColumns("address", "roles", "status", "reachable", "up since", "");
        foreach (var m in membership.Members)
        {
            var notes = new List<string>();
            if (m.Address == membership.Self) notes.Add("self");
            if (m.Address == membership.Leader) notes.Add("leader");
            var status = m.Status == "up" ? new Markup("[green]up[/]") : new Markup($"[yellow]{Markup.Escape(m.Status)}[/]");
            table.AddRow(Cell(m.Address), Cell(string.Join(", ", m.Roles)), status,
                m.Reachable ? new Markup("yes") : new Markup("[red]no[/]"),
                Cell(m.UpSince is { } at ? When(at) : "before the coordinator"), Cell(string.Join(", ", notes)));
        }
        table.Caption = new TableTitle(Markup.Escape(
            $"leader: {membership.Leader ?? "none"}; unreachable: {(membership.Unreachable.Count == 0 ? "none" : string.Join(", ", membership.Unreachable))}"));
        return table;
    }
}
