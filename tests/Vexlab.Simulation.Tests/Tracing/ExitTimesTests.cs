using Vexlab.Simulation.Tracing;

namespace Vexlab.Simulation.Tests.Tracing;

public class ExitTimesTests
{
    [Fact]
    public void Stats_AreWhatPerfComputes()
    {
        long[] samples = [1_000, 2_000, 4_000, 9_000, 500];
        var t = new ExitTimes();
        foreach (var s in samples)
        {
            t.Record(s);
        }

        var mean = samples.Average();
        var variance = samples.Sum(s => (s - mean) * (s - mean)) / (samples.Length - 1);
        Assert.Equal(5, t.Count);
        Assert.Equal(500, t.Min);
        Assert.Equal(9_000, t.Max);
        Assert.Equal(16_500, t.Sum);
        Assert.Equal(Math.Sqrt(variance), t.StdDev, 6);

        // perf: stddev of the mean relative to the mean, in percent.
        Assert.Equal(100.0 * Math.Sqrt(variance / samples.Length) / mean, t.RelStdDevPercent, 6);
    }

    [Fact]
    public void Merge_EqualsRecordingEverything()
    {
        var a = new ExitTimes();
        var b = new ExitTimes();
        var all = new ExitTimes();
        for (var i = 0; i < 100; i++)
        {
            var ns = (i * 37 % 101) + 1;
            (i % 3 == 0 ? a : b).Record(ns);
            all.Record(ns);
        }

        a.Merge(b);
        Assert.Equal(all.Count, a.Count);
        Assert.Equal(all.Sum, a.Sum);
        Assert.Equal(all.Min, a.Min);
        Assert.Equal(all.Max, a.Max);
        Assert.Equal(all.StdDev, a.StdDev, 9);
    }

    public static TheoryData<string, string> Runs() => BuiltinTraces.All();

    /// <summary>Per vCPU, exit time (exit to next entry) plus guest-mode time is the simulated time; summed, the vcpu_ns split.</summary>
    [Theory]
    [MemberData(nameof(Runs))]
    public void ExitTime_PlusGuestMode_IsSimulatedTime(string builtin, string protocol)
    {
        var (result, _, threads) = BuiltinTraces.Run(builtin, protocol, "duration=5ms");
        var tp = result.Tracepoints!;
        long exitsAll = 0;
        long guestAll = 0;
        for (var v = 0; v < threads.Vcpus; v++)
        {
            Assert.Equal(result.SimulatedNs, tp.ExitNs(v) + tp.GuestModeNs(v));
            Assert.Equal(tp.ExitNs(v), tp.ExitRows(v).Sum(r => r.Times.Sum));
            exitsAll += tp.ExitNs(v);
            guestAll += tp.GuestModeNs(v);
        }

        Assert.Equal(exitsAll, tp.ExitRows().Sum(r => r.Times.Sum));
        var vcpuNs = result.VcpuGuestNs + result.VcpuHostExitNs + result.VcpuStalledNs + result.VcpuHaltedNs + result.VcpuIdleNs;
        Assert.Equal(vcpuNs, exitsAll + guestAll);
    }

    [Fact]
    public void Sync_StallsCountInTheirExits()
    {
        // Under sync the vCPU waits for the page inside the EPT violation exit: perf kvm stat shows it there.
        var (result, _, _) = BuiltinTraces.Run("postcopy", "sync", "duration=5ms");
        var rows = result.Tracepoints!.ExitRows();
        var ept = rows.Single(r => r.Name == "EPT_VIOLATION").Times;
        Assert.True(ept.Sum >= result.VcpuStalledNs * 9 / 10, $"EPT exits {ept.Sum} ns, stalled {result.VcpuStalledNs} ns");
        Assert.True(ept.Mean > 10 * 1_000, $"mean EPT exit {ept.Mean} ns");
    }
}
