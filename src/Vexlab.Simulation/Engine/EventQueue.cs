using System.Runtime.CompilerServices;

namespace Vexlab.Simulation.Engine;

/// <summary>One heap entry: totally ordered by (<see cref="TimeNs"/>, <see cref="Sequence"/>).</summary>
public readonly record struct ScheduledEvent(long TimeNs, long Sequence, int Agent)
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Precedes(in ScheduledEvent other) =>
        TimeNs < other.TimeNs || (TimeNs == other.TimeNs && Sequence < other.Sequence);
}

/// <summary>
/// Next-event queue for a fixed set of agents (vCPUs, host workers, external sources). Each agent has at
/// most one pending event.
/// <para>
/// Design: an <b>indexed</b> binary min-heap of <see cref="ScheduledEvent"/> structs plus a position array
/// (agent → heap slot). <see cref="Schedule"/> on a queued agent updates its key in place and sifts up or
/// down (decrease and increase key), so the heap never holds stale entries and its size is bounded by the
/// agent count. Lazy deletion with generation counters was rejected: it lets the heap grow with every
/// reschedule and makes <see cref="Count"/> and <see cref="PeekMin"/> need a cleanup pass.
/// </para>
/// <para>
/// Ties: every <see cref="Schedule"/> call takes the next value of a global sequence counter, so events at
/// the same time pop in the order they were (re)scheduled: FIFO. Rescheduling an agent counts as a new
/// scheduling and moves it behind earlier ones at the same time.
/// </para>
/// No allocation after construction.
/// </summary>
public sealed class EventQueue
{
    private const int NotQueued = -1;

    private readonly ScheduledEvent[] _heap;
    private readonly int[] _position;
    private int _count;
    private long _nextSequence;

    public EventQueue(int agentCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(agentCount);
        _heap = new ScheduledEvent[agentCount];
        _position = new int[agentCount];
        Array.Fill(_position, NotQueued);
    }

    public int AgentCount => _position.Length;

    /// <summary>Number of agents with a pending event.</summary>
    public int Count => _count;

    public bool IsEmpty => _count == 0;

    /// <summary>Sequence number the next <see cref="Schedule"/> call will use.</summary>
    public long NextSequence => _nextSequence;

    public bool IsScheduled(int agent) => _position[agent] != NotQueued;

    /// <summary>The pending time of <paramref name="agent"/>, or -1 when it has none.</summary>
    public long ScheduledTime(int agent)
    {
        var pos = _position[agent];
        return pos == NotQueued ? -1 : _heap[pos].TimeNs;
    }

    /// <summary>Sets (or replaces) the single pending event of <paramref name="agent"/>.</summary>
    public void Schedule(int agent, long timeNs)
    {
        if ((uint)agent >= (uint)_position.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(agent));
        }

        var entry = new ScheduledEvent(timeNs, _nextSequence++, agent);
        var pos = _position[agent];
        if (pos == NotQueued)
        {
            SiftUp(_count++, entry);
            return;
        }

        // The new sequence is larger than every queued one, so the key only grows if time does not shrink.
        if (timeNs < _heap[pos].TimeNs)
        {
            SiftUp(pos, entry);
        }
        else
        {
            SiftDown(pos, entry);
        }
    }

    /// <summary>Removes the pending event of <paramref name="agent"/>; false if it had none.</summary>
    public bool Cancel(int agent)
    {
        var pos = _position[agent];
        if (pos == NotQueued)
        {
            return false;
        }

        _position[agent] = NotQueued;
        var last = _heap[--_count];
        if (pos != _count)
        {
            if (last.Precedes(_heap[pos]))
            {
                SiftUp(pos, last);
            }
            else
            {
                SiftDown(pos, last);
            }
        }

        return true;
    }

    public ScheduledEvent PeekMin()
    {
        if (_count == 0)
        {
            throw new InvalidOperationException("the event queue is empty");
        }

        return _heap[0];
    }

    public ScheduledEvent PopMin()
    {
        if (!TryPopMin(out var e))
        {
            throw new InvalidOperationException("the event queue is empty");
        }

        return e;
    }

    public bool TryPopMin(out ScheduledEvent next)
    {
        if (_count == 0)
        {
            next = default;
            return false;
        }

        next = _heap[0];
        _position[next.Agent] = NotQueued;
        var last = _heap[--_count];
        if (_count > 0)
        {
            SiftDown(0, last);
        }

        return true;
    }

    public void Clear()
    {
        for (var i = 0; i < _count; i++)
        {
            _position[_heap[i].Agent] = NotQueued;
        }

        _count = 0;
    }

    private void SiftUp(int pos, ScheduledEvent entry)
    {
        var heap = _heap;
        while (pos > 0)
        {
            var parent = (pos - 1) >> 1;
            var p = heap[parent];
            if (!entry.Precedes(p))
            {
                break;
            }

            heap[pos] = p;
            _position[p.Agent] = pos;
            pos = parent;
        }

        heap[pos] = entry;
        _position[entry.Agent] = pos;
    }

    private void SiftDown(int pos, ScheduledEvent entry)
    {
        var heap = _heap;
        var count = _count;
        while (true)
        {
            var child = (pos << 1) + 1;
            if (child >= count)
            {
                break;
            }

            var right = child + 1;
            if (right < count && heap[right].Precedes(heap[child]))
            {
                child = right;
            }

            var c = heap[child];
            if (!c.Precedes(entry))
            {
                break;
            }

            heap[pos] = c;
            _position[c.Agent] = pos;
            pos = child;
        }

        heap[pos] = entry;
        _position[entry.Agent] = pos;
    }
}
