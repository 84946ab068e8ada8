using Vexlab.Model.Machine;
using Vexlab.Simulation.Memory;

namespace Vexlab.Simulation.Tests.Laws;

/// <summary>
/// A dirty page reclaim takes is written to swap first (pageout), and its frame is free once the write is done, not
/// before and not after: folio_end_writeback at the write's completion lets the next shrink_folio_list pass free the
/// folio (and kswapd's pgdat_balanced count it). Host memory is driven directly here, at the nanosecond the write ends.
/// </summary>
public sealed class WritebackLawTests
{
    /// <summary>The swap device's fixed service time, for reads and pageout writes alike.</summary>
    private const long WriteNs = 100_000;

    /// <summary>
    /// 1 MiB of guest memory under a 1 MiB limit, three quarters of it resident at the start and dirty (the workload's
    /// data, with no copy on swap); min 32 pages, low 57, high 82. Free pages start at 64: under high, and at high
    /// again once one pass of SWAP_CLUSTER_MAX pages has been written.
    /// </summary>
    private const string DirtyThreeQuarters = """
        name: writeback
        duration: 1s
        guest:
          memory: 1MiB
        backings:
          - name: flat-100us
            latency: fixed 100us
        host:
          backing: flat-100us
          memory_limit: 1MiB
          reclaim:
            min_free: 128KiB
            watermark_scale_factor: 1000
        regions:
          - name: heap
            size: 1MiB
            absent: 0.25
        tasks:
          - name: mem
            loop: touch heap random
        """;

    private static HostMemory Fresh(params string[] settings)
    {
        var setup = ScenarioRuns.Prepare(DirtyThreeQuarters, "sync", settings).Setup;
        return new HostMemory(new Machine(setup.Machine), setup.Machine.Pages, setup.HostLimitPages, 0, setup.Backings, reclaim: setup.Reclaim, pageBytes: setup.PageBytes);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3_000_000)]
    public void ADirtyPagesFrame_IsFreeAtTheInstantItsWritebackEnds(long t0)
    {
        // kswapd's pass at t0 finds free pages under high and reclaims 32 dirty pages: each is written, done at
        // t0 + 100 us, and until then its frame is neither the page's nor free, so free pages stay at 64. A pass one
        // nanosecond before the writes end still finds 64, and the 32 under writeback enough to take them above high:
        // kswapd writes no more and waits for them (reclaim_throttle), the one nanosecond left. At the instant they
        // end it finds 96, above high, and sleeps. Counting a write done only after its end kept kswapd reclaiming at
        // that instant.
        var m = Fresh();
        Assert.True(m.Limited);
        Assert.Equal(64, 256 - m.ResidentPages);
        Assert.Equal((32L, 57L, 82L), (m.MinWatermark, m.LowWatermark, m.HighWatermark));
        Assert.True(m.KswapdPass(t0) > 0);
        Assert.Equal(32, m.SwapOuts);
        Assert.Equal(64, m.FreePages(t0 + WriteNs - 1));
        Assert.Equal(1, m.KswapdPass(t0 + WriteNs - 1));
        Assert.Equal(32, m.KswapdReclaimed);

        Assert.Equal(96, m.FreePages(t0 + WriteNs));
        Assert.Equal(-1, m.KswapdPass(t0 + WriteNs));
        Assert.Equal(32, m.KswapdReclaimed);
        Assert.Equal(32, m.SwapOuts);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3_000_000)]
    public void Kswapd_SleepsOnlyAboveHigh_NotAtIt(long t0)
    {
        // pgdat_balanced -> zone_watermark_ok_safe(zone, order, high_wmark_pages(zone), ...) -> __zone_watermark_ok,
        // which returns false while free_pages <= mark (mm/page_alloc.c): kswapd is balanced only above high. With
        // watermark_scale_factor 1250 tmp is 32 pages, so min 32, low 64, high 96, and free pages start at 64; one pass
        // of 32 dirty pages, written by t0 + 100 us, leaves free exactly at high. kswapd reclaims on from there (a
        // second pass, 64 in all) and sleeps only once free is above high; stopping at high reclaimed 32 pages fewer.
        var m = Fresh("host.reclaim.watermark_scale_factor=1250");
        Assert.Equal((32L, 64L, 96L), (m.MinWatermark, m.LowWatermark, m.HighWatermark));
        Assert.Equal(64, 256 - m.ResidentPages);
        Assert.True(m.KswapdPass(t0) > 0);
        Assert.Equal(32, m.KswapdReclaimed);

        Assert.True(m.KswapdPass(t0 + WriteNs) > 0, "free pages at high: kswapd is not balanced yet");
        Assert.Equal(64, m.KswapdReclaimed);
        Assert.Equal(-1, m.KswapdPass(t0 + (2 * WriteNs)));
        Assert.Equal(64, m.KswapdReclaimed);
    }
}
