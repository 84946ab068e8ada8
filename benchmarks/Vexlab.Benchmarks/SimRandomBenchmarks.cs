using BenchmarkDotNet.Attributes;
using Vexlab.Simulation.Backing;
using Vexlab.Simulation.Engine;

namespace Vexlab.Benchmarks;

/// <summary>Cost of one draw. One op = one value.</summary>
[MemoryDiagnoser]
public class SimRandomBenchmarks
{
    private const int Operations = 1_000_000;

    private SimRandom _rng;
    private BackingStore _postcopy = null!;
    private BackingStore _nvme = null!;

    [GlobalSetup]
    public void Setup()
    {
        _rng = new SimRandom(1);
        _postcopy = BackingStore.Create(BackingKind.PostcopyNet);
        _nvme = BackingStore.Create(BackingKind.SwapNvme);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Operations)]
    public ulong NextUInt64()
    {
        ulong x = 0;
        for (var i = 0; i < Operations; i++)
        {
            x ^= _rng.NextUInt64();
        }

        return x;
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    public ulong NextBelow1000()
    {
        ulong x = 0;
        for (var i = 0; i < Operations; i++)
        {
            x += _rng.NextBelow(1000);
        }

        return x;
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    public double NextUnitDouble()
    {
        var x = 0.0;
        for (var i = 0; i < Operations; i++)
        {
            x += _rng.NextUnitDouble();
        }

        return x;
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    public long SampleSwapNvme()
    {
        long x = 0;
        for (var i = 0; i < Operations; i++)
        {
            x += _nvme.Sample(ref _rng);
        }

        return x;
    }

    [Benchmark(OperationsPerInvoke = Operations)]
    public long SamplePostcopyNet()
    {
        long x = 0;
        for (var i = 0; i < Operations; i++)
        {
            x += _postcopy.Sample(ref _rng);
        }

        return x;
    }
}
