using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Vexlab.Model.Host;
using Vexlab.Model.Machine;
using Vexlab.Simulation.Backing;
using Vexlab.Simulation.Engine;

namespace Vexlab.Simulation.Memory;

/// <summary>
/// The host's memory as the timed driver sees it: how many guest pages are resident, CLOCK
/// reclaim down to the host limit, and how long bringing a page back in takes. Reclaim writes a
/// page's host state in the machine's state block as KVM's host would (the model has no action for
/// it: eviction is the host's business, invisible to the protocols until the next access).
/// </summary>
public sealed class HostMemory
{
    private readonly Machine _m;
    private readonly int _pages;
    private readonly long _limit;
    private readonly long _swapInOverhead;
    private readonly IReadOnlyList<BackingStore> _stores;
    private readonly SwapDevice? _device;
    private readonly int _pageBytesOffset;
    private int _clockHand;

    public HostMemory(Machine machine, int pages, long limitPages, long swapInOverheadNs, IReadOnlyList<BackingStore> stores, SwapDevice? device = null)
    {
        ArgumentNullException.ThrowIfNull(machine);
        ArgumentNullException.ThrowIfNull(stores);
        _m = machine;
        _pages = pages;
        _limit = limitPages;
        _swapInOverhead = swapInOverheadNs;
        _stores = stores;
        _device = device;

        // The page table is the last region of the machine's state block.
        _pageBytesOffset = _m.StateSize - (pages * Unsafe.SizeOf<PageState>());
        if (!Unsafe.AreSame(ref Unsafe.AsRef(in _m.Page(0)), ref PageAt(0)))
        {
            throw new InvalidOperationException("unexpected machine state layout");
        }

        for (var p = 0; p < pages; p++)
        {
            if (_m.Page(p).Host == HostPage.Resident)
            {
                ResidentPages++;
            }
        }
    }

    public long ResidentPages { get; private set; }

    /// <summary>Pages reclaim made host-absent.</summary>
    public long Evictions { get; private set; }

    /// <summary>A minor EPT fault mapped a page the host already had.</summary>
    public void Mapped() => ResidentPages++;

    /// <summary>A swap-in completed: the page is resident; reclaim if that crossed the limit.</summary>
    public void SwappedIn()
    {
        ResidentPages++;
        if (_limit > 0 && ResidentPages > _limit)
        {
            Reclaim();
        }
    }

    /// <summary>The shared swap device, when host.swap.queue_depth or host.swap.bandwidth sets one.</summary>
    public SwapDevice? Device => _device;

    /// <summary>How long the host takes to bring <paramref name="page"/> in (-1: work with no page), asked at <paramref name="now"/>.</summary>
    public long SwapInLatency(int page, ref SimRandom rng, long now)
    {
        var latency = _swapInOverhead;
        if (page >= 0)
        {
            var backing = _m.Page(page).Backing;
            var service = _stores[backing < _stores.Count ? backing : 0].Sample(ref rng);

            // With a device the read queues behind the others in flight; without, each is served at once.
            latency += _device is null ? service : _device.Submit(now + _swapInOverhead, service) - (now + _swapInOverhead);
        }

        return latency;
    }

    /// <summary>CLOCK: clear reference bits until an unreferenced resident page is found, then make it host-absent.</summary>
    private void Reclaim()
    {
        var budget = 2 * _pages;
        while (ResidentPages > _limit && budget-- > 0)
        {
            var p = _clockHand;
            _clockHand = p + 1 == _pages ? 0 : p + 1;
            ref var pg = ref PageAt(p);
            if (pg.Host != HostPage.Resident || pg.InFlight != 0
                || (pg.Flags & (PageFlags.Dax | PageFlags.NeverConvertible | PageFlags.EntryText)) != 0)
            {
                continue;
            }

            if ((pg.Flags & PageFlags.Referenced) != 0)
            {
                pg.Flags &= ~PageFlags.Referenced;
                continue;
            }

            pg.Host = HostPage.AbsentIo;
            ResidentPages--;
            Evictions++;
        }
    }

    /// <summary>A sample of <paramref name="page"/>'s backing store: what one read from that device takes.</summary>
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
}
