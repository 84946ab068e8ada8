using System.Numerics;

namespace Vexlab.Scenarios.Values;

/// <summary>
/// An exact event rate: <see cref="Events"/> events per <see cref="PeriodNanoseconds"/> nanoseconds,
/// kept as a reduced fraction so that <c>1000/s</c>, <c>1/ms</c> and <c>1/1000us</c> are equal and no
/// floating-point rounding enters the canonical form. Zero is <c>0</c> events per 1 ns.
/// </summary>
public readonly record struct Rate
{
    private Rate(long events, long periodNanoseconds)
    {
        Events = events;
        PeriodNanoseconds = periodNanoseconds;
    }

    /// <summary>No events.</summary>
    public static Rate Zero { get; } = new(0, 1);

    /// <summary>Events per period (reduced; 0 for no events).</summary>
    public long Events { get; }

    /// <summary>The period in nanoseconds (reduced; 1 when <see cref="Events"/> is 0).</summary>
    public long PeriodNanoseconds { get; }

    /// <summary>True when there are no events.</summary>
    public bool IsZero => Events == 0;

    /// <summary>Events per second, as a double (for display and for timing draws).</summary>
    public double EventsPerSecond => PeriodNanoseconds == 0 ? 0 : Events * 1e9 / PeriodNanoseconds;

    /// <summary>The mean time between events in nanoseconds, or infinity for a zero rate.</summary>
    public double MeanIntervalNanoseconds => Events == 0 ? double.PositiveInfinity : (double)PeriodNanoseconds / Events;

    /// <summary><paramref name="events"/> events every <paramref name="periodNanoseconds"/> ns, reduced.</summary>
    public static Rate Of(long events, long periodNanoseconds)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(events);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(periodNanoseconds);
        return TryCreate(events, periodNanoseconds, out var rate)
            ? rate
            : throw new ArgumentOutOfRangeException(nameof(events));
    }

    /// <summary>A whole number of events per second.</summary>
    public static Rate FromEventsPerSecond(long events) => Of(events, 1_000_000_000);

    /// <summary>Compares this rate with <paramref name="eventsPerSecond"/> exactly.</summary>
    public int CompareToEventsPerSecond(long eventsPerSecond)
    {
        var left = (Int128)Events * 1_000_000_000;
        var right = (Int128)eventsPerSecond * PeriodNanoseconds;
        return left.CompareTo(right);
    }

    /// <summary>The canonical text, such as <c>1000/s</c>.</summary>
    public override string ToString() => ValueFormat.FormatRate(this);

    internal static bool TryCreate(BigInteger events, BigInteger period, out Rate rate)
    {
        rate = Zero;
        if (events.IsZero)
        {
            return true;
        }

        var divisor = BigInteger.GreatestCommonDivisor(events, period);
        events /= divisor;
        period /= divisor;
        if (events > long.MaxValue || period > long.MaxValue)
        {
            return false;
        }

        rate = new Rate((long)events, (long)period);
        return true;
    }
}
