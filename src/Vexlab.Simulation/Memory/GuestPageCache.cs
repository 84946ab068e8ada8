using Vexlab.Model.Host;

namespace Vexlab.Simulation.Memory;

/// <summary>
/// The guest's page cache for file regions, as the driver keeps it: which file pages are cached is
/// the machine's <see cref="PageFlags.Cached"/> bit (the model reads it on every file read); the
/// order of last use is kept here, so that above <c>guest.page_cache</c> the least recently used
/// page is dropped (the guest's LRU reclaim of clean file pages, shrink_folio_list, without its
/// active/inactive split). Arrays sized at construction: nothing allocates per lookup.
/// </summary>
public sealed class GuestPageCache
{
    private readonly HostMemory _memory;
    private readonly long _capacity;
    private readonly int[] _prev;
    private readonly int[] _next;
    private int _head = -1;
    private int _tail = -1;

    /// <param name="memory">Access to the machine's page states.</param>
    /// <param name="pages">Guest pages.</param>
    /// <param name="capacityPages">Pages the cache may hold (0: no limit).</param>
    public GuestPageCache(HostMemory memory, int pages, long capacityPages)
    {
        _memory = memory;
        _capacity = capacityPages;
        _prev = new int[pages];
        _next = new int[pages];
        Array.Fill(_prev, -2);
    }

    public long Hits { get; private set; }

    public long Misses { get; private set; }

    /// <summary>Pages dropped to stay within the capacity.</summary>
    public long Evictions { get; private set; }

    /// <summary>Pages cached now.</summary>
    public long Pages { get; private set; }

    /// <summary>A lookup of <paramref name="page"/>: a hit makes it the most recently used; a miss adds it (the model set its bit).</summary>
    public void Lookup(int page, bool hit)
    {
        if (hit)
        {
            Hits++;
        }
        else
        {
            Misses++;
        }

        if (_prev[page] != -2)
        {
            Unlink(page);
        }
        else
        {
            Pages++;
        }

        // Most recently used at the head.
        _prev[page] = -1;
        _next[page] = _head;
        if (_head >= 0)
        {
            _prev[_head] = page;
        }

        _head = page;
        if (_tail < 0)
        {
            _tail = page;
        }

        while (_capacity > 0 && Pages > _capacity && _tail >= 0 && _tail != page)
        {
            var victim = _tail;
            Unlink(victim);
            _prev[victim] = -2;
            Pages--;
            Evictions++;
            _memory.PageAt(victim).Flags &= ~PageFlags.Cached;
        }
    }

    private void Unlink(int page)
    {
        var p = _prev[page];
        var n = _next[page];
        if (p >= 0)
        {
            _next[p] = n;
        }
        else
        {
            _head = n;
        }

        if (n >= 0)
        {
            _prev[n] = p;
        }
        else
        {
            _tail = p;
        }
    }
}
