using Ferry.Coordinator.Pipelines;
using Ferry.Shared.Metadata;
using Ferry.Shared.Verify;

namespace Ferry.Tests.Verify;

public class CutoverPipelineTests
{
    [Fact]
    public void The_shipped_cutover_pipeline_runs_everything_incrementally_with_key_sweeps_then_the_business_layer_then_every_verify_process()
    {
        var metadata = MetadataLoader.Load(Path.Combine(AppContext.BaseDirectory, "metadata"));

        var plan = PipelinePlan.Resolve(metadata, ["cutover"]);

        Assert.Equal(true, plan.Pipeline?.KeySweep);
        Assert.Equal(Shared.Stg.RunMode.Incremental, plan.Pipeline?.Mode);
        Assert.Equal(metadata.Tables.Select(t => t.ProcessId).Concat(metadata.Files.Select(f => f.ProcessId)).Order(), plan.Stages[0].Order());
        Assert.All(plan.Stages.Skip(1).SkipLast(1).SelectMany(s => s), id => Assert.StartsWith("bl.", id));
        Assert.Equal(metadata.Transforms.Count, plan.Stages.Skip(1).SkipLast(1).Sum(s => s.Count));
        Assert.Equal(VerifyProcesses.All(metadata).Order(), plan.Stages[^1].Order());
        Assert.Contains(VerifyProcesses.Checks, plan.Stages[^1]);
        Assert.Contains(VerifyProcesses.Orphans, plan.Stages[^1]);
    }
}
