using Vexlab.Model.Host;
using Vexlab.Model.Machine;
using Vexlab.Simulation.Engine;
using Vexlab.Simulation.Memory;
using Vexlab.Simulation.Tests.Driver;
using Xunit.Abstractions;

namespace Vexlab.Simulation.Tests.Laws;

/// <summary>
/// kswapd and pages under writeback. A dirty page's frame is not free until its write completes, and kswapd's stop
/// test (pgdat_balanced) counts free pages only, but the kernel does not write a folio again while it is under
/// writeback (shrink_folio_list keeps it, counted in nr_writeback / nr_immediate), folio_end_writeback rotates it to
/// the inactive tail for the next scan to free, and a kswapd that meets its own writeback again sleeps in
/// reclaim_throttle(pgdat, VMSCAN_THROTTLE_WRITEBACK) until writes complete (shrink_node; 8cd7c588decf, 5.16). So
/// with slow writeback one wake-up starts writes on about what it has to free, in batches of SWAP_CLUSTER_MAX, and
/// then waits for them; kswapd here used to start a batch every pass until the first writes completed. Host memory is
/// driven directly here, one wake-up from its first pass to its sleep, with no allocation meanwhile; the built-ins
/// are run whole.
/// </summary>
public sealed class KswapdWritebackLawTests(ITestOutputHelper output)
{
    /// <summary>
    /// 16 MiB of guest memory under a 16 MiB limit, 80% of it resident at the start and dirty (the workload's data,
    /// with no copy on swap); min 128 pages (derived), watermark_scale_factor <paramref name="scale"/>. Every write
    /// takes <paramref name="write"/> (a duration, or a latency distribution), on a device of <paramref name="slots"/>
    /// slots when there are any.
    /// </summary>
    private static string Dirty(string write, int scale, int slots) => $"""
        name: kswapd-writeback
        duration: 1s
        guest:
          memory: 16MiB
        backings:
          - name: flat
            latency: {(write.Contains(' ', StringComparison.Ordinal) ? write : "fixed " + write)}
        host:
          backing: flat
          memory_limit: 16MiB
          swap:
            queue_depth: {slots}
          reclaim:
            watermark_scale_factor: {scale}
        regions:
          - name: heap
            size: 16MiB
            absent: 0.2
        tasks:
          - name: mem
            loop: touch heap random
        """;

    private static (HostMemory Memory, Machine Machine, long Limit) Fresh(string write, int scale, int slots)
    {
        var setup = ScenarioRuns.Prepare(Dirty(write, scale, slots), "sync", []).Setup;
        var machine = new Machine(setup.Machine);
        var device = setup.SwapQueueDepth > 0 ? new SwapDevice(setup.SwapQueueDepth, 0, setup.PageBytes) : null;
        var memory = new HostMemory(machine, setup.Machine.Pages, setup.HostLimitPages, 0, setup.Backings, device, setup.Reclaim, setup.PageBytes, new SimRandom(7));
        return (memory, machine, setup.HostLimitPages);
    }

    /// <summary>
    /// One kswapd wake-up at <paramref name="t0"/>: its passes, each when the one before it ended, until it sleeps.
    /// At every pass the page table's resident pages, free frames and frames under writeback add up to the limit.
    /// Returns when it slept.
    /// </summary>
    private static long WakeUp(HostMemory memory, Machine machine, long limit, long t0)
    {
        var t = t0;
        for (var pass = 0; pass < 100_000; pass++)
        {
            var took = memory.KswapdPass(t);
            var resident = 0L;
            for (var p = 0; p < machine.Config.Pages; p++)
            {
                resident += machine.Page(p).Host == HostPage.Resident ? 1 : 0;
            }

            var free = memory.FreePages(t);
            Assert.Equal(memory.ResidentPages, resident);
            Assert.Equal(limit, resident + free + memory.WritebackPages);
            Assert.True(free >= 0, $"{free} free frames at {t} ns");
            Assert.InRange(memory.WritebackPages, 0, memory.SwapOuts);
            if (took < 0)
            {
                return t;
            }

            t += took;
        }

        throw new InvalidOperationException("kswapd never slept");
    }

    /// <summary>
    /// Law: with writeback slower than a pass (32 pages at 1 us each), one wake-up puts under writeback at most what it
    /// has to free (high + 1 less free frames at its wakeup) and one more batch of SWAP_CLUSTER_MAX, evicts no more,
    /// and still ends with free frames above high. A 100 us write used to let kswapd start three more batches before
    /// the first completed, a 20 ms write 600; a device with one slot serves them one at a time, 3.2 ms a batch.
    /// </summary>
    [Theory]
    [InlineData("100us", 1000, 0, 0L)]
    [InlineData("100us", 1000, 0, 3_000_000L)]
    [InlineData("1ms", 1000, 0, 0L)]
    [InlineData("20ms", 1000, 0, 0L)]
    [InlineData("20ms", 3000, 0, 0L)]
    [InlineData("100us", 1000, 1, 0L)]
    [InlineData("20ms", 3000, 1, 0L)]
    public void SlowWriteback_OneWakeUpWritesWhatItMustFree_AndOneBatchMore(string write, int scale, int slots, long t0)
    {
        var (memory, machine, limit) = Fresh(write, scale, slots);
        var free = memory.FreePages(t0);
        var needed = memory.HighWatermark + 1 - free;
        Assert.True(needed > ReclaimSettings.SwapClusterMax, $"free {free}, high {memory.HighWatermark}: kswapd has less than a batch to do");

        var slept = WakeUp(memory, machine, limit, t0);
        output.WriteLine($"{write} x{slots} scale {scale}: free {free}, high {memory.HighWatermark}, needed {needed}; wrote {memory.SwapOuts}, evicted {memory.Evictions}, {memory.KswapdThrottled} throttled passes, slept after {slept - t0} ns");
        Assert.InRange(memory.SwapOuts, needed, needed + ReclaimSettings.SwapClusterMax - 1);
        Assert.InRange(memory.Evictions, memory.SwapOuts, needed + ReclaimSettings.SwapClusterMax - 1);
        Assert.True(memory.FreePages(slept) > memory.HighWatermark);
        Assert.True(memory.KswapdThrottled > 0, "kswapd never waited for writeback");
    }

    /// <summary>
    /// Law: a frame is free once its own write completes (folio_end_writeback), in whatever order the writes complete.
    /// Writes of 10 us to 10 ms each (no device queue: each is served at once) complete out of submission order; at
    /// every pass of a wake-up and at every completion after it, the frames under writeback are exactly the writes
    /// not complete yet. The model used to free frames in submission order, so a write done early stayed under
    /// writeback until every write before it was done.
    /// </summary>
    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    public void EachWriteFreesItsFrameWhenItCompletes_InAnyOrder(int slots)
    {
        var (memory, machine, limit) = Fresh("uniform 10us 10ms", 1000, slots);
        var done = new List<long>();
        memory.WriteSubmitted = done.Add;
        var t = 0L;
        for (var pass = 0; pass < 100_000; pass++)
        {
            var took = memory.KswapdPass(t);
            memory.FreePages(t);
            Assert.Equal(done.Count(d => d > t), memory.WritebackPages);
            if (took < 0)
            {
                break;
            }

            t += took;
        }

        Assert.True(done.Count > ReclaimSettings.SwapClusterMax, $"{done.Count} writes");
        Assert.Contains(done.Zip(done.Skip(1)), p => p.Second < p.First);
        foreach (var at in done.Where(d => d >= t).Order())
        {
            var free = memory.FreePages(at);
            Assert.Equal(done.Count(d => d > at), memory.WritebackPages);
            Assert.Equal(limit, memory.ResidentPages + free + memory.WritebackPages);
        }
    }

    /// <summary>
    /// Law: with writeback done within a pass, no pass finds a frame still under writeback, kswapd never waits for
    /// one, and a wake-up reclaims the whole batches that take free frames above high, as when only free frames were
    /// counted: 32 x ceil(needed / 32).
    /// </summary>
    [Theory]
    [InlineData("10us", 1000)]
    [InlineData("31us", 1000)]
    [InlineData("31us", 3000)]
    public void FastWriteback_WakeUpReclaimsWholeBatchesToHigh_WithoutWaiting(string write, int scale)
    {
        var (memory, machine, limit) = Fresh(write, scale, 0);
        var free = memory.FreePages(0);
        var needed = memory.HighWatermark + 1 - free;
        var batches = (needed + ReclaimSettings.SwapClusterMax - 1) / ReclaimSettings.SwapClusterMax;

        var slept = WakeUp(memory, machine, limit, 0);
        output.WriteLine($"{write} scale {scale}: needed {needed}; wrote {memory.SwapOuts}, slept after {slept} ns");
        Assert.Equal(0, memory.KswapdThrottled);
        Assert.Equal(batches * ReclaimSettings.SwapClusterMax, memory.KswapdReclaimed);
        Assert.Equal(memory.KswapdReclaimed, memory.SwapOuts);
        Assert.True(memory.FreePages(slept) > memory.HighWatermark);
    }

    /// <summary>
    /// Law, on the built-ins with a host limit: one kswapd wake-up never evicts more than it has to free at its wakeup
    /// (high + 1 less free frames) plus the frames allocated while it runs, and one batch: it starts a batch only
    /// while free frames and frames under writeback are at or below high. Before, swap-overcommit under sync with
    /// host.latency=20ms evicted 3,968 of its 4,096 resident pages in one wake-up, 3,767 more than that.
    /// </summary>
    [Theory]
    [InlineData("swap-overcommit")]
    [InlineData("kernel-heavy")]
    [InlineData("far-memory")]
    public void Builtins_OneKswapdWakeUpEvictsAtMostItsShareAndOneBatch(string builtin)
    {
        var throttled = 0L;
        foreach (var protocol in new[] { "sync", "kvm-pf" })
        {
            foreach (var latency in new[] { "", "host.latency=1ms", "host.latency=20ms" })
            {
                string[] sets = latency.Length == 0 ? ["duration=100ms"] : ["duration=100ms", latency];
                var memory = BuiltinRuns.Run(builtin, protocol, 1.0, sets).Reclaim!;
                output.WriteLine($"{builtin} {protocol} {latency}: {memory.KswapdWakeups} wakeups, most in one: {memory.KswapdWakeEvictedMax} evicted, {memory.KswapdWakeWrittenMax} written, {memory.KswapdWakeExcessMax} over its share; {memory.KswapdThrottled} throttled passes");
                Assert.True(memory.KswapdWakeEvictedMax > 0, "kswapd never reclaimed");
                Assert.InRange(memory.KswapdWakeExcessMax, long.MinValue + 1, ReclaimSettings.SwapClusterMax - 1);
                Assert.InRange(memory.KswapdWakeWrittenMax, 0, memory.KswapdWakeEvictedMax);
                throttled += memory.KswapdThrottled;
            }
        }

        Assert.True(throttled > 0, "kswapd never waited for writeback");
    }
}
