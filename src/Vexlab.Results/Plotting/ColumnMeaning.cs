using System.Globalization;

namespace Vexlab.Results.Plotting;

/// <summary>What a store column measures, for axis labels with units.</summary>
public enum Quantity
{
    /// <summary>Nanoseconds, shown in us or ms by the data's range.</summary>
    Time,

    /// <summary>Work done, shown per simulated second.</summary>
    WorkRate,

    /// <summary>A 0..1 share, shown in %.</summary>
    Share,

    /// <summary>Events per run (exits, injections, faults).</summary>
    Count,

    /// <summary>A sweep axis or another number, with the sweep's unit when it has one.</summary>
    Plain,
}

/// <summary>A column's label and quantity: <c>fault_latency_ns_p99</c> is the time "fault latency p99".</summary>
public sealed record ColumnMeaning(string Column, string Label, Quantity Quantity, string Unit)
{
    /// <summary>True for a latency: those span decades, so their axis is logarithmic unless told otherwise.</summary>
    public bool IsLatency => Column.Contains("latency", StringComparison.OrdinalIgnoreCase) && Quantity == Quantity.Time;

    /// <summary>
    /// True for a count that a run's JSON lists only when it is not zero (its <c>exits</c>, <c>injected</c>,
    /// <c>signals</c> and <c>host.async</c> maps: ResultJson.Counts), so that the store's NULL is that run's 0; a NULL
    /// elsewhere is a value the run has not (a latency without faults, a column from before it was written).
    /// </summary>
    public bool AbsentIsZero => ZeroOmittingPrefixes.Any(p => Column.StartsWith(p, StringComparison.Ordinal));

    private static readonly string[] ZeroOmittingPrefixes = ["exits_", "injected_", "signals_", "host_async_"];

    /// <summary>Reads a column name, with the sweep's axes (name, unit) for axis columns.</summary>
    public static ColumnMeaning Of(string column, IReadOnlyList<(string Name, string Unit)> axes)
    {
        ArgumentNullException.ThrowIfNull(column);
        ArgumentNullException.ThrowIfNull(axes);
        foreach (var (name, unit) in axes)
        {
            if (string.Equals(name, column, StringComparison.OrdinalIgnoreCase))
            {
                return new ColumnMeaning(column, name, Quantity.Plain, unit);
            }
        }

        if (column.Equals("work_done", StringComparison.OrdinalIgnoreCase))
        {
            return new ColumnMeaning(column, "work per second", Quantity.WorkRate, "iterations/s");
        }

        if (column.StartsWith("exits_", StringComparison.OrdinalIgnoreCase))
        {
            return new ColumnMeaning(column, column["exits_".Length..] + " exits", Quantity.Count, "per run");
        }

        if (column.StartsWith("injected_", StringComparison.OrdinalIgnoreCase))
        {
            return new ColumnMeaning(column, "injected " + column["injected_".Length..], Quantity.Count, "per run");
        }

        if (column.Equals("fault_latency_ns_count", StringComparison.OrdinalIgnoreCase))
        {
            return new ColumnMeaning(column, "faults", Quantity.Count, "per run");
        }

        if (column.EndsWith("share", StringComparison.OrdinalIgnoreCase))
        {
            return new ColumnMeaning(column, column.Replace('_', ' '), Quantity.Share, "%");
        }

        var ns = column.IndexOf("_ns", StringComparison.OrdinalIgnoreCase);
        if (ns > 0 && (ns + 3 == column.Length || column[ns + 3] == '_'))
        {
            var label = (column[..ns] + column[(ns + 3)..]).Replace('_', ' ').Replace("vcpu", "vCPU", StringComparison.Ordinal);
            return new ColumnMeaning(column, label, Quantity.Time, "ns");
        }

        return new ColumnMeaning(column, column, Quantity.Plain, string.Empty);
    }

    /// <summary>
    /// The unit to show values of this column in and the factor to divide them by, given the
    /// largest value: ns become us below 10 ms, ms above.
    /// </summary>
    public (string Unit, double Divisor, double Multiplier) Scale(double largest) => Quantity switch
    {
        Quantity.Time => largest >= 1e7 ? ("ms", 1e6, 1) : ("us", 1e3, 1),
        Quantity.Share => ("%", 1, 100),
        _ => (Unit, 1, 1),
    };

    /// <summary>The axis label: the name and, in parentheses, the unit.</summary>
    public string AxisLabel(double largest)
    {
        var unit = Scale(largest).Unit;
        return unit.Length == 0 ? Label : string.Create(CultureInfo.InvariantCulture, $"{Label} ({unit})");
    }
}
