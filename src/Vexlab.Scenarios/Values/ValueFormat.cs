using System.Globalization;

namespace Vexlab.Scenarios.Values;

/// <summary>
/// Canonical text for typed values: the form used in hashes, replay files and messages. Every
/// formatted value parses back to the same value.
/// </summary>
public static class ValueFormat
{
    private static readonly (string Unit, long Factor)[] CanonicalSizeUnits =
    [
        ("PiB", 1L << 50), ("TiB", 1L << 40), ("GiB", 1L << 30), ("MiB", 1L << 20), ("KiB", 1L << 10),
        ("PB", 1_000_000_000_000_000L), ("TB", 1_000_000_000_000L), ("GB", 1_000_000_000L), ("MB", 1_000_000L),
        ("KB", 1_000L),
    ];

    private static readonly (string Unit, long Factor)[] CanonicalDurationUnits =
    [
        ("h", 3_600_000_000_000L), ("m", 60_000_000_000L), ("s", 1_000_000_000L), ("ms", 1_000_000L),
        ("us", 1_000L), ("ns", 1L),
    ];

    private static readonly (string Unit, long Factor)[] CanonicalRateUnits =
    [
        ("s", 1_000_000_000L), ("ms", 1_000_000L), ("us", 1_000L), ("ns", 1L), ("m", 60_000_000_000L),
        ("h", 3_600_000_000_000L),
    ];

    public static string FormatBool(bool value) => value ? "true" : "false";

    public static string FormatInteger(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Bytes as the largest exact binary unit (<c>8GiB</c>), else decimal unit, else <c>4097B</c>.</summary>
    public static string FormatSize(long bytes) => FormatWithUnits(bytes, CanonicalSizeUnits, "B");

    /// <summary>Nanoseconds as the largest exact unit: <c>2h</c>, <c>5m</c>, <c>60s</c> is <c>1m</c>, <c>250us</c>.</summary>
    public static string FormatDuration(long nanoseconds) =>
        nanoseconds == 0 ? "0s" : FormatWithUnits(nanoseconds, CanonicalDurationUnits, "ns");

    /// <summary>
    /// Events per the first unit (s, ms, us, ns, m, h) that gives a whole count: <c>1000/s</c>,
    /// <c>1/m</c>; else the exact fraction <c>3/7ns</c>; zero is <c>0</c>.
    /// </summary>
    public static string FormatRate(Rate rate)
    {
        if (rate.IsZero || rate.PeriodNanoseconds == 0)
        {
            return "0";
        }

        foreach (var (unit, factor) in CanonicalRateUnits)
        {
            var scaled = (Int128)rate.Events * factor;
            if (scaled % rate.PeriodNanoseconds == 0)
            {
                var count = scaled / rate.PeriodNanoseconds;
                return count.ToString(CultureInfo.InvariantCulture) + "/" + unit;
            }
        }

        return string.Create(CultureInfo.InvariantCulture, $"{rate.Events}/{rate.PeriodNanoseconds}ns");
    }

    /// <summary>The shortest text that parses back to the same double.</summary>
    public static string FormatRatio(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Formats a value of <paramref name="kind"/> as produced by <see cref="ScalarParsers.Parse"/>.</summary>
    public static string Format(ValueKind kind, object value)
    {
        return kind switch
        {
            ValueKind.Bool => FormatBool((bool)value),
            ValueKind.Integer => FormatInteger(Convert.ToInt64(value, CultureInfo.InvariantCulture)),
            ValueKind.Size => FormatSize(Convert.ToInt64(value, CultureInfo.InvariantCulture)),
            ValueKind.Duration => FormatDuration(Convert.ToInt64(value, CultureInfo.InvariantCulture)),
            ValueKind.Rate => FormatRate((Rate)value),
            ValueKind.Ratio => FormatRatio(Convert.ToDouble(value, CultureInfo.InvariantCulture)),
            ValueKind.Enum or ValueKind.String => (string)value,
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
    }

    private static string FormatWithUnits(long value, (string Unit, long Factor)[] units, string plainSuffix)
    {
        var sign = value < 0 ? "-" : string.Empty;
        var magnitude = value < 0 ? -(Int128)value : value;
        if (magnitude == 0)
        {
            return "0" + plainSuffix;
        }

        foreach (var (unit, factor) in units)
        {
            if (magnitude % factor == 0)
            {
                return sign + (magnitude / factor).ToString(CultureInfo.InvariantCulture) + unit;
            }
        }

        return sign + magnitude.ToString(CultureInfo.InvariantCulture) + plainSuffix;
    }
}
