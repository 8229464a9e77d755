using Ferry.Cli.Demo;

namespace Ferry.Tests.Demo;

public class DemoScaleTests
{
    [Fact]
    public async Task Tables_grow_linearly_with_the_scale_except_the_fixed_reference_tables()
    {
        var one = await DemoPair.CreateAsync("demo_scale1", scale: 1);
        var three = await DemoPair.CreateAsync("demo_scale3", scale: 3);
        string[] fixedTables = ["countries", "schema_migrations", "ar_internal_metadata"];

        foreach (var source in new[] { DemoSource.Qvp, DemoSource.Svp })
        {
            var small = await DemoSources.CountRowsAsync(source, one.Of(source));
            var large = await DemoSources.CountRowsAsync(source, three.Of(source));
            foreach (var ((table, rows1), (_, rows3)) in small.Zip(large))
            {
                if (fixedTables.Contains(table.Name))
                    Assert.Equal(rows1, rows3);
                else
                    Assert.InRange((double)rows3 / rows1, 2.5, 3.5);
            }
        }
    }
}
