using HdrHistogram;

namespace Vexlab.Simulation.Metrics;

/// <summary>
/// Latency distribution over an HdrHistogram <see cref="LongHistogram"/> (1 ns .. 1 hour, 3 significant
/// digits) for percentiles, plus exact count, min, max, sum and variance (Welford, merged with Chan's formula).
/// Percentiles are the histogram's highest equivalent value: within 0.1 % of the true value.
/// </summary>
public sealed class LatencyRecorder
{
    /// <summary>Largest trackable value: one hour in ns. Larger samples are clamped (and counted in <see cref="Clamped"/>).</summary>
    public const long HighestTrackableNs = 3_600_000_000_000L;

    private readonly LongHistogram _histogram = new(1, HighestTrackableNs, 3);
    private readonly List<long>? _samples;
    private long _count;
    private long _min = long.MaxValue;
    private long _max;
    private Int128 _sum;
    private double _mean;
    private double _m2;

    /// <param name="keepSamples">Also keep every sample, in the order recorded (<see cref="Samples"/>): for checking traces against the run, fault for fault.</param>
    public LatencyRecorder(bool keepSamples = false)
    {
        _samples = keepSamples ? [] : null;
    }

    public long Count => _count;

    /// <summary>Every sample in the order recorded, when the recorder was made to keep them; else empty.</summary>
    public IReadOnlyList<long> Samples => (IReadOnlyList<long>?)_samples ?? [];

    /// <summary>Samples outside [1, <see cref="HighestTrackableNs"/>] that were clamped into range.</summary>
    public long Clamped { get; private set; }

    public long Min => _count == 0 ? 0 : _min;

    public long Max => _max;

    /// <summary>Exact sum of all recorded values in ns.</summary>
    public Int128 Sum => _sum;

    public double Mean => _count == 0 ? 0.0 : _mean;

    /// <summary>Sample standard deviation (n - 1).</summary>
    public double StdDev => _count < 2 ? 0.0 : Math.Sqrt(_m2 / (_count - 1));

    public long P50 => Percentile(50.0);

    public long P99 => Percentile(99.0);

    public long P999 => Percentile(99.9);

    public void Record(long ns)
    {
        var v = ns;
        if (v < 1)
        {
            v = 1;
            Clamped++;
        }
        else if (v > HighestTrackableNs)
        {
            v = HighestTrackableNs;
            Clamped++;
        }

        _histogram.RecordValue(v);
        _samples?.Add(ns);
        _count++;
        _sum += ns;
        if (ns < _min)
        {
            _min = ns;
        }

        if (ns > _max)
        {
            _max = ns;
        }

        var delta = ns - _mean;
        _mean += delta / _count;
        _m2 += delta * (ns - _mean);
    }

    /// <summary>
    /// Value at <paramref name="percentile"/> (0..100); 0 when empty. HdrHistogram answers with the
    /// highest value equivalent to the bucket, which can exceed every sample: the answer is clamped
    /// to the recorded <see cref="Max"/> (and floored at <see cref="Min"/>).
    /// </summary>
    public long Percentile(double percentile) => _count == 0 ? 0 : Math.Clamp(_histogram.GetValueAtPercentile(percentile), _min, _max);

    /// <summary>Adds every sample of <paramref name="other"/> into this recorder.</summary>
    public void Merge(LatencyRecorder other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other._count == 0)
        {
            return;
        }

        _histogram.Add(other._histogram);
        _samples?.AddRange(other.Samples);
        var n = _count + other._count;
        var delta = other._mean - _mean;
        _m2 += other._m2 + (delta * delta * _count * other._count / n);
        _mean += delta * other._count / n;
        _count = n;
        _sum += other._sum;
        _min = Math.Min(_min, other._min);
        _max = Math.Max(_max, other._max);
        Clamped += other.Clamped;
    }

    public void Reset()
    {
        _histogram.Reset();
        _samples?.Clear();
        _count = 0;
        _min = long.MaxValue;
        _max = 0;
        _sum = 0;
        _mean = 0;
        _m2 = 0;
        Clamped = 0;
    }
}
