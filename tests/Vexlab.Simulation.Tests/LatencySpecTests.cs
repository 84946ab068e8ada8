using Vexlab.Model.Configuration;
using Vexlab.Scenarios.Documents;
using Vexlab.Simulation.Backing;
using Vexlab.Simulation.Engine;
using Vexlab.Simulation.Scenarios;

namespace Vexlab.Simulation.Tests;

/// <summary>
/// Latency as data (backings[].latency): each distribution's samples converge to it. Bounds are
/// statistical with a fixed seed: a mean within 5 standard errors, and a sample quantile q within
/// the analytic quantiles at q +- epsilon, epsilon = sqrt(ln(2 / 1e-6) / 2n) (the
/// Dvoretzky-Kiefer-Wolfowitz inequality at a one-in-a-million miss).
/// </summary>
public sealed class LatencySpecTests
{
    private const int N = 200_000;

    private static readonly double Epsilon = Math.Sqrt(Math.Log(2 / 1e-6) / (2.0 * N));

    private static readonly double[] Quantiles = [0.1, 0.5, 0.9, 0.99];

    public static TheoryData<string> Specs => new()
    {
        "fixed 80us",
        "uniform 50us 150us",
        "uniform min=1ms max=3ms",
        "lognormal median=80us p99=200us",
        "lognormal mean=10us sigma=0.45 offset=2us",
        "exponential mean=100us",
        "empirical 60us:10 80us:85 2ms:5",
        "mixture 90% lognormal median=200us p99=400us | 10% uniform 2ms 4ms",
        "mixture 0.7 exponential mean=50us | 0.3 empirical 1ms:1, 3ms:1",
    };

    [Theory]
    [MemberData(nameof(Specs))]
    public void SampleMeanAndQuantiles_ConvergeToTheDistributions(string spec)
    {
        var store = BackingStore.Custom("t", spec, LatencySpec.Parse(spec));
        var rng = new SimRandom(7).Fork(spec);
        var samples = new double[N];
        for (var i = 0; i < N; i++)
        {
            samples[i] = store.Sample(ref rng);
        }

        var mean = samples.Average();
        var sd = Math.Sqrt(samples.Select(x => (x - mean) * (x - mean)).Sum() / (N - 1));
        Assert.InRange(mean, store.MeanNs - (5 * sd / Math.Sqrt(N)) - 1, store.MeanNs + (5 * sd / Math.Sqrt(N)) + 1);
        Array.Sort(samples);
        foreach (var q in Quantiles)
        {
            var sample = samples[(int)Math.Ceiling(q * N) - 1];
            var low = Quantile(store, Math.Max(1e-9, q - Epsilon));
            var high = Quantile(store, Math.Min(1 - 1e-9, q + Epsilon));

            // Samples are rounded to whole ns.
            Assert.InRange(sample, low - 1, high + 1);
        }
    }

    // A latency near long's range, added to the fetch's time and costs, wrapped to a time in the past: every fault of a
    // 5 ms run under "fixed 9223372036854775807ns" completed, in about 1 us (tried as a new user would). No fault
    // completes before its latency has passed.
    [Theory]
    [InlineData("fixed 9223372036854775807ns", "sync")]
    [InlineData("fixed 9223372036854775807ns", "ve")]
    [InlineData("exponential mean=2000000h", "kvm-pf-int")]
    public void A_latency_near_longs_range_completes_no_fault_in_a_run(string spec, string protocol)
    {
        var yaml = $"duration: 5ms\nguest: {{vcpus: 1, memory: 4MiB}}\nhost: {{backing: b, absent_at_start: 100%}}\nbackings:\n  - {{name: b, latency: \"{spec}\"}}\nregions: [{{name: r, size: 4MiB}}]\ntasks: [{{name: t, loop: \"touch r random\"}}]\n";
        var entry = Overrides.ParseProtocols(protocol)[0];
        var run = ScenarioRunner.Prepare(ScenarioDocument.Parse(yaml, "huge.yaml"), "huge.yaml", entry, [], [entry.Protocol]);
        var result = ScenarioRunner.Run(run);
        Assert.Equal(0, result.FaultLatency.Count);
        Assert.True(result.SimulatedNs == 5_000_000, $"{result.SimulatedNs} ns simulated");

        var store = BackingStore.Custom("huge", spec, LatencySpec.Parse(spec));
        var rng = new SimRandom(1);
        Assert.Equal(BackingStore.MaxSampleNs, store.Sample(ref rng));
    }

    [Fact]
    public void LognormalMedianAndP99_AreTheDistributions()
    {
        var c = LatencySpec.Parse("lognormal median=80us p99=200us")[0];
        var mu = Math.Log(c.Mean) - (c.Sigma * c.Sigma / 2);
        Assert.Equal(80_000, Math.Exp(mu), 6);
        Assert.Equal(200_000, Math.Exp(mu + (LatencySpec.Z99 * c.Sigma)), 6);
    }

    [Fact]
    public void EveryBuiltIn_ReadsBackFromItsOwnSpec()
    {
        // The built-ins are defined in the terms a scenario writes: their printed spec parses to the same components.
        foreach (var kind in Enum.GetValues<BackingKind>())
        {
            if (kind == BackingKind.Custom)
            {
                continue;
            }

            var store = BackingStore.Create(kind);
            var parsed = LatencySpec.Parse(store.Spec);
            Assert.Equal(store.Components.Length, parsed.Count);
            for (var i = 0; i < parsed.Count; i++)
            {
                Assert.Equal(store.Components[i], parsed[i]);
            }
        }
    }

    [Theory]
    [InlineData("gamma 3", "unknown distribution 'gamma'")]
    [InlineData("uniform 5us", "uniform: expected MIN MAX")]
    [InlineData("uniform 5us 1us", "max is below min")]
    [InlineData("lognormal median=80us p99=50us", "0 < median < p99")]
    [InlineData("lognormal median=80us", "needs p99=")]
    [InlineData("fixed 80", "a duration needs a unit")]
    [InlineData("empirical 80us", "is not latency:weight")]
    [InlineData("empirical lat.csv", "empirical: 'lat.csv' is not latency:weight; expected latency:weight pairs such as 60us:10 80us:85 2ms:5, or file=PATH; for a CSV, write empirical file=lat.csv")]
    [InlineData("empirical 60us:10 lat.csv", "empirical: 'lat.csv' is not latency:weight; expected latency:weight pairs such as 60us:10 80us:85 2ms:5, or file=PATH")]
    [InlineData("mixture 50% fixed 1us | fifty fixed 2us", "mixture part 2")]
    [InlineData("exponential mean=80us rate=3", "unknown parameter 'rate'")]
    [InlineData("fixed -5us", "fixed: must be 0 or more, got -5us")]
    [InlineData("fixed -5ns", "fixed: must be 0 or more, got -5ns")]
    [InlineData("uniform -100us 50us", "uniform min: must be 0 or more, got -100us")]
    [InlineData("lognormal mean=80us sigma=0.1 offset=-1ms", "lognormal offset: must be 0 or more, got -1ms")]
    [InlineData("empirical -60us:1 80us:1", "empirical latency: must be 0 or more, got -60us")]
    public void BadSpecs_SayWhatIsWrong(string spec, string expected)
    {
        var e = Assert.Throws<FormatException>(() => LatencySpec.Parse(spec));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Csv_ReadsSamplesAndHistograms_SkippingAHeader()
    {
        using var dir = new TempDir();
        var samples = dir.Write("samples.csv", "latency_us\n10\n20\n# a comment\n\n30\n");
        var table = LatencySpec.ReadCsv(samples, 1000, 1, 0);
        Assert.Equal(3, table.Count);
        Assert.Equal(20_000, table.MeanNs, 6);

        // A biolatency-style histogram turned into CSV: bucket value, count.
        var histogram = dir.Write("hist.csv", "usecs,count\n64us,10\n128us,30\n");
        var h = LatencySpec.Parse("empirical file=hist.csv weight_column=2", f => Path.Combine(dir.Path, f))[0];
        Assert.Equal(((64_000 * 10) + (128_000 * 30)) / 40.0, h.Mean, 6);
    }

    [Theory]
    [InlineData("v\n10\n2x0\n", 3, 1, "column 1: expected a latency")]
    [InlineData("10,1\n20,-4\n", 2, 4, "column 2: expected a weight")]
    [InlineData("10,1\n20\n", 2, 3, "expected at least 2 columns")]
    // Past long's range (here in us): accepted, such a row made every fault take 1 ns (tried as a new user would).
    [InlineData("v\n100\n99999999999999999999\n", 3, 1, "below 2^63 ns; got \"99999999999999999999\"")]
    [InlineData("v\n100\n18446744073709552\n", 3, 1, "below 2^63 ns")]
    public void CsvErrors_NameFileLineAndColumn(string text, int line, int column, string expected)
    {
        using var dir = new TempDir();
        var path = dir.Write("bad.csv", text);
        var e = Assert.Throws<InputException>(() => LatencySpec.ReadCsv(path, 1000, 1, text.Contains(',', StringComparison.Ordinal) ? 2 : 0));
        Assert.Contains($"bad.csv:{line}:{column}: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ScenarioBackings_ReachTheSetup_AndErrorsNameTheKey()
    {
        using var dir = new TempDir();
        dir.Write("lat.csv", "5us\n15us\n");
        var yaml = """
            backings:
              - name: mine
                latency: empirical file=lat.csv unit=us
              - name: slow
                latency: lognormal median=1ms p99=3ms
            host:
              backing: mine
            regions:
              - name: a
                size: 1MiB
              - name: b
                size: 1MiB
                backing: slow
            tasks:
              - name: t
                loop: touch a random
            """;
        var path = dir.Write("s.yaml", yaml);
        var setup = Build(path);
        Assert.Equal("mine", setup.Backings[0].Name);
        Assert.Equal(10_000, setup.Backings[0].MeanNs, 6);
        Assert.Equal("slow", setup.Backings[1].Name);

        var bad = dir.Write("bad.yaml", yaml.Replace("backing: slow", "backing: slower", StringComparison.Ordinal));
        var e = Assert.Throws<InputException>(() => Build(bad));
        Assert.True(e.Message.Contains("bad.yaml:13:14: regions[1].backing: ", StringComparison.Ordinal), e.Message);
        Assert.Contains("unknown backing store 'slower'; did you mean slow? (built-ins: ", e.Message, StringComparison.Ordinal);

        var badSpec = dir.Write("spec.yaml", yaml.Replace("p99=3ms", "p99=3", StringComparison.Ordinal));
        e = Assert.Throws<InputException>(() => Build(badSpec));
        Assert.True(e.Message.Contains("spec.yaml:5:", StringComparison.Ordinal), e.Message);
        Assert.Contains("backings[1].latency", e.Message, StringComparison.Ordinal);
    }

    // "empirical file=nofile.csv" said "nofile.csv: no such latency CSV": neither the scenario's line nor where a
    // relative path was looked for. "empirical nofile.csv" did not show the file= form.
    [Theory]
    [InlineData("empirical file=nofile.csv", "backings[0].latency: empirical: file=nofile.csv: no such latency CSV (looked for at {0}: a CSV path is relative to the scenario file)")]
    [InlineData("empirical file=.", "backings[0].latency: empirical: file=.: is a folder, not a latency CSV (looked for at {0}: a CSV path is relative to the scenario file)")]
    [InlineData("empirical nofile.csv", "backings[0].latency: empirical: 'nofile.csv' is not latency:weight; expected latency:weight pairs such as 60us:10 80us:85 2ms:5, or file=PATH; for a CSV, write empirical file=nofile.csv")]
    public void A_backing_the_spec_cannot_read_names_the_scenario_line(string latency, string expected)
    {
        using var dir = new TempDir();
        var path = dir.Write("s.yaml", $"backings:\n  - name: mine\n    latency: \"{latency}\"\nhost:\n  backing: mine\ntasks:\n  - name: t\n    loop: compute 10\n");
        var e = Assert.Throws<InputException>(() => Build(path));
        var looked = Path.Combine(dir.Path, latency[(latency.IndexOf('=', StringComparison.Ordinal) + 1)..]);
        Assert.Equal(path + ":3:14: " + expected.Replace("{0}", looked, StringComparison.Ordinal), e.Message);
    }

    /// <summary>
    /// A backing's name may not be a built-in's, another backing's, or 'fixed' (the store host.latency makes), and the
    /// message lists the built-ins host.backing takes: it listed 'fixed' among them, which host.backing refuses, and
    /// called a reserved name "already defined".
    /// </summary>
    [Theory]
    [InlineData("dax", "is a built-in")]
    [InlineData("fixed", "is reserved (host.latency makes the fixed store)")]
    [InlineData("mine", "is already defined in backings[]")]
    public void A_backing_name_that_is_taken_says_why(string name, string why)
    {
        using var dir = new TempDir();
        var path = dir.Write("s.yaml", $"backings:\n  - name: mine\n    latency: fixed 1us\n  - name: {name}\n    latency: fixed 2us\ntasks:\n  - name: t\n    loop: compute 10\n");
        var e = Assert.Throws<InputException>(() => Build(path));
        Assert.Equal($"{path}:4:11: backings[1].name: backing store '{name}' {why} (built-ins: {string.Join(", ", Vexlab.Simulation.Scenarios.ScenarioSchema.BackingKinds)}); give it another name", e.Message);
        Assert.DoesNotContain("fixed)", e.Message, StringComparison.Ordinal);
    }

    private static Vexlab.Simulation.Driver.SimulationSetup Build(string path)
    {
        var document = ScenarioDocument.Parse(File.ReadAllText(path), path);
        var entry = Overrides.ParseProtocols("sync")[0];
        return ScenarioRunner.Prepare(document, path, entry, Overrides.ParseSets([]), [entry.Protocol]).Setup;
    }

    /// <summary>The distribution's quantile function, by bisection on its CDF.</summary>
    private static double Quantile(BackingStore store, double q)
    {
        double lo = 0, hi = 1e12;
        for (var i = 0; i < 200; i++)
        {
            var mid = (lo + hi) / 2;
            if (Cdf(store, mid) >= q)
            {
                hi = mid;
            }
            else
            {
                lo = mid;
            }
        }

        return hi;
    }

    private static double Cdf(BackingStore store, double x)
    {
        var p = 0.0;
        foreach (var c in store.Components)
        {
            var w = c.WeightPpm / 1e6;
            var y = x - c.OffsetNs;
            p += w * c.Shape switch
            {
                LatencyShape.Constant => y >= c.Mean ? 1 : 0,
                LatencyShape.Uniform => Math.Clamp((y - c.Low) / Math.Max(1e-9, c.High - c.Low), 0, 1),
                LatencyShape.Exponential => y <= 0 ? 0 : 1 - Math.Exp(-y / c.Mean),
                LatencyShape.Empirical => c.Table!.Entries().Where(e => e.ValueNs <= y).Sum(e => e.Weight) / c.Table.TotalWeight,
                _ => y <= 0 ? 0 : NormalCdf((Math.Log(y) - (Math.Log(c.Mean) - (c.Sigma * c.Sigma / 2))) / c.Sigma),
            };
        }

        return p;
    }

    /// <summary>Phi by the complementary error function (Numerical Recipes' erfc, relative error below 1.2e-7).</summary>
    private static double NormalCdf(double z)
    {
        var x = -z / Math.Sqrt(2);
        var t = 1 / (1 + (0.5 * Math.Abs(x)));
        double[] c = [-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587, -0.82215223, 0.17087277];
        var poly = 0.0;
        for (var k = c.Length - 1; k >= 0; k--)
        {
            poly = c[k] + (t * poly);
        }

        var r = t * Math.Exp((-x * x) + poly);
        var erfc = x >= 0 ? r : 2 - r;
        return erfc / 2;
    }

    private sealed class TempDir : IDisposable
    {
        public TempDir() => Directory.CreateDirectory(Path);

        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "vexlab-lat-" + Guid.NewGuid().ToString("N"));

        public string Write(string name, string text)
        {
            var p = System.IO.Path.Combine(Path, name);
            File.WriteAllText(p, text);
            return p;
        }

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
