using System.Globalization;
using Vexlab.Model.Configuration;

namespace Vexlab.Cli.Infrastructure;

/// <summary>
/// The most rows <c>run --timeline</c> writes. TimelineRecorder keeps every row in memory until the run ends and
/// DuckDB copies them out, so the rows bound the memory: <c>--duration 1ms --timeline-interval 1ns</c> gave 1,000,000
/// rows, 82 MB of CSV, 7.6 s and 1.19 GB at its peak, and at <c>--duration 1s</c> it would have been 10^9 rows. The cap
/// is a hundredth of that example's, 100 s of simulated time at the default 1 ms, and is checked before the run.
/// </summary>
internal static class TimelineRowLimit
{
    public const long MaxRows = 100_000;

    /// <summary>The rows of a run of <paramref name="durationNs"/> at <paramref name="intervalNs"/>: every interval, the last one cut at the end, and at least one.</summary>
    public static long Rows(long durationNs, long intervalNs) =>
        Math.Max(1, (durationNs / intervalNs) + (durationNs % intervalNs == 0 ? 0 : 1));

    /// <summary>Refuses an interval that would give more than <see cref="MaxRows"/> rows, naming the rows and the finest interval that fits.</summary>
    /// <param name="durationNs">The run's simulated duration.</param>
    /// <param name="intervalNs">The interval of the rows.</param>
    /// <param name="interval">The interval as given, or null for the default.</param>
    public static void Require(long durationNs, long intervalNs, string? interval)
    {
        var rows = Rows(durationNs, intervalNs);
        if (rows <= MaxRows)
        {
            return;
        }

        // The finest interval that fits: the duration in MaxRows rows, each as long as Rows counts them.
        var finest = Rows(durationNs, MaxRows);
        var given = interval ?? "the default " + Typed(intervalNs);
        throw InputException.At(
            null, 0, 0, "--timeline-interval",
            string.Create(CultureInfo.InvariantCulture, $"{given} over {DurationText.Of(durationNs)} simulated gives {rows:N0} rows, above the limit of {MaxRows:N0}; give --timeline-interval {Typed(finest)} or more, or a shorter --duration"));
    }

    /// <summary>A duration as the option takes it: "10us", not "10 us".</summary>
    private static string Typed(long ns) => DurationText.Of(ns).Replace(" ", string.Empty, StringComparison.Ordinal).Replace(",", string.Empty, StringComparison.Ordinal);
}
