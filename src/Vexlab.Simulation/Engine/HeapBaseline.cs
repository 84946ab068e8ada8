using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Vexlab.Simulation.Engine;

/// <summary>Result of a throughput run; <see cref="Checksum"/> keeps the JIT from dropping the work.</summary>
public readonly record struct ThroughputResult(string Name, long Events, long ElapsedNs, ulong Checksum)
{
    public double EventsPerSecond => ElapsedNs <= 0 ? 0.0 : Events * 1e9 / ElapsedNs;
}

/// <summary>
/// The reference point for <c>vexlab bench</c>: a bare struct binary heap of (time, sequence) in a
/// "hold" loop (pop the minimum, push it back later by a random increment), with no agent index and no
/// model work. <see cref="RunEventQueue"/> runs the same loop through <see cref="EventQueue"/>, so the
/// ratio of the two is the cost of per-agent scheduling. Wall-clock timing lives only here.
/// </summary>
public static class HeapBaseline
{
    public static ThroughputResult Run(int queueSize, long events, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(queueSize, 1);
        var heap = new (long Time, long Seq)[queueSize];
        var rng = new SimRandom(seed);
        long seq = 0;
        for (var i = 0; i < queueSize; i++)
        {
            Push(heap, i, ((long)rng.NextBelow(1_000_000), seq++));
        }

        var count = queueSize;
        ulong checksum = 0;
        var start = Stopwatch.GetTimestamp();
        for (long n = 0; n < events; n++)
        {
            // Pop: move the last entry to the root and sift it down.
            var top = heap[0];
            checksum += (ulong)top.Time;
            count--;
            SiftDown(heap, count, heap[count]);

            // Push the agent's next event.
            Push(heap, count++, (top.Time + 1 + (long)rng.NextBelow(1_000_000), seq++));
        }

        var elapsed = Stopwatch.GetElapsedTime(start);
        return new ThroughputResult("struct-heap", events, (long)(elapsed.TotalMilliseconds * 1e6), checksum);
    }

    public static ThroughputResult RunEventQueue(int agents, long events, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(agents, 1);
        var queue = new EventQueue(agents);
        var rng = new SimRandom(seed);
        for (var a = 0; a < agents; a++)
        {
            queue.Schedule(a, (long)rng.NextBelow(1_000_000));
        }

        ulong checksum = 0;
        var start = Stopwatch.GetTimestamp();
        for (long n = 0; n < events; n++)
        {
            var e = queue.PopMin();
            checksum += (ulong)e.TimeNs;
            queue.Schedule(e.Agent, e.TimeNs + 1 + (long)rng.NextBelow(1_000_000));
        }

        var elapsed = Stopwatch.GetElapsedTime(start);
        return new ThroughputResult("event-queue", events, (long)(elapsed.TotalMilliseconds * 1e6), checksum);
    }

    private static void Push((long Time, long Seq)[] heap, int count, (long Time, long Seq) entry)
    {
        var pos = count;
        while (pos > 0)
        {
            var parent = (pos - 1) >> 1;
            if (!Less(entry, heap[parent]))
            {
                break;
            }

            heap[pos] = heap[parent];
            pos = parent;
        }

        heap[pos] = entry;
    }

    private static void SiftDown((long Time, long Seq)[] heap, int count, (long Time, long Seq) entry)
    {
        var pos = 0;
        while (true)
        {
            var child = (pos << 1) + 1;
            if (child >= count)
            {
                break;
            }

            if (child + 1 < count && Less(heap[child + 1], heap[child]))
            {
                child++;
            }

            if (!Less(heap[child], entry))
            {
                break;
            }

            heap[pos] = heap[child];
            pos = child;
        }

        heap[pos] = entry;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Less((long Time, long Seq) a, (long Time, long Seq) b) =>
        a.Time < b.Time || (a.Time == b.Time && a.Seq < b.Seq);
}
