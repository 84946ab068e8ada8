using Xunit.Abstractions;

namespace Vexlab.Simulation.Tests.Laws;

/// <summary>
/// A compute op of N units takes N x cost.compute_unit of guest time, for any N and unit, and an
/// arrival stream arrives at its rate.
/// </summary>
public sealed class ComputeCostLawTests(ITestOutputHelper output)
{
    private static string Counted(string compute, string duration = "20s") => $"""
        name: counted
        duration: {duration}
        guest:
          tick: 0
        host:
          hz: 0
        tasks:
          - name: j
            iterations: 100
            loop: compute {compute}
        """;

    [Theory]
    [InlineData("1us")]
    [InlineData("250ns")]
    [InlineData("3us")]
    public void NUnits_TakeNTimesTheUnit(string unit)
    {
        // 100 passes alone on a vCPU without a tick (the guest's or the host's, whose exits would take
        // their cost out of the passes where they fall): the loop's own cost is the same for every N,
        // so the passes of N units take (N - 1) x unit x 100 more than the passes of one.
        var unitNs = Vexlab.Scenarios.Values.ScalarParsers.ParseDuration(unit).Value;
        var one = ScenarioRuns.Run(Counted("1"), "sync", "cost.compute_unit=" + unit).Task("j");
        Assert.Equal(100, one.WorkDone);
        foreach (var n in new long[] { 2, 255, 256, 1_000, 65_536, 1_000_000 })
        {
            var r = ScenarioRuns.Run(Counted(n.ToString(System.Globalization.CultureInfo.InvariantCulture), "1000s"), "sync", "cost.compute_unit=" + unit).Task("j");
            output.WriteLine($"unit {unit}, compute {n}: {r.CpuNs} ns for 100 passes, {r.CpuNs - one.CpuNs} more than compute 1");
            Assert.Equal(100, r.WorkDone);
            Assert.Equal((n - 1) * unitNs * 100, r.CpuNs - one.CpuNs);
            Assert.Equal(r.CpuNs, r.FinishedNs);
        }

        // A duration is its own length, whatever the unit.
        var span = ScenarioRuns.Run(Counted("10us"), "sync", "cost.compute_unit=" + unit).Task("j");
        Assert.Equal((10_000 - unitNs) * 100, span.CpuNs - one.CpuNs);
    }

    [Theory]
    [InlineData("10000000000000000")]
    [InlineData("20000000000000000")]
    [InlineData("9223372036854775807")]
    public void AComputeLongerThanTheRun_FillsItAndNeverEnds(string units)
    {
        // 1e16 units of 1 us is 1e19 ns, past 2^63: the span wrapped negative and ran in 1 ns.
        var yaml = $"name: long\nduration: 1s\ntasks:\n  - name: j\n    loop: compute {units}\n  - name: k\n    vcpu: 0\n    loop: compute 10\n";
        var r = ScenarioRuns.Run(yaml, "sync");
        output.WriteLine($"compute {units}: {r.Task("j").WorkDone} passes, {r.Task("j").CpuNs} ns; k {r.Task("k").CpuNs} ns");
        Assert.Equal(0, r.Task("j").WorkDone);
        Assert.InRange(r.Task("j").Share, 0.45, 0.55);
        Assert.Equal(r.SimulatedNs, r.Task("j").CpuNs + r.Task("k").CpuNs);
    }

    [Theory]
    [InlineData("1000/s", "2s", 5)]
    [InlineData("100000/s", "100ms", 5)]
    [InlineData("10000000/s", "2ms", 5)]
    [InlineData("100000000/s", "1ms", 3)]
    [InlineData("1000000000/s", "200us", 3)]
    public void PoissonArrivals_ArriveAtTheirRate(string rate, string duration, int seeds)
    {
        // The count of a Poisson process of rate lambda over T is Poisson(lambda T): over K seeds
        // the total is within 4 standard errors, sqrt(K lambda T), of K lambda T.
        var lambda = Vexlab.Scenarios.Values.ScalarParsers.ParseRate(rate).Value.EventsPerSecond;
        var t = Vexlab.Scenarios.Values.ScalarParsers.ParseDuration(duration).Value;
        double arrived = 0;
        for (var seed = 1; seed <= seeds; seed++)
        {
            var yaml = $"name: arrivals\nduration: {duration}\ntasks:\n  - name: web\n    arrivals: poisson {rate}\n    loop: compute 1\n";
            arrived += ScenarioRuns.Run(yaml, "sync", $"seed={seed}").Task("web").Requests!.Arrived;
        }

        var expected = seeds * lambda * t / 1e9;
        var bound = 4 * Math.Sqrt(expected);
        output.WriteLine($"poisson {rate} over {duration} x {seeds} seeds: {arrived} arrived, expected {expected:F0} +- {bound:F0} ({(arrived - expected) / Math.Sqrt(expected):F1} standard errors)");
        Assert.InRange(arrived, expected - bound, expected + bound);
    }
}
