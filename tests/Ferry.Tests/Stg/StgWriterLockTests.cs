using Ferry.Worker.Stg;

namespace Ferry.Tests.Stg;

public class StgWriterLockTests
{
    [Fact]
    public async Task A_second_writer_waits_and_when_it_gives_up_names_the_session_that_holds_the_lock()
    {
        await using var bed = await StgTestBed.CreateAsync("writer_lock");
        string? waitedFor = null;
        await using (var held = await StgWriterLock.AcquireAsync(bed.TargetConnectionString, "stg", "src_items", "stg.src.items run A"))
        {
            var busy = await Assert.ThrowsAsync<StgWriterBusyException>(() => StgWriterLock.AcquireAsync(
                bed.TargetConnectionString, "stg", "src_items", "stg.src.items run B", h => waitedFor = h, TimeSpan.FromMilliseconds(300)));
            Assert.Contains("ferry stg.src.items run A", busy.Holder);
            Assert.Contains("stg.src_items", busy.Message);
            Assert.Contains("held by pid ", busy.Message);
            Assert.Equal(busy.Holder, waitedFor);

            // Another table has its own lock.
            await using (await StgWriterLock.AcquireAsync(bed.TargetConnectionString, "stg", "src_other", "stg.src.other run C")) { }

            using var cancel = new CancellationTokenSource();
            var waiting = StgWriterLock.AcquireAsync(bed.TargetConnectionString, "stg", "src_items", "stg.src.items run D", _ => cancel.Cancel(), ct: cancel.Token);
            var cancelled = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
            Assert.Contains("ferry stg.src.items run A", cancelled.Message);
        }

        // Let go: the next writer takes it at once.
        await using (await StgWriterLock.AcquireAsync(bed.TargetConnectionString, "stg", "src_items", "stg.src.items run E", _ => Assert.Fail("waited for a free lock"))) { }
    }
}
