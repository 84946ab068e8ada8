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
        ulong x = 0x9E3779B97F4A7C15;
        int id = 0;
        for (long i = 0; i < keys; i++)
        {
            x += 0x9E3779B97F4A7C15;
            ulong z = x;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
            z ^= z >> 31;
            if (table.NeedsGrowth)
            {
                table.Grow();
            }

            if (table.AddOrGet(z == 0 ? 1 : z, id) == id)
            {
                id++;
            }
        }

        TimeSpan elapsed = clock.GetElapsedTime(start);
        return new BaselineResult(table.Count, elapsed, table.Count / Math.Max(1e-9, elapsed.TotalSeconds), (double)table.Bytes / table.Count);
    }
}
