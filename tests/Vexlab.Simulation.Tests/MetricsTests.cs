using CsCheck;
using Vexlab.Simulation.Metrics;

namespace Vexlab.Simulation.Tests;

public class MetricsTests
{
    [Fact]
    public void Percentiles_OnKnownData_WithinHistogramPrecision()
    {
        var r = new LatencyRecorder();
        for (long v = 1; v <= 10_000; v++)
        {
            r.Record(v * 1_000); // 1 us .. 10 ms
        }

        Assert.Equal(10_000, r.Count);
        Assert.Equal(1_000, r.Min);
        Assert.Equal(10_000_000, r.Max);
        AssertClose(5_000_000, r.P50);
        AssertClose(9_900_000, r.P99);
        AssertClose(9_990_000, r.P999);
        Assert.Equal(5_000_500.0, r.Mean, 6);
        Assert.Equal((Int128)50_005_000_000, r.Sum);
    }

    [Fact]
    public void Merge_EqualsRecordingEverythingOnce()
    {
        var a = new LatencyRecorder();
        var b = new LatencyRecorder();
        var all = new LatencyRecorder();
        for (long v = 1; v <= 1000; v++)
        {
            (v % 3 == 0 ? a : b).Record(v * 37);
            all.Record(v * 37);
        }

        a.Merge(b);
        Assert.Equal(all.Count, a.Count);
        Assert.Equal(all.Min, a.Min);
        Assert.Equal(all.Max, a.Max);
        Assert.Equal(all.Sum, a.Sum);
        Assert.Equal(all.P50, a.P50);
        Assert.Equal(all.P99, a.P99);
        Assert.Equal(all.Mean, a.Mean, 6);
        Assert.Equal(all.StdDev, a.StdDev, 6);
    }

    [Fact]
    public void Empty_ReportsZeros_AndOutOfRangeIsClamped()
    {
        var r = new LatencyRecorder();
        Assert.Equal(0, r.P99);
        Assert.Equal(0, r.Min);
        r.Record(0);
        r.Record(LatencyRecorder.HighestTrackableNs + 1);
        Assert.Equal(2, r.Clamped);
        Assert.Equal(2, r.Count);
    }

    [Fact]
    public void Counters_CountByEnum_WithNames()
    {
        var c = new Counters();
        c.RecordExit(ExitReason.EptViolation, 3_000);
        c.RecordExit(ExitReason.EptViolation, 5_000);
        c.RecordExit(ExitReason.Hlt, 10_000);
        c.Injections.Increment(InjectionKind.VirtualizationException);
        c.Signals.Increment(SignalKind.ApfPageReady, 3);

        Assert.Equal(2, c.Exits[ExitReason.EptViolation]);
        Assert.Equal(3, c.Exits.Total);
        Assert.Equal(1, c.Injections[InjectionKind.VirtualizationException]);
        Assert.Equal(3, c.Signals[SignalKind.ApfPageReady]);
        Assert.Equal("EPT_VIOLATION", CounterNames.Name(ExitReason.EptViolation));
        Assert.Equal("#VE", CounterNames.Name(InjectionKind.VirtualizationException));
        Assert.Equal(4_000, c.ExitTime(ExitReason.EptViolation).Mean);
        Assert.Equal(2, c.ExitStats().Count);

        var other = new Counters();
        other.RecordExit(ExitReason.Hlt, 20_000);
        c.Merge(other);
        Assert.Equal(2, c.Exits[ExitReason.Hlt]);
        Assert.Contains(new KeyValuePair<string, long>("HLT", 2), c.Exits.Snapshot());
    }

    [Fact]
    public void NameTables_MatchEnumLengths()
    {
        Assert.Equal(Enum.GetValues<ExitReason>().Length, CounterNames.ExitReasons.Length);
        Assert.Equal(Enum.GetValues<ExitReason>().Length, CounterNames.VmxExitCodes.Length);
        Assert.Equal(Enum.GetValues<InjectionKind>().Length, CounterNames.Injections.Length);
        Assert.Equal(Enum.GetValues<SignalKind>().Length, CounterNames.Signals.Length);
    }

    private static void AssertClose(long expected, long actual) =>
        Assert.InRange(actual, expected - (expected / 1000) - 1, expected + (expected / 1000) + 1);
}

public sealed class LatencyClampTests
{
    [Fact]
    public void NoPercentileIsAboveMaxOrBelowMin()
    {
        Gen.Long[1, 3_600_000_000_000L].Array[1, 200].Sample(values =>
        {
            var r = new Vexlab.Simulation.Metrics.LatencyRecorder();
            foreach (var v in values)
            {
                r.Record(v);
            }

            foreach (var p in new[] { 0.0, 50.0, 99.0, 99.9, 100.0 })
            {
                Assert.InRange(r.Percentile(p), r.Min, r.Max);
            }

            Assert.InRange(r.Mean, r.Min, r.Max);
        });
    }
}
