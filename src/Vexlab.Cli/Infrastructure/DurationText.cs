using System.Globalization;

namespace Vexlab.Cli.Infrastructure;

/// <summary>
/// A duration for people in one line of progress: the largest unit that holds it exactly, as a scenario writes it
/// (<c>10000h</c>, <c>20ms</c>), with thousands separators as every count in the output has them (<c>10,000 h</c>).
/// <c>run --duration 10000h</c> showed "0.0% of 36000000000 ms simulated".
/// </summary>
internal static class DurationText
{
    private static readonly (string Unit, long Factor)[] s_units =
    [
        ("h", 3_600_000_000_000L), ("s", 1_000_000_000L), ("ms", 1_000_000L), ("us", 1_000L),
    ];

    /// <summary>"10,000 h", "1,500 ms", "250 us", "7 ns"; zero is "0 s".</summary>
    public static string Of(long nanoseconds)
    {
        if (nanoseconds == 0)
        {
            return "0 s";
        }

        foreach (var (unit, factor) in s_units)
        {
            if (nanoseconds % factor == 0)
            {
                return string.Create(CultureInfo.InvariantCulture, $"{nanoseconds / factor:N0} {unit}");
            }
        }

        return string.Create(CultureInfo.InvariantCulture, $"{nanoseconds:N0} ns");
    }
}
