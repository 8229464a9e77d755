using Ferry.Cli.Demo;

namespace Ferry.Tests.Demo;

public class DemoDeterminismTests
{
    [Fact]
    public async Task The_same_scale_and_moment_give_identical_tables_and_the_same_mutation_gives_identical_changes()
    {
        var first = await DemoPair.CreateAsync("demo_det_a");
        var second = await DemoPair.CreateAsync("demo_det_b");
        await AssertSameContentAsync(first, second);

        var dayLater = DemoPair.FixedAsOf.AddDays(1).AddHours(3);
        var a = await DemoSources.MutateAsync(first.Qvp, first.Svp, dayLater);
        var b = await DemoSources.MutateAsync(second.Qvp, second.Svp, dayLater);
        Assert.Equal(a.Tables, b.Tables);
        Assert.True(a.Inserted + a.Updated + a.SoftDeleted + a.HardDeleted > 0);
        await AssertSameContentAsync(first, second);
    }

    [Fact]
    public async Task Mutations_on_different_days_change_different_rows()
    {
        var pair = await DemoPair.CreateAsync("demo_det_days");
        var users = DemoTables.Qvp.Single(t => t.Name == "users");
        var start = await DemoProbe.SnapshotAsync(pair.Qvp, users);
        await DemoSources.MutateAsync(pair.Qvp, pair.Svp, DemoPair.FixedAsOf.AddDays(1));
        var day1 = await DemoProbe.SnapshotAsync(pair.Qvp, users);
        var second = await DemoSources.MutateAsync(pair.Qvp, pair.Svp, DemoPair.FixedAsOf.AddDays(2));
        var day2 = await DemoProbe.SnapshotAsync(pair.Qvp, users);

        var changedOnDay1 = day1.Where(r => start.TryGetValue(r.Key, out var s) && s.Hash != r.Value.Hash).Select(r => r.Key).ToHashSet();
        var changedOnDay2 = day2.Where(r => day1.TryGetValue(r.Key, out var s) && s.Hash != r.Value.Hash).Select(r => r.Key).ToHashSet();
        Assert.NotEmpty(changedOnDay2);
        Assert.NotEqual(changedOnDay1, changedOnDay2);
        Assert.True(second.Inserted > 0 && second.HardDeleted > 0);
    }

    private static async Task AssertSameContentAsync(DemoPair x, DemoPair y)
    {
        foreach (var table in DemoTables.All)
            Assert.Equal(
                (table.Name, await DemoProbe.FingerprintAsync(x.Of(table.Source), table)),
                (table.Name, await DemoProbe.FingerprintAsync(y.Of(table.Source), table)));
    }
}
