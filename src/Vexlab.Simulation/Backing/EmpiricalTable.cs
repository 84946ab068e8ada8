using Vexlab.Simulation.Engine;

namespace Vexlab.Simulation.Backing;

/// <summary>
/// An empirical latency distribution: values in ns with weights (a device's measured samples,
/// each of weight 1, or a histogram's buckets with their counts). A sample is one of the values,
/// drawn with probability weight / total: the distribution the data describe, with no smoothing.
/// </summary>
public sealed class EmpiricalTable
{
    private readonly double[] _values;
    private readonly double[] _cumulative;

    /// <summary>
    /// For a table read from a CSV (<c>empirical file=...</c>), the XxHash128 of the file's text as 32 hex digits; null
    /// for latency:weight pairs written in the scenario. The scenario's text names the file, not its rows, so the
    /// scenario hash takes this in too (<c>ScenarioRunner.Prepare</c>): an edited CSV is another scenario.
    /// </summary>
    public string? FileDigest { get; init; }

    /// <param name="values">Latencies in ns.</param>
    /// <param name="weights">Non-negative weights, one per value, with a positive sum.</param>
    public EmpiricalTable(IReadOnlyList<double> values, IReadOnlyList<double> weights)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(weights);
        if (values.Count == 0 || values.Count != weights.Count)
        {
            throw new ArgumentException("an empirical table needs one weight per value, and at least one value", nameof(values));
        }

        // Sorted by value, so that quantiles read off the cumulative weights.
        var order = new int[values.Count];
        for (var i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        Array.Sort(order, (a, b) => values[a].CompareTo(values[b]) is var c && c != 0 ? c : a.CompareTo(b));
        _values = new double[order.Length];
        _cumulative = new double[order.Length];
        var sum = 0.0;
        var weighted = 0.0;
        for (var i = 0; i < order.Length; i++)
        {
            var w = weights[order[i]];
            if (!(w >= 0) || double.IsInfinity(w))
            {
                throw new ArgumentException("weights must be finite and not negative", nameof(weights));
            }

            _values[i] = values[order[i]];
            sum += w;
            weighted += w * _values[i];
            _cumulative[i] = sum;
        }

        if (!(sum > 0))
        {
            throw new ArgumentException("the weights sum to zero", nameof(weights));
        }

        TotalWeight = sum;
        MeanNs = weighted / sum;
    }

    /// <summary>Distinct entries (values with their weights).</summary>
    public int Count => _values.Length;

    public double TotalWeight { get; }

    /// <summary>The weighted mean of the values, in ns.</summary>
    public double MeanNs { get; }

    /// <summary>The smallest value whose cumulative weight reaches <paramref name="q"/> of the total (0 &lt; q &lt;= 1).</summary>
    public double Quantile(double q)
    {
        var target = q * TotalWeight;
        var i = Array.BinarySearch(_cumulative, target);
        if (i < 0)
        {
            i = ~i;
        }

        return _values[Math.Min(i, _values.Length - 1)];
    }

    /// <summary>One value, by weight; no allocation.</summary>
    public double Sample(ref SimRandom rng)
    {
        var u = rng.NextUnitDouble() * TotalWeight;
        int lo = 0, hi = _cumulative.Length - 1;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_cumulative[mid] > u)
            {
                hi = mid;
            }
            else
            {
                lo = mid + 1;
            }
        }

        return _values[lo];
    }

    /// <summary>Every value times <paramref name="factor"/>, weights kept.</summary>
    public EmpiricalTable Scaled(double factor)
    {
        var values = new double[_values.Length];
        var weights = new double[_values.Length];
        var previous = 0.0;
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = _values[i] * factor;
            weights[i] = _cumulative[i] - previous;
            previous = _cumulative[i];
        }

        return new EmpiricalTable(values, weights) { FileDigest = FileDigest };
    }

    /// <summary>The entries as value and weight, in value order.</summary>
    public IEnumerable<(double ValueNs, double Weight)> Entries()
    {
        var previous = 0.0;
        for (var i = 0; i < _values.Length; i++)
        {
            yield return (_values[i], _cumulative[i] - previous);
            previous = _cumulative[i];
        }
    }
}
