using System.Runtime.CompilerServices;

namespace Vexlab.Checking.Engine;

/// <summary>Insert rate of the bare fingerprint table, for comparison with the engine's states/s.</summary>
public sealed record BaselineResult(long Keys, TimeSpan Elapsed, double KeysPerSecond, double BytesPerKey);

/// <summary>
/// The engine's fingerprint table alone: inserts synthetic 64-bit keys (a SplitMix64 sequence) with the same
/// growth policy, with no state generation, hashing of states or frontier.
/// </summary>
public static class CheckerBaseline
{
    public static BaselineResult Run(long keys = 10_000_000, TimeProvider? clock = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(keys);
        clock ??= TimeProvider.System;
        using var table = new FingerprintTable<ulong, Fingerprint64>(Checker.InitialTableLog2, trackIds: false);
        long start = clock.GetTimestamp();
        ulong sequence = KeySeed;
        int id = 0;
        for (long i = 0; i < keys; i++)
        {
            ulong key = NextKey(ref sequence);
            if (table.NeedsGrowth)
            {
                table.Grow();
            }

            if (table.AddOrGet(key, id) == id)
            {
                id++;
            }
        }

        TimeSpan elapsed = clock.GetElapsedTime(start);
        return new BaselineResult(table.Count, elapsed, table.Count / Math.Max(1e-9, elapsed.TotalSeconds), (double)table.Bytes / table.Count);
    }

    /// <summary>The first <paramref name="count"/> keys the baseline inserts (the table's benchmarks take the same).</summary>
    public static ulong[] Keys(int count)
    {
        var keys = new ulong[count];
        ulong sequence = KeySeed;
        for (int i = 0; i < count; i++)
        {
            keys[i] = NextKey(ref sequence);
        }

        return keys;
    }

    /// <summary>Where the key sequence starts: SplitMix64's increment (2^64 / golden ratio).</summary>
    private const ulong KeySeed = 0x9E3779B97F4A7C15;

    /// <summary>The next SplitMix64 output of <paramref name="sequence"/>, 1 for 0 (0 marks an empty slot).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong NextKey(ref ulong sequence)
    {
        sequence += KeySeed;
        ulong z = sequence;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        z ^= z >> 31;
        return z == 0 ? 1 : z;
    }
}
