using BenchmarkDotNet.Attributes;
using Vexlab.Simulation.Engine;

namespace Vexlab.Benchmarks;

/// <summary>Hold-model throughput: pop the earliest agent, reschedule it later. One op = one event.</summary>
[MemoryDiagnoser]
public class EventQueueBenchmarks
{
    private const int Operations = 100_000;

    private EventQueue _queue = null!;
    private (long Time, long Seq)[] _heap = null!;
    private SimRandom _rng;

    [Params(16, 256, 4096)]
    public int Agents { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _queue = new EventQueue(Agents);
        _heap = new (long, long)[Agents];
        _rng = new SimRandom(1);
        for (var a = 0; a < Agents; a++)
        {
            _queue.Schedule(a, (long)_rng.NextBelow(1_000_000));
        }
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    public long EventQueuePopSchedule()
    {
        long last = 0;
        for (var i = 0; i < Operations; i++)
        {
            var e = _queue.PopMin();
            last = e.TimeNs;
            _queue.Schedule(e.Agent, e.TimeNs + 1 + (long)_rng.NextBelow(1_000_000));
        }

        return last;
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    public long EventQueueRescheduleInPlace()
    {
        // Reschedules a random agent without popping (decrease/increase key).
        long sum = 0;
        for (var i = 0; i < Operations; i++)
        {
            var agent = (int)_rng.NextBelow((ulong)Agents);
            var t = (long)_rng.NextBelow(1_000_000_000);
            _queue.Schedule(agent, t);
            sum += t;
        }

        return sum;
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Operations)]
    public ulong StructHeapBaseline() => HeapBaseline.Run(Agents, Operations, 1).Checksum;
}
