namespace Vexlab.Simulation.Tests.Laws;

/// <summary>
/// kswapd's wakeup at the low watermark, to the page: an order-0 allocation takes its page in the fast path only while
/// free pages are above low before it (__zone_watermark_ok fails when free_pages &lt;= mark), and one that finds them
/// at or below low goes to __alloc_pages_slowpath, which wakes kswapd (wake_all_kswapds -> wakeup_kswapd). So kswapd
/// is woken by the allocation that leaves free pages below low, never by one that leaves them at low. A sequential
/// sweep with no readahead takes one frame per fault and nothing else allocates or writes, so the number of faults
/// sets where free memory lands.
/// </summary>
public sealed class KswapdWakeLawTests
{
    /// <summary>Host frames under the limit: 4 MiB of 4 KiB pages.</summary>
    private const long Limit = 1_024;

    /// <summary>
    /// vCPU 0 sweeping a region that starts host-absent, <paramref name="faults"/> pages of it, one page a swap-in
    /// (page_cluster 0); min 128 pages, and watermark_scale_factor 616 puts low 63 pages above it and high 63 above
    /// low. A compute task on the second vCPU keeps the run going after the sweep.
    /// </summary>
    private static string Sweep(int faults) => $"""
        name: kswapd-low
        duration: 1s
        guest:
          tick: 0
          vcpus: 2
          memory: 64MiB
        host:
          hz: 0
          memory_limit: 4MiB
          absent_at_start: 100%
          swap:
            page_cluster: 0
          reclaim:
            min_free: 512KiB
            watermark_scale_factor: 616
        regions:
          - name: heap
            size: 64MiB
        tasks:
          - name: mem
            loop: touch heap sequential
            iterations: {faults}
          - name: cpu
            loop: compute 10ms
            iterations: 10
        """;

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    public void KswapdWakes_WhenAnAllocationLeavesFreePagesBelowLow_NotAtLow(ulong seed)
    {
        // Each fault takes one of the 1,024 frames: the last of limit - low faults starts with free pages one above low,
        // which __zone_watermark_ok accepts, and leaves them at low, so kswapd sleeps; the next starts at low, fails the
        // check and wakes it, once. Waking at low woke it one fault early and reclaimed 64 pages of the sweep.
        var probe = ScenarioRuns.Run(Sweep(1), "sync", $"seed={seed}");
        var low = probe.Reclaim!.LowWatermark;
        Assert.Equal((128L, 191L, 254L), (probe.Reclaim.MinWatermark, low, probe.Reclaim.HighWatermark));
        var atLow = (int)(Limit - low);

        var at = ScenarioRuns.Run(Sweep(atLow), "sync", $"seed={seed}");
        Assert.Equal(atLow, at.Reclaim!.SwapIns);
        Assert.Equal(0, at.Reclaim.KswapdWakeups);
        Assert.Equal(0, at.Reclaim.Evictions);
        Assert.Equal(Limit - low, at.Reclaim.ResidentPages);

        var below = ScenarioRuns.Run(Sweep(atLow + 1), "sync", $"seed={seed}");
        Assert.Equal(1, below.Reclaim!.KswapdWakeups);
        Assert.Equal(0, below.Reclaim.DirectReclaims);
    }
}
