namespace Vexlab.Simulation.Memory;

/// <summary>
/// The frames whose dirty page is being written out, by the time each write completes. A frame is free once its own
/// write completes (folio_end_writeback), whatever the writes before it do: on a device of several slots, or with
/// random service times, a later write often completes first. A binary min-heap of completion times, sized at
/// construction, so that nothing allocates per write; when it is full the earliest write is taken as done.
/// </summary>
public sealed class WritebackFrames(int capacity)
{
    private readonly long[] _done = new long[capacity];

    // Candidates of KthDone's walk: heap positions by completion time. Sized for the most a walk holds (each step takes
    // one and offers at most two), so it never grows.
    private readonly PriorityQueue<int, long> _walk = new(capacity + 1);

    public int Count { get; private set; }

    /// <summary>A write that completes at <paramref name="done"/>.</summary>
    public void Add(long done)
    {
        if (Count == _done.Length)
        {
            RemoveEarliest();
        }

        var i = Count++;
        while (i > 0)
        {
            var parent = (i - 1) / 2;
            if (_done[parent] <= done)
            {
                break;
            }

            _done[i] = _done[parent];
            i = parent;
        }

        _done[i] = done;
    }

    /// <summary>Drops the writes complete by <paramref name="now"/>: their frames are free.</summary>
    public void CompleteUntil(long now)
    {
        while (Count > 0 && _done[0] <= now)
        {
            RemoveEarliest();
        }
    }

    /// <summary>When <paramref name="k"/> (1 to <see cref="Count"/>) of the writes have completed: the k-th earliest completion.</summary>
    public long KthDone(int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(k, Count);

        // The k smallest of a heap lie in a subtree of k nodes around its root: take the smallest candidate k times,
        // each time offering its children.
        _walk.Clear();
        _walk.Enqueue(0, _done[0]);
        var at = 0;
        for (var taken = 0; taken < k; taken++)
        {
            at = _walk.Dequeue();
            var child = (2 * at) + 1;
            if (child < Count)
            {
                _walk.Enqueue(child, _done[child]);
            }

            if (child + 1 < Count)
            {
                _walk.Enqueue(child + 1, _done[child + 1]);
            }
        }

        return _done[at];
    }

    private void RemoveEarliest()
    {
        var last = _done[--Count];
        var i = 0;
        while (true)
        {
            var child = (2 * i) + 1;
            if (child >= Count)
            {
                break;
            }

            if (child + 1 < Count && _done[child + 1] < _done[child])
            {
                child++;
            }

            if (last <= _done[child])
            {
                break;
            }

            _done[i] = _done[child];
            i = child;
        }

        if (Count > 0)
        {
            _done[i] = last;
        }
    }
}
