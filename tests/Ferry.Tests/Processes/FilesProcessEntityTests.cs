using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using Ferry.Shared.Files;
using Ferry.Shared.History;
using Ferry.Shared.Processes;
using Ferry.Shared.Stg;
using Ferry.Tests.Files;
using Ferry.Worker.Processes;

namespace Ferry.Tests.Processes;

/// <summary>A files process as an entity (Idle → Copying → Idle) on real PostgreSQL and filesystem buckets.</summary>
public class FilesProcessEntityTests() : TestKit(Config)
{
    private static readonly Config Config = EntityTesting.Config();

    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Old = TimeSpan.FromDays(30);

    [Fact]
    public async Task A_run_with_a_missing_object_fails_with_counts_and_the_file_and_the_next_run_copies_it_once_it_is_there()
    {
        await using var bed = await FilesTestBed.CreateAsync("filesentity");
        var files = FilesTestBed.Definition();
        var metadata = bed.Metadata with { Files = [files] };
        var services = new ProcessServices(metadata, bed.Store(metadata.ObjectStore), new RunHistory(bed.TargetConnectionString));
        var source = bed.Store(files.SourceStore);
        for (var i = 0; i < 6; i++) await bed.AddFileAsync($"docs/{i}.pdf", 1000 + i, Old, source);
        var late = await bed.AddFileAsync("docs/late.pdf", 777, Old, store: null);
        var entity = Sys.ActorOf(Props.Create(() => new ProcessActor(files.ProcessId, services)));

        var first = await EntityTesting.RunToEndAsync(entity, files.ProcessId, RunMode.Bulk, Long);

        Assert.Null(first.LastSuccess);
        Assert.Equal(new FileCopyCounts(6, 0, 1), first.LastFailure!.Files);
        Assert.Contains("1 of 7 files failed", first.LastFailure.Error);
        Assert.Contains("docs/late.pdf", first.LastFailure.Error);
        Assert.Contains("ferry files failures --process files.qvp", first.LastFailure.Error);
        var history = Assert.Single(await services.History.ListAsync(files.ProcessId));
        Assert.Equal((RunStatus.Failed, "copying", 6L, 0L, 1L), (history.Status, history.Step, history.FilesCopied, history.FilesSkipped, history.FilesFailed));

        // The object arrives; an incremental run retries the failed file whatever its age and skips the rest.
        await using (var upload = await source.BeginUploadAsync("docs/late.pdf"))
        {
            await upload.Stream.WriteAsync(late);
            await upload.CompleteAsync();
        }
        var second = await EntityTesting.RunToEndAsync(entity, files.ProcessId, RunMode.Incremental, Long);

        Assert.Equal(new FileCopyCounts(1, 0, 0), second.LastSuccess!.Files);
        await FilesTestBed.AssertHoldsAsync(bed.Store(files.TargetStore), "qvp/docs/late.pdf", late);
        Assert.Equal("copied", (await bed.CopyAsync("docs/late.pdf")).Status);
    }
}
