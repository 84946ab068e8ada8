using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Vexlab.Model.Host;
using Vexlab.Model.Machine;
using Vexlab.Simulation.Backing;
using Vexlab.Simulation.Engine;

namespace Vexlab.Simulation.Memory;

/// <summary>
/// The host's memory as the timed driver sees it: the guest pages it holds under
/// <c>host.memory_limit</c>, reclaim by the zone watermarks (kswapd in the background between low
/// and high, direct reclaim on the faulting thread below min), dirty pages written to swap before
/// their frame is reused, and swap readahead. Reclaim writes a page's host state in the machine's
/// state block as KVM's host would (the model has no action for it: eviction is the host's
/// business, invisible to the protocols until the next access). Every array is sized at
/// construction: nothing allocates per fault.
/// </summary>
public sealed class HostMemory
{
    private const int WritebackCapacity = 1 << 16;

    private readonly Machine _m;
    private readonly int _pages;
    private readonly long _limit;
    private readonly long _swapInOverhead;
    private readonly IReadOnlyList<BackingStore> _stores;
    private readonly bool[] _swapStore;
    private readonly SwapDevice? _device;
    private readonly ReclaimSettings _settings;
    private readonly int _pageBytesOffset;
    private readonly byte[] _dirty;
    private readonly byte[] _reserved;
    private readonly WritebackFrames _writeback = new(WritebackCapacity);
    private readonly Queue<long> _reclaimEnds = new(64);
    private long _pending;
    private int _clockHand;
    private SimRandom _writeRng;
    private long _directReclaimTotalNs;
    private long _end = long.MaxValue;

    // The kswapd wake-up in progress (balance_pgdat from its wakeup to its sleep): free frames when it
    // began, frames allocated meanwhile, pages it evicted and wrote.
    private bool _kswapdAwake;
    private long _wakeFree;
    private long _wakeAllocated;
    private long _wakeEvicted;
    private long _wakeWritten;

    public HostMemory(Machine machine, int pages, long limitPages, long swapInOverheadNs, IReadOnlyList<BackingStore> stores, SwapDevice? device = null, ReclaimSettings? reclaim = null, long pageBytes = 4096, SimRandom writeRng = default)
    {
        ArgumentNullException.ThrowIfNull(machine);
        ArgumentNullException.ThrowIfNull(stores);
        _m = machine;
        _pages = pages;
        _limit = limitPages;
        _swapInOverhead = swapInOverheadNs;
        _stores = stores;
        _device = device;
        _settings = reclaim ?? new ReclaimSettings();
        _writeRng = writeRng;
        (MinWatermark, LowWatermark, HighWatermark) = _settings.Watermarks(limitPages, pageBytes);
        _swapStore = new bool[stores.Count];
        for (var i = 0; i < stores.Count; i++)
        {
            // Swap readahead reads a cluster of the swap device; far memory and post-copy have none.
            _swapStore[i] = stores[i].Kind is BackingKind.SwapNvme or BackingKind.SwapSata or BackingKind.SwapHdd or BackingKind.Custom;
        }

        // The page table is the last region of the machine's state block.
        _pageBytesOffset = _m.StateSize - (pages * Unsafe.SizeOf<PageState>());
        if (!Unsafe.AreSame(ref Unsafe.AsRef(in _m.Page(0)), ref PageAt(0)))
        {
            throw new InvalidOperationException("unexpected machine state layout");
        }

        _dirty = new byte[limitPages > 0 ? pages : 0];
        _reserved = new byte[limitPages > 0 ? pages : 0];
        for (var p = 0; p < pages; p++)
        {
            if (_m.Page(p).Host == HostPage.Resident)
            {
                ResidentPages++;
            }
        }

        if (_dirty.Length > 0)
        {
            // A region's resident pages hold the workload's data and have no copy on swap: their
            // first eviction writes them. The rest of guest memory was never written by the
            // workload: reclaim drops it without a write, as a zero page.
            foreach (var region in _m.Config.Regions)
            {
                for (var p = region.FirstPage; p < region.FirstPage + region.PageCount; p++)
                {
                    _dirty[p] = _m.Page(p).Host == HostPage.Resident ? (byte)1 : (byte)0;
                }
            }

            TrimToLimit();
        }
    }

    /// <summary>
    /// A scenario may start with more pages resident than the limit holds (host.overcommit 3 on
    /// swap-overcommit: 4,096 resident pages under a limit of 2,730; a --set host.memory_limit
    /// below a builtin's resident set). The host would have reclaimed them before the run: CLOCK
    /// makes the excess host-absent now, their data already on swap, at no cost inside the run and
    /// not counted in its evictions or swap-outs. The run used to start over the limit and stay
    /// there until kswapd caught up (kernel-heavy at 2 MiB: 608 pages of 512 after 3 ms). Pages
    /// reclaim never takes (DAX, in flight, entry text) stay.
    /// </summary>
    private void TrimToLimit()
    {
        var budget = _pages;
        while (ResidentPages > _limit && budget-- > 0)
        {
            var p = _clockHand;
            _clockHand = p + 1 == _pages ? 0 : p + 1;
            ref var pg = ref PageAt(p);
            if (!Evictable(ref pg))
            {
                continue;
            }

            pg.Host = HostPage.AbsentIo;
            pg.Flags &= ~PageFlags.Referenced;
            _dirty[p] = 0;
            ResidentPages--;
        }
    }

    public long ResidentPages { get; private set; }

    /// <summary>Pages reclaim made host-absent.</summary>
    public long Evictions { get; private set; }

    /// <summary>The zone watermarks in free pages (0 without a limit).</summary>
    public long MinWatermark { get; }

    public long LowWatermark { get; }

    public long HighWatermark { get; }

    /// <summary>Dirty pages written to swap before their frame was reused (pageout).</summary>
    public long SwapOuts { get; private set; }

    /// <summary>Swap reads submitted (one per fault; readahead rides on it).</summary>
    public long SwapIns { get; private set; }

    /// <summary>Pages swap readahead brought in beside the faulting one.</summary>
    public long ReadaheadPages { get; private set; }

    /// <summary>Times kswapd was woken (free pages below low).</summary>
    public long KswapdWakeups { get; private set; }

    /// <summary>Pages kswapd reclaimed.</summary>
    public long KswapdReclaimed { get; private set; }

    /// <summary>Faults that entered direct reclaim (free pages below min).</summary>
    public long DirectReclaims { get; private set; }

    /// <summary>Pages direct reclaim freed.</summary>
    public long DirectReclaimed { get; private set; }

    /// <summary>Time faulting threads spent in direct reclaim (scanning and waiting for writeback).</summary>
    public long DirectReclaimNs
    {
        get
        {
            // Each reclaim runs from its allocation on, the clock's time, so within the run; what goes past the run's end
            // (a wait for a writeback that ends after it) is not the run's.
            var past = 0L;
            foreach (var end in _reclaimEnds)
            {
                past += Math.Max(0, end - _end);
            }

            return _directReclaimTotalNs - past;
        }
    }

    /// <summary>kswapd passes that waited for writeback instead of reclaiming (reclaim_throttle, VMSCAN_THROTTLE_WRITEBACK).</summary>
    internal long KswapdThrottled { get; private set; }

    /// <summary>The most pages one kswapd wake-up (its passes from a wakeup until it sleeps) put under writeback.</summary>
    internal long KswapdWakeWrittenMax { get; private set; }

    /// <summary>The most pages one kswapd wake-up evicted.</summary>
    internal long KswapdWakeEvictedMax { get; private set; }

    /// <summary>
    /// The most by which one kswapd wake-up's evictions passed what it had to free: high + 1 less free frames at its
    /// wakeup, plus the frames allocated while it ran (at most 0 when none evicted more; long.MinValue before any).
    /// </summary>
    internal long KswapdWakeExcessMax { get; private set; } = long.MinValue;

    /// <summary>Frames whose dirty page is being written (their write submitted, not yet complete) at the last clock read.</summary>
    internal long WritebackPages => _writeback.Count;

    /// <summary>Each dirty page's write as reclaim submits it: when it completes.</summary>
    internal Action<long>? WriteSubmitted { get; set; }

    /// <summary>Free frames at <paramref name="now"/>: the limit less resident pages, frames reserved for reads in flight, and frames under writeback.</summary>
    internal long FreePages(long now) => Free(now);

    /// <summary>kswapd should run: an allocation left free pages below low (the driver schedules it).</summary>
    public bool KswapdWanted { get; private set; }

    /// <summary>
    /// The run ended at <paramref name="endNs"/>: direct reclaim's time and the device's busy time and waits count up
    /// to there. A fault's allocation may wait for a writeback that completes after the run (a 5 ms swap-overcommit
    /// run under sync with 20 ms swap latency counted 25,479,182 ns of direct reclaim on its one vCPU).
    /// </summary>
    public void Close(long endNs)
    {
        _end = endNs;
        _device?.Close(endNs);
    }

    /// <summary>The shared swap device, when host.swap.queue_depth or host.swap.bandwidth sets one.</summary>
    public SwapDevice? Device => _device;

    /// <summary>Whether reclaim is on: the scenario sets a host memory limit.</summary>
    public bool Limited => _limit > 0;

    /// <summary>A minor EPT fault mapped a page the host already had (page cache, zswap): a frame allocated without I/O.</summary>
    public void Mapped(long now)
    {
        if (_limit > 0)
        {
            _ = Allocate(1, now);
        }

        ResidentPages++;
    }

    /// <summary>A guest access finished on <paramref name="page"/>; a store makes the host's swap copy stale (the EPT dirty bit).</summary>
    public void Accessed(int page, bool store)
    {
        if (store && _dirty.Length > 0)
        {
            _dirty[page] = 1;
        }
    }

    /// <summary>A swap-in of <paramref name="page"/> completed: it and its readahead cluster are resident and clean (their copy stays on swap).</summary>
    public void SwappedIn(int page)
    {
        if (_limit == 0)
        {
            ResidentPages++;
            return;
        }

        if (_reserved[page] == 0)
        {
            // A second fetch of the same page (another vCPU faulted on it meanwhile): the first counted it.
            return;
        }

        ResidentPages++;
        _dirty[page] = 0;
        _pending -= _reserved[page];

        // Readahead fills only the frames SwapInLatency reserved for it, and only from a swap
        // device: a post-copy or far-memory fetch brings its one page. Without both bounds a
        // post-copy run under a 2 MiB limit (one frame) held 24 pages, and a cluster page that
        // became readable while the read was in flight took a frame nobody had allocated.
        var readahead = _reserved[page] - 1;
        _reserved[page] = 0;
        var cluster = 1 << _settings.PageCluster;
        var start = page & ~(cluster - 1);
        var backing = _m.Page(page).Backing;
        if (backing >= _swapStore.Length || !_swapStore[backing])
        {
            readahead = 0;
        }

        for (var p = start; readahead > 0 && p < start + cluster && p < _pages; p++)
        {
            ref var pg = ref PageAt(p);
            if (p != page && Readable(ref pg, backing))
            {
                readahead--;
                pg.Host = HostPage.Resident;
                _dirty[p] = 0;
                ResidentPages++;
                ReadaheadPages++;
            }
        }
    }

    /// <summary>
    /// How long the host takes to bring <paramref name="page"/> in (-1: work with no page), asked at
    /// <paramref name="now"/>: its frame's allocation (direct reclaim below min), then one read of
    /// the device for the page and its readahead cluster.
    /// </summary>
    public long SwapInLatency(int page, ref SimRandom rng, long now)
    {
        var latency = _swapInOverhead;
        if (page >= 0)
        {
            var pages = 1;
            if (_limit > 0)
            {
                // swap_cluster_readahead (mm/swap_state.c): the aligned 2^page-cluster slots around
                // the fault, those still on swap. Slots follow page order: CLOCK evicts in page order.
                var cluster = 1 << _settings.PageCluster;
                var backing = _m.Page(page).Backing;
                if (cluster > 1 && backing < _swapStore.Length && _swapStore[backing])
                {
                    var start = page & ~(cluster - 1);
                    for (var p = start; p < start + cluster && p < _pages; p++)
                    {
                        if (p != page && Readable(ref PageAt(p), backing))
                        {
                            pages++;
                        }
                    }
                }

                var reserve = Math.Min(pages, byte.MaxValue - _reserved[page]);
                latency += Allocate(reserve, now);
                _reserved[page] += (byte)reserve;
                _pending += reserve;
                SwapIns++;
            }

            var backingIndex = _m.Page(page).Backing;
            var service = _stores[backingIndex < _stores.Count ? backingIndex : 0].Sample(ref rng);

            // With a device the read queues behind the others in flight; without, each is served at once. The read is
            // submitted after the frame's allocation, perhaps after the run's end: only now is surely within it.
            var submit = now + latency;
            _device?.Advance(now);
            latency += _device is null ? service : _device.Submit(submit, service, pages) - submit;
        }

        return latency;
    }

    /// <summary>
    /// kswapd's pass at <paramref name="now"/> (balance_pgdat -> shrink_node): reclaim up to SWAP_CLUSTER_MAX pages
    /// until free pages are above high, or wait for writeback when the pages already under it will bring them there.
    /// Returns how long the pass took (its scanning, or its wait for writeback), or -1 when kswapd sleeps again (free
    /// pages above high).
    /// </summary>
    public long KswapdPass(long now)
    {
        KswapdWanted = false;

        // pgdat_balanced asks zone_watermark_ok_safe at the high mark, and __zone_watermark_ok fails while
        // free_pages <= mark: free pages exactly at high are not balanced yet, and kswapd reclaims on.
        var free = Free(now);
        if (free > HighWatermark)
        {
            _kswapdAwake = false;
            return -1;
        }

        if (!_kswapdAwake)
        {
            _kswapdAwake = true;
            _wakeFree = free;
            _wakeAllocated = _wakeEvicted = _wakeWritten = 0;
        }

        // A frame under writeback is not free (pgdat_balanced counts NR_FREE_PAGES only), but it is on its way: the
        // kernel does not write a folio again while PG_writeback is set (shrink_folio_list keeps it, counted in
        // nr_writeback, or nr_immediate once PGDAT_WRITEBACK is set), folio_end_writeback rotates a PG_reclaim folio
        // to the inactive tail for the next scan to free, and kswapd that meets such folios again sleeps in
        // reclaim_throttle(pgdat, VMSCAN_THROTTLE_WRITEBACK) until writeback progresses (shrink_node;
        // 8cd7c588decf, 5.16). kswapd here used to look at free frames only and start writeback on a batch every
        // pass until the first writes completed: swap-overcommit under sync with host.latency=20ms wrote 3,968 of
        // its 4,096 resident pages in one wake-up. CLOCK keeps no LRU order in which kswapd would meet its own
        // writeback again (the kernel's cue to throttle), so the model throttles as soon as the frames under
        // writeback cover what is left to free: once free frames and frames under writeback together are above
        // high, another write could only overshoot the target.
        if (free + _writeback.Count > HighWatermark)
        {
            KswapdThrottled++;
            return WritebackThrottle(now, HighWatermark + 1 - free);
        }

        var (freed, scanned, written) = Reclaim(ReclaimSettings.SwapClusterMax, now);
        KswapdReclaimed += freed;
        KswapdEvicted(freed, written);
        if (freed == 0)
        {
            _kswapdAwake = false;
            return -1;
        }

        return Math.Max(1, scanned * _settings.PageCostNs);
    }

    /// <summary>
    /// kswapd's sleep in reclaim_throttle(pgdat, VMSCAN_THROTTLE_WRITEBACK) at <paramref name="now"/>, with
    /// <paramref name="needed"/> frames still to free (at most the frames under writeback). __acct_reclaim_writeback
    /// (from folio_end_writeback) wakes the throttled once more than SWAP_CLUSTER_MAX x nr_writeback_throttled writes
    /// have completed since the first of them began to wait (kswapd alone: 33), and the sleep ends after HZ/10 at
    /// most. kswapd here also wakes once the writes it needs have completed, before the 33rd when it needs fewer,
    /// where the kernel's would sleep on: the model's throttle stands for the kernel's writing and throttling together
    /// (see <see cref="KswapdPass"/>), and a kswapd asleep past the node's balance would leave the next allocations
    /// below low to direct reclaim. Each write frees its frame when it completes, so k frames are free at the k-th
    /// earliest completion.
    /// </summary>
    private long WritebackThrottle(long now, long needed)
    {
        var k = (int)Math.Min(Math.Min(needed, ReclaimSettings.SwapClusterMax + 1), _writeback.Count);
        var done = k > 0 ? Math.Max(now, _writeback.KthDone(k)) : now;
        return Math.Max(1, Math.Min(done - now, ReclaimSettings.WritebackThrottleTimeoutNs));
    }

    /// <summary>The wake-up in progress evicted <paramref name="evicted"/> more pages, <paramref name="written"/> of them dirty.</summary>
    private void KswapdEvicted(long evicted, long written)
    {
        _wakeEvicted += evicted;
        _wakeWritten += written;
        KswapdWakeWrittenMax = Math.Max(KswapdWakeWrittenMax, _wakeWritten);
        KswapdWakeEvictedMax = Math.Max(KswapdWakeEvictedMax, _wakeEvicted);
        KswapdWakeExcessMax = Math.Max(KswapdWakeExcessMax, _wakeEvicted - (HighWatermark + 1 - _wakeFree) - _wakeAllocated);
    }

    /// <summary>The host's own sample of a page's store (a read of the guest's disk, a swap write).</summary>
    internal long SampleStore(int page, ref SimRandom rng)
    {
        var backing = _m.Page(page).Backing;
        return _stores[backing < _stores.Count ? backing : 0].Sample(ref rng);
    }

    /// <summary>The page's state in the machine's state block, for the driver's own bookkeeping (reclaim, the guest page cache).</summary>
    internal ref PageState PageAt(int p)
    {
        var state = _m.State;
        ref var first = ref MemoryMarshal.GetReference(state);
        return ref Unsafe.As<byte, PageState>(ref Unsafe.Add(ref first, _pageBytesOffset + (p * Unsafe.SizeOf<PageState>())));
    }

    /// <summary>Resident and reclaim may take it: no fetch in flight, not DAX, not kept for the model's own use.</summary>
    private static bool Evictable(ref PageState pg) =>
        pg.Host == HostPage.Resident && pg.InFlight == 0 && !Pinned(ref pg);

    // Pages reclaim never takes: DAX, never convertible, the entry text.
    private static bool Pinned(ref PageState pg) =>
        (pg.Flags & (PageFlags.Dax | PageFlags.NeverConvertible | PageFlags.EntryText)) != 0;

    /// <summary>Still on swap and readable with the faulting page's request: host-absent by I/O, no fetch of its own, same device.</summary>
    private static bool Readable(ref PageState pg, byte backing) =>
        pg.Host == HostPage.AbsentIo && pg.InFlight == 0 && pg.Backing == backing && !Pinned(ref pg);

    /// <summary>
    /// Free frames now: the limit less resident pages, frames of reads in flight, and frames whose write has not
    /// completed. Each write frees its frame when it completes (folio_end_writeback), in whatever order the device
    /// completes them: the model used to free them in submission order, so a write done early waited for the writes
    /// before it.
    /// </summary>
    private long Free(long now)
    {
        _writeback.CompleteUntil(now);
        return _limit - ResidentPages - _pending - _writeback.Count;
    }

    /// <summary>
    /// Takes <paramref name="pages"/> frames at <paramref name="now"/>
    /// (__alloc_pages_slowpath): below low kswapd is woken; below min the allocating thread
    /// reclaims itself (__alloc_pages_direct_reclaim) and waits for the writeback its frames need.
    /// Returns the time the allocating thread spent.
    /// </summary>
    private long Allocate(int pages, long now)
    {
        while (_reclaimEnds.TryPeek(out var over) && over <= now)
        {
            _reclaimEnds.Dequeue();
        }

        if (_kswapdAwake)
        {
            _wakeAllocated += pages;
        }

        var after = Free(now) - pages;
        if (after < LowWatermark && !KswapdWanted)
        {
            KswapdWanted = true;
            KswapdWakeups++;
        }

        if (after >= MinWatermark)
        {
            return 0;
        }

        // Direct reclaim stops on free frames, not counting frames under writeback as kswapd does: the kernel's
        // writeback throttle is kswapd's (shrink_node's current_is_kswapd() block). A direct reclaimer reclaims
        // SWAP_CLUSTER_MAX (try_to_free_pages) and is throttled on VMSCAN_THROTTLE_CONGESTED, _NOPROGRESS or
        // _ISOLATED, none of which counts pages under writeback; here it reclaims at most four batches and then
        // waits for the writes its frames need.
        DirectReclaims++;
        long spent = 0;
        var budget = 4;
        while (Free(now) - pages < MinWatermark && budget-- > 0)
        {
            var (freed, scanned, _) = Reclaim(ReclaimSettings.SwapClusterMax, now);
            DirectReclaimed += freed;
            spent += scanned * _settings.PageCostNs;
            if (freed == 0)
            {
                break;
            }
        }

        // Frames whose dirty page is still being written are not free yet: wait for enough writes.
        var deficit = MinWatermark + pages - Free(now);
        if (deficit > 0 && _writeback.Count > 0)
        {
            var done = _writeback.KthDone((int)Math.Min(deficit, _writeback.Count));
            spent += Math.Max(0, done - now);
        }

        _directReclaimTotalNs += spent;
        if (spent > 0)
        {
            _reclaimEnds.Enqueue(now + spent);
        }

        return spent;
    }

    /// <summary>
    /// CLOCK over the guest pages (shrink_folio_list, without its active/inactive lists): clear
    /// reference bits until an unreferenced resident page is found, then make it host-absent; a
    /// dirty one is first written to swap on the same device as the swap-ins (pageout), its frame
    /// free once the write is done.
    /// </summary>
    private (long Freed, long Scanned, long Written) Reclaim(int target, long now)
    {
        long freed = 0, scanned = 0, written = 0;
        var budget = 2 * _pages;
        while (freed < target && budget-- > 0)
        {
            var p = _clockHand;
            _clockHand = p + 1 == _pages ? 0 : p + 1;
            ref var pg = ref PageAt(p);
            if (!Evictable(ref pg))
            {
                continue;
            }

            scanned++;
            if ((pg.Flags & PageFlags.Referenced) != 0)
            {
                pg.Flags &= ~PageFlags.Referenced;
                continue;
            }

            pg.Host = HostPage.AbsentIo;
            ResidentPages--;
            Evictions++;
            freed++;
            if (_dirty[p] != 0)
            {
                _dirty[p] = 0;
                written++;
                SwapOuts++;
                var service = _stores[pg.Backing < _stores.Count ? pg.Backing : 0].Sample(ref _writeRng);
                var done = _device is null ? now + service : _device.SubmitWrite(now, service);
                _writeback.Add(done);
                WriteSubmitted?.Invoke(done);
            }
        }

        return (freed, scanned, written);
    }
}
