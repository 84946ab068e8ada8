namespace Vexlab.Simulation.Memory;

/// <summary>
/// How the host reclaims the guest's memory under <c>host.memory_limit</c> (docs/scenarios.md, The
/// host under memory pressure): the zone watermarks, kswapd's pace, and swap readahead.
/// </summary>
public sealed record ReclaimSettings
{
    /// <summary>
    /// The min watermark in pages (<c>host.reclaim.min_free</c>, vm.min_free_kbytes); -1: derived as
    /// init_per_zone_wmark_min does (sqrt(16 x memory in KiB) KiB, 128 KiB to 256 MiB), at most 1/8 of the limit.
    /// </summary>
    public long MinFreePages { get; init; } = -1;

    /// <summary>vm.watermark_scale_factor (<c>host.reclaim.watermark_scale_factor</c>): low and high sit this many 1/10,000ths of memory above min.</summary>
    public int WatermarkScaleFactor { get; init; } = 10;

    /// <summary>Time reclaim spends on one page it scans (<c>host.reclaim.page_cost</c>): shrink_folio_list's unmap and TLB flush.</summary>
    public long PageCostNs { get; init; } = 1_000;

    /// <summary>vm.page-cluster (<c>host.swap.page_cluster</c>): a swap-in reads 2^this pages, the aligned cluster around the fault.</summary>
    public int PageCluster { get; init; } = 3;

    /// <summary>Pages one reclaim pass frees at most (SWAP_CLUSTER_MAX, include/linux/swap.h).</summary>
    public const int SwapClusterMax = 32;

    /// <summary>
    /// The longest a writeback throttle sleeps: reclaim_throttle's VMSCAN_THROTTLE_WRITEBACK timeout of HZ/10 jiffies
    /// (mm/vmscan.c; c3f4a9a2b082 put the timeouts there), 100 ms at any HZ.
    /// </summary>
    public const long WritebackThrottleTimeoutNs = 100_000_000;

    /// <summary>The min, low and high watermarks (free pages) for a limit of <paramref name="limitPages"/> pages of <paramref name="pageBytes"/>.</summary>
    public (long Min, long Low, long High) Watermarks(long limitPages, long pageBytes)
    {
        if (limitPages <= 0)
        {
            return (0, 0, 0);
        }

        long min;
        if (MinFreePages >= 0)
        {
            min = MinFreePages;
        }
        else
        {
            // mm/page_alloc.c init_per_zone_wmark_min: min_free_kbytes = int_sqrt(lowmem_kbytes * 16), clamped.
            var kib = limitPages * pageBytes / 1024;
            var minKib = Math.Clamp((long)Math.Sqrt(kib * 16.0), 128, 262_144);
            min = Math.Min(Math.Max(1, minKib * 1024 / pageBytes), limitPages / 8);
        }

        // __setup_per_zone_wmarks: tmp = max(min / 4, managed * watermark_scale_factor / 10000);
        // low = min + tmp, high = min + 2 tmp (795ae7a0de6b834a0cc202aa55c190ef81496665).
        var tmp = Math.Max(min / 4, limitPages * WatermarkScaleFactor / 10_000);
        tmp = Math.Min(tmp, Math.Max(0, (limitPages / 4) - min));
        return (min, min + tmp, min + (2 * tmp));
    }
}
