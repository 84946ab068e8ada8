using System.Collections.Immutable;
using Vexlab.Simulation.Engine;

namespace Vexlab.Simulation.Backing;

/// <summary>Where the host fetches a page from.</summary>
public enum BackingKind
{
    SwapNvme,
    SwapSata,
    SwapHdd,
    Optane,
    Rdma,
    PostcopyNet,
    PostcopyNetVanilla,
    Dax,
    Fixed,

    /// <summary>Defined by a scenario's <c>backings[]</c>.</summary>
    Custom,
}

/// <summary>Shape of one mixture component.</summary>
public enum LatencyShape
{
    /// <summary>Always <see cref="LatencyComponent.Mean"/>.</summary>
    Constant,

    /// <summary>Log-normal with the given mean and log-space sigma.</summary>
    LogNormal,

    /// <summary>Uniform in [<see cref="LatencyComponent.Low"/>, <see cref="LatencyComponent.High"/>).</summary>
    Uniform,

    /// <summary>Exponential with the given mean (memoryless service: the M in M/M/1).</summary>
    Exponential,

    /// <summary>One of the values of <see cref="LatencyComponent.Table"/>, by weight.</summary>
    Empirical,
}

/// <summary>
/// One mode of a latency mixture, in nanoseconds (doubles only as distribution parameters; samples are
/// integers). A sample is <see cref="OffsetNs"/> plus a draw from the shape.
/// </summary>
public readonly record struct LatencyComponent(
    ulong WeightPpm, LatencyShape Shape, double Mean, double Sigma, double Low, double High, double OffsetNs)
{
    /// <summary>The values and weights of an <see cref="LatencyShape.Empirical"/> component.</summary>
    public EmpiricalTable? Table { get; init; }

    public static LatencyComponent Exponential(ulong weightPpm, double meanNs) =>
        new(weightPpm, LatencyShape.Exponential, meanNs, 0, 0, 0, 0);

    public static LatencyComponent Empirical(ulong weightPpm, EmpiricalTable table) =>
        new(weightPpm, LatencyShape.Empirical, table?.MeanNs ?? throw new ArgumentNullException(nameof(table)), 0, 0, 0, 0) { Table = table };

    public static LatencyComponent LogNormal(ulong weightPpm, double meanNs, double sigma, double offsetNs = 0) =>
        new(weightPpm, LatencyShape.LogNormal, meanNs, sigma, 0, 0, offsetNs);

    public static LatencyComponent Uniform(ulong weightPpm, double lowNs, double highNs) =>
        new(weightPpm, LatencyShape.Uniform, (lowNs + highNs) / 2, 0, lowNs, highNs, 0);

    public static LatencyComponent Constant(ulong weightPpm, double ns) =>
        new(weightPpm, LatencyShape.Constant, ns, 0, ns, ns, 0);

    /// <summary>Analytic mean of this component, offset included.</summary>
    public double ExpectedNs => OffsetNs + Mean;

    internal LatencyComponent Scaled(double factor) =>
        this with { Mean = Mean * factor, Low = Low * factor, High = High * factor, OffsetNs = OffsetNs * factor, Table = Table?.Scaled(factor) };
}

/// <summary>
/// A backing store's 4 KiB fetch latency as a mixture of up to a few modes, sampled in integer ns.
/// Immutable; <see cref="Sample"/> does not allocate. Log-normal modes draw a normal deviate by the
/// polar method (Math.Log, Math.Sqrt, Math.Exp): bit-exact wherever libm agrees, which is everywhere the
/// tests run; a last-ulp difference could move a sample by at most 1 ns.
/// </summary>
public sealed class BackingStore
{
    private const ulong Million = 1_000_000;

    private readonly LatencyComponent[] _components;
    private readonly ulong[] _cumulativePpm;

    /// <summary>A store a scenario defines: <paramref name="components"/> from <see cref="LatencySpec.Parse"/>.</summary>
    public static BackingStore Custom(string name, string spec, IReadOnlyList<LatencyComponent> components)
    {
        ArgumentNullException.ThrowIfNull(components);
        return new BackingStore(BackingKind.Custom, name, "scenario: " + spec, [.. components]);
    }

    private BackingStore(BackingKind kind, string name, string source, LatencyComponent[] components)
    {
        Kind = kind;
        Name = name;
        Source = source;
        _components = components;
        _cumulativePpm = new ulong[components.Length];
        ulong sum = 0;
        for (var i = 0; i < components.Length; i++)
        {
            sum += components[i].WeightPpm;
            _cumulativePpm[i] = sum;
        }

        if (sum != Million)
        {
            throw new ArgumentException($"mixture weights of '{name}' sum to {sum} ppm, not 1,000,000", nameof(components));
        }

        Spec = LatencySpec.Format(components);
    }

    public BackingKind Kind { get; }

    /// <summary>Scenario name, e.g. <c>swap-nvme</c>.</summary>
    public string Name { get; }

    /// <summary>The docs/costs.md row the distribution follows.</summary>
    public string Source { get; }

    /// <summary>The distribution in <see cref="LatencySpec"/> terms, as a scenario's <c>backings[].latency</c> would write it.</summary>
    public string Spec { get; }

    public ImmutableArray<LatencyComponent> Components => [.. _components];

    /// <summary>Analytic mean in ns (sum of weight x component mean).</summary>
    public double MeanNs
    {
        get
        {
            var mean = 0.0;
            foreach (var c in _components)
            {
                mean += c.WeightPpm * c.ExpectedNs;
            }

            return mean / Million;
        }
    }

    /// <summary>Scenario names of every kind, in <see cref="BackingKind"/> order.</summary>
    public static ImmutableArray<string> KindNames { get; } =
    [
        "swap-nvme", "swap-sata", "swap-hdd", "optane", "rdma", "postcopy-net", "postcopy-net-vanilla", "dax", "fixed",
    ];

    public static string NameOf(BackingKind kind) => KindNames[(int)kind];

    public static bool TryParseKind(string name, out BackingKind kind)
    {
        for (var i = 0; i < KindNames.Length; i++)
        {
            if (string.Equals(KindNames[i], name, StringComparison.Ordinal))
            {
                kind = (BackingKind)i;
                return true;
            }
        }

        kind = default;
        return false;
    }

    /// <summary>
    /// The calibrated distribution of <paramref name="kind"/>. <paramref name="daxHitRatio"/> is the host
    /// page-cache hit ratio for <see cref="BackingKind.Dax"/> (ignored otherwise); <paramref name="fixedNs"/>
    /// is the value of <see cref="BackingKind.Fixed"/>.
    /// </summary>
    public static BackingStore Create(BackingKind kind, Ratio? daxHitRatio = null, long fixedNs = 10_000)
    {
        const double Us = 1_000;
        const double Ms = 1_000_000;
        return kind switch
        {
            // P3700 QD1: mean 77.9, median 76, p99 96 us; p99.999 0.3-2.8 ms -> 1 in 10^4 slow read.
            BackingKind.SwapNvme => new(kind, "swap-nvme",
                "costs.md BackingNvme4K: 80 us (p99 ~100-120 us, p99.999 0.3-2.8 ms); AnandTech P3700 / 9100 [M-secondary]",
                [LatencyComponent.LogNormal(999_900, 80 * Us, 0.12), LatencyComponent.Uniform(100, 300 * Us, 2_800 * Us)]),
            BackingKind.SwapSata => new(kind, "swap-sata",
                "costs.md BackingSata4K: 120 us (100-200 us); AnandTech 13704 'SATA ~40% slower' [Est]",
                [LatencyComponent.LogNormal(1_000_000, 120 * Us, 0.15)]),
            BackingKind.SwapHdd => new(kind, "swap-hdd",
                "costs.md BackingHdd4K: 8 ms, 4-12 ms seek + rotation [Est]",
                [LatencyComponent.Uniform(1_000_000, 4 * Ms, 12 * Ms)]),
            // P4800X QD1: mean 8.9, median 9, p99 10, p99.999 37 us.
            BackingKind.Optane => new(kind, "optane",
                "costs.md BackingOptane4K: 9 us (p99 10, p99.999 37 us); AnandTech P4800X [M-secondary]",
                [LatencyComponent.LogNormal(999_990, 9 * Us, 0.045), LatencyComponent.Uniform(10, 10 * Us, 37 * Us)]),
            BackingKind.Rdma => new(kind, "rdma",
                "costs.md BackingRdma4K: 10 us end-to-end remote fault (5-40 us), Fastswap-like [Recall/Est]",
                [LatencyComponent.LogNormal(1_000_000, 10 * Us, 0.45)]),
            // QEMU postcopy preemption series (merged for QEMU 7.1), 4 KiB: modes 64-512 us, 2-4 ms (~15-20 %), a tail to 16-32 ms.
            BackingKind.PostcopyNet => new(kind, "postcopy-net",
                "costs.md PostcopyFault4K: mixture 84.9% ~170 us, 15% ~2.8 ms, 0.1% ~20 ms (mean 0.58 ms); QEMU 7.1 postcopy-preempt series: avg 0.57 ms [M-primary]",
                [
                    // The series' histogram: most faults in 64-512 us, a second mode at 2-4 ms of about 15%, a tail to
                    // 16-32 ms, averaging 0.57 ms; so the tail holds a thousandth at most (a tenth at ~10 ms, as this
                    // mixture had, made the mean 1.74 ms, three times the measured one).
                    LatencyComponent.LogNormal(849_000, 170 * Us, 0.5),
                    LatencyComponent.LogNormal(150_000, 2_800 * Us, 0.2),
                    LatencyComponent.LogNormal(1_000, 20 * Ms, 0.2),
                ]),
            BackingKind.PostcopyNetVanilla => new(kind, "postcopy-net-vanilla",
                "costs.md PostcopyVanilla4K: vanilla postcopy 4 KiB avg 10.68 ms, almost all in 8-16 ms (head-of-line blocking) [M-primary]",
                [LatencyComponent.LogNormal(1_000_000, 10.68 * Ms, 0.15)]),
            BackingKind.Dax => Dax(daxHitRatio ?? Ratio.FromPercent(90)),
            BackingKind.Fixed => new(kind, "fixed", "constant latency for sweeps",
                [LatencyComponent.Constant(1_000_000, fixedNs)]),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
    }

    /// <summary>By scenario name, e.g. <c>postcopy-net</c>.</summary>
    public static BackingStore Create(string kindName, Ratio? daxHitRatio = null) =>
        TryParseKind(kindName, out var kind)
            ? Create(kind, daxHitRatio)
            : throw new ArgumentException($"unknown backing store '{kindName}'", nameof(kindName));

    /// <summary>A constant latency (for latency sweeps: "1 us .. 10 ms").</summary>
    public static BackingStore Constant(long ns) => Create(BackingKind.Fixed, fixedNs: ns);

    private static BackingStore Dax(Ratio hitRatio)
    {
        const double Us = 1_000;
        var hitPpm = (ulong)Math.Round(hitRatio.ToDouble() * Million, MidpointRounding.ToEven);
        return new BackingStore(BackingKind.Dax, "dax",
            "costs.md VirtiofsDaxFault4K: host page-cache hit 5 us (2-10 us), virtiofs DAX cover letter (2020-03-04) 719 MiB/s randread-mmap [derived]; miss = hit path + NVMe read (BackingNvme4K)",
            [
                LatencyComponent.LogNormal(hitPpm, 5 * Us, 0.3),
                LatencyComponent.LogNormal(Million - hitPpm, 80 * Us, 0.12, offsetNs: 5 * Us),
            ]);
    }

    /// <summary>Every time value multiplied by <paramref name="factor"/> (shape and weights unchanged).</summary>
    public BackingStore Scale(double factor)
    {
        if (!double.IsFinite(factor) || factor <= 0.0)
        {
            throw new ArgumentOutOfRangeException(nameof(factor), "factor must be finite and positive");
        }

        var scaled = new LatencyComponent[_components.Length];
        for (var i = 0; i < scaled.Length; i++)
        {
            scaled[i] = _components[i].Scaled(factor);
        }

        return new BackingStore(Kind, Name, Source + $" (scaled x{factor.ToString("R", System.Globalization.CultureInfo.InvariantCulture)})", scaled);
    }

    /// <summary>The same shape rescaled so that its analytic mean is <paramref name="meanNs"/>.</summary>
    public BackingStore WithMean(long meanNs)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(meanNs, 1);
        return Scale(meanNs / MeanNs);
    }

    /// <summary>
    /// The longest latency a fetch takes, in ns: about 73 years, past any run, with room left for the driver's sums
    /// of times and costs.
    /// </summary>
    public const long MaxSampleNs = long.MaxValue / 4;

    /// <summary>One fetch latency in ns (at least 1, at most <see cref="MaxSampleNs"/>).</summary>
    public long Sample(ref SimRandom rng)
    {
        var index = 0;
        if (_components.Length > 1)
        {
            var u = rng.NextBelow(Million);
            while (u >= _cumulativePpm[index])
            {
                index++;
            }
        }

        ref readonly var c = ref _components[index];
        double value = c.Shape switch
        {
            LatencyShape.Constant => c.Mean,
            LatencyShape.Uniform => c.Low + ((c.High - c.Low) * rng.NextUnitDouble()),
            LatencyShape.Exponential => -c.Mean * Math.Log(rng.NextOpenUnitDouble()),
            LatencyShape.Empirical => c.Table!.Sample(ref rng),
            _ => LogNormal(ref rng, c.Mean, c.Sigma),
        };

        // A draw near long's range (a latency of 2^63 - 1 ns, given inline or in a CSV) is held to MaxSampleNs: the
        // driver adds it to the time of the fetch and to other costs, and the sum wrapped to a time in the past, so
        // that every fault took about 1 us.
        var rounded = Math.Round(c.OffsetNs + value, MidpointRounding.ToEven);
        if (!(rounded < MaxSampleNs))
        {
            return MaxSampleNs;
        }

        var ns = (long)rounded;
        return ns < 1 ? 1 : ns;
    }

    public override string ToString() => Name;

    private static double LogNormal(ref SimRandom rng, double mean, double sigma)
    {
        // mean = exp(mu + sigma^2 / 2)
        var mu = Math.Log(mean) - (0.5 * sigma * sigma);
        return Math.Exp(mu + (sigma * rng.NextStandardNormal()));
    }
}
