using Ferry.Cli.Demo;

namespace Ferry.Tests.Demo;

/// <summary>
/// A demo made with the default clock (as of yesterday), every table snapshotted, then moved one
/// day later (as of now) and snapshotted again.
/// </summary>
public sealed class MutatedDemo : IAsyncLifetime
{
    public DemoPair Pair { get; private set; } = null!;
    public DateTimeOffset StartedAt { get; private set; }
    public MutationSummary Summary { get; private set; } = null!;
    public Dictionary<DemoTable, Dictionary<string, RowState>> Before { get; } = [];
    public Dictionary<DemoTable, Dictionary<string, RowState>> After { get; } = [];

    public async Task InitializeAsync()
    {
        StartedAt = DateTimeOffset.UtcNow;
        Pair = await DemoPair.CreateAsync("demo_mut", useDefaultClock: true);
        foreach (var table in DemoTables.All)
            Before[table] = await DemoProbe.SnapshotAsync(Pair.Of(table.Source), table);
        Summary = await DemoSources.MutateAsync(Pair.Qvp, Pair.Svp);
        foreach (var table in DemoTables.All)
            After[table] = await DemoProbe.SnapshotAsync(Pair.Of(table.Source), table);
    }

    public Task DisposeAsync() => Task.CompletedTask;
}

public class DemoMutationTests(MutatedDemo demo) : IClassFixture<MutatedDemo>
{
    [Theory]
    [InlineData(DemoSource.Qvp)]
    [InlineData(DemoSource.Svp)]
    public void A_day_later_each_source_has_inserted_updated_soft_deleted_and_hard_deleted_rows(DemoSource source)
    {
        var tables = demo.Summary.Tables.Where(t => t.Source == source).ToList();
        Assert.Equal(DemoTables.Of(source).Select(t => t.Name), tables.Select(t => t.Table));
        Assert.True(tables.Sum(t => t.Inserted) > 0, "inserted");
        Assert.True(tables.Sum(t => t.Updated) > 0, "updated");
        Assert.True(tables.Sum(t => t.SoftDeleted) > 0, "soft-deleted");
        Assert.True(tables.Sum(t => t.HardDeleted) > 0, "hard-deleted");
        foreach (var table in DemoTables.Of(source).Where(t => t.SoftDeleteColumn is not null))
            Assert.True(demo.Summary.For(source, table.Name).SoftDeleted > 0, $"{source.Name()}.{table.Name} soft-deleted nothing");
    }

    [Fact]
    public void The_summary_counts_exactly_what_comparing_the_tables_before_and_after_shows()
    {
        foreach (var table in DemoTables.All)
        {
            var before = demo.Before[table];
            var after = demo.After[table];
            var inserted = after.Keys.Count(k => !before.ContainsKey(k));
            var hardDeleted = before.Keys.Count(k => !after.ContainsKey(k));
            var softDeleted = after.Count(a => before.TryGetValue(a.Key, out var b) && !b.SoftDeleted && a.Value.SoftDeleted);
            var updated = after.Count(a => before.TryGetValue(a.Key, out var b) && b.Hash != a.Value.Hash && !(!b.SoftDeleted && a.Value.SoftDeleted));

            var reported = demo.Summary.For(table.Source, table.Name);
            var name = $"{table.Source.Name()}.{table.Name}";
            Assert.Equal((name, inserted, updated, softDeleted, hardDeleted),
                (name, (int)reported.Inserted, (int)reported.Updated, (int)reported.SoftDeleted, (int)reported.HardDeleted));
        }
    }

    [Fact]
    public void Every_inserted_updated_or_soft_deleted_row_is_stamped_within_the_last_day_so_a_7_day_window_sees_it()
    {
        var asOf = demo.Summary.AsOf;
        Assert.InRange(asOf, demo.StartedAt.AddSeconds(-1), DateTimeOffset.UtcNow);
        foreach (var table in DemoTables.All.Where(t => t.ChangeColumns.Count > 0))
        {
            var before = demo.Before[table];
            foreach (var (key, row) in demo.After[table])
            {
                if (before.TryGetValue(key, out var old) && old.Hash == row.Hash)
                    continue;
                Assert.True(row.ChangedAt > asOf.AddDays(-1) && row.ChangedAt <= asOf,
                    $"{table.Source.Name()}.{table.Name} {key} changed but is stamped {row.ChangedAt:O} (as of {asOf:O})");
            }
        }
    }

    [Fact]
    public void Rows_the_mutation_did_not_touch_keep_their_old_timestamps()
    {
        var asOf = demo.Summary.AsOf;
        var untouched = demo.After.Sum(t => t.Value.Count(r => demo.Before[t.Key].TryGetValue(r.Key, out var b) && b.Hash == r.Value.Hash));
        var recent = demo.After.Sum(t => t.Value.Count(r => r.Value.ChangedAt > asOf.AddDays(-7)));
        var all = demo.After.Sum(t => t.Value.Count);
        Assert.True(untouched > all * 0.85, $"{untouched} of {all} rows untouched");
        Assert.True(recent < all * 0.15, $"{recent} of {all} rows changed in the last 7 days");
    }
}
