using BenchmarkDotNet.Attributes;
using Vexlab.Checking.Engine;

namespace Vexlab.Benchmarks;

/// <summary>
/// Where a growth's time goes: a table of 2^24 slots at 7/8 load (as FingerprintTable grows it, the same home rule)
/// moved into 9/8 as many slots from the top down, three ways. <see cref="Stretch"/> moves slot j to 9j/8, the
/// memory traffic of a growth with no hash and no probe; <see cref="MoveToHome"/> moves each key to its new home
/// without looking (a wrong table: keys sharing a home overwrite each other), adding the hash; <see cref="MoveAndProbe"/>
/// moves each key to the first empty slot from its new home, the table's rule (FingerprintTable.Grow, one thread).
/// One op = one key. Each invocation starts from the same filled table.
/// </summary>
[InvocationCount(1)]
public class GrowthMoveBenchmarks
{
    private const int Slots = 1 << 24;
    private const int Grown = Slots + (Slots / 8);
    private const int Keys = Slots / 8 * 7;

    private ulong[] _filled = null!;
    private ulong[] _table = null!;

    [GlobalSetup]
    public void Setup()
    {
        _filled = new ulong[Grown];
        foreach (ulong key in CheckerBaseline.Keys(Keys))
        {
            int i = Home(key, Slots);
            while (_filled[i] != 0)
            {
                i = i + 1 == Slots ? 0 : i + 1;
            }

            _filled[i] = key;
        }

        _table = new ulong[Grown];
    }

    [IterationSetup]
    public void Refill() => _filled.AsSpan().CopyTo(_table);

    [Benchmark(Baseline = true, OperationsPerInvoke = Keys)]
    public long Stretch()
    {
        ulong[] t = _table;
        long moved = 0;
        for (int j = Slots - 1; j > 0; j--)
        {
            ulong key = t[j];
            if (key == 0)
            {
                continue;
            }

            t[j] = 0;
            t[j + (j / 8)] = key;
            moved++;
        }

        return moved;
    }

    [Benchmark(OperationsPerInvoke = Keys)]
    public long MoveToHome() => Move<AtHome>();

    [Benchmark(OperationsPerInvoke = Keys)]
    public long MoveAndProbe() => Move<FirstEmpty>();

    /// <summary>Moves every key whose new home is above its slot to the slot <typeparamref name="TRule"/> picks.</summary>
    private long Move<TRule>()
        where TRule : struct, IMoveRule
    {
        ulong[] t = _table;
        long moved = 0;
        for (int j = Slots - 1; j >= 0; j--)
        {
            ulong key = t[j];
            if (key == 0)
            {
                continue;
            }

            int home = Home(key, Grown);
            if (home <= j)
            {
                continue;
            }

            t[j] = 0;
            int i = TRule.Slot(t, home);
            if (i < Grown)
            {
                t[i] = key;
                moved++;
            }
        }

        return moved;
    }

    /// <summary>Where a move puts a key (a struct, so that each rule's loop is compiled on its own, with no branch between them).</summary>
    private interface IMoveRule
    {
        static abstract int Slot(ulong[] table, int home);
    }

    private readonly struct AtHome : IMoveRule
    {
        public static int Slot(ulong[] table, int home) => home;
    }

    private readonly struct FirstEmpty : IMoveRule
    {
        public static int Slot(ulong[] table, int home)
        {
            int i = home;
            while (i < Grown && table[i] != 0)
            {
                i++;
            }

            return i;
        }
    }

    /// <summary>FingerprintTable's home of a key in a table of <paramref name="capacity"/> slots.</summary>
    private static int Home(ulong key, int capacity) => (int)Math.BigMul(key, (ulong)capacity, out _);
}
