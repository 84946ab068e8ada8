namespace Vexlab.Simulation.Tracing;

/// <summary>
/// Count, sum, min, max and running variance of exit times, as perf kvm stat keeps them per event
/// (tools/perf/util/stat.c update_stats: Welford's method). Allocation-free.
/// </summary>
public sealed class ExitTimes
{
    private double _mean;
    private double _m2;

    public long Count { get; private set; }

    public long Sum { get; private set; }

    public long Min { get; private set; }

    public long Max { get; private set; }

    public double Mean => Count == 0 ? 0.0 : (double)Sum / Count;

    /// <summary>Sample standard deviation (perf: M2 / (n - 1)).</summary>
    public double StdDev => Count < 2 ? 0.0 : Math.Sqrt(_m2 / (Count - 1));

    /// <summary>perf's "( +- x% )": the standard deviation of the mean relative to the mean (stddev_stats, rel_stddev_stats).</summary>
    public double RelStdDevPercent => Count < 2 || Mean == 0 ? 0.0 : 100.0 * (StdDev / Math.Sqrt(Count)) / Mean;

    public void Record(long ns)
    {
        if (Count == 0 || ns < Min)
        {
            Min = ns;
        }

        if (ns > Max)
        {
            Max = ns;
        }

        Count++;
        Sum += ns;
        var delta = ns - _mean;
        _mean += delta / Count;
        _m2 += delta * (ns - _mean);
    }

    public void Merge(ExitTimes other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Count == 0)
        {
            return;
        }

        if (Count == 0)
        {
            Min = other.Min;
        }
        else
        {
            Min = Math.Min(Min, other.Min);
        }

        Max = Math.Max(Max, other.Max);

        // Chan et al.'s parallel combination of the running mean and M2.
        var n = Count + other.Count;
        var delta = other._mean - _mean;
        _m2 += other._m2 + (delta * delta * Count * other.Count / n);
        _mean += delta * other.Count / n;
        Count = n;
        Sum += other.Sum;
    }
}

/// <summary>One row of the exits report: an exit reason and its exit-to-entry times.</summary>
public sealed record ExitTimeRow(string Name, ExitTimes Times);
