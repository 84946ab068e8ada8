using Vexlab.Simulation.Engine;
using Vexlab.Simulation.Memory;
using Vexlab.Simulation.Scenarios;
using Vexlab.Simulation.Tests.Driver;
using Xunit.Abstractions;

namespace Vexlab.Simulation.Tests.Laws;

/// <summary>
/// The shared swap device (host.swap.queue_depth, host.swap.bandwidth) as a queue: its waits
/// follow queueing theory, its link caps throughput, and a contended run never keeps it busier
/// than the time its reads took.
/// </summary>
public sealed class SwapDeviceLawTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(0.3)]
    [InlineData(0.5)]
    [InlineData(0.8)]
    public void PoissonReadsIntoOneSlotWithExponentialService_WaitAsMM1(double rho)
    {
        // M/M/1: mean wait in queue W_q = rho / (mu - lambda).
        const double Mu = 1.0 / 100_000;  // 100 us mean service
        var lambda = rho * Mu;
        var device = new SwapDevice(1, 0, 4096);
        var rng = new SimRandom(11).Fork("mm1/" + rho.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var now = 0L;
        const int N = 1_000_000;
        for (var i = 0; i < N; i++)
        {
            now += (long)Math.Round(-Math.Log(rng.NextOpenUnitDouble()) / lambda);
            var service = Math.Max(1, (long)Math.Round(-Math.Log(rng.NextOpenUnitDouble()) / Mu));
            device.Advance(now);
            device.Submit(now, service);
        }

        var expected = rho / (Mu - lambda);
        Assert.InRange(device.MeanWaitNs, expected * 0.9, expected * 1.1);

        // Utilisation: the device was busy rho of the time.
        Assert.InRange((double)device.BusyNs / now, rho * 0.97, rho * 1.03);
    }

    [Fact]
    public void UnlimitedDepth_ServesEveryReadAtOnce()
    {
        var device = new SwapDevice(0, 0, 4096);
        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(1_000 + 50_000, device.Submit(1_000, 50_000));
        }

        Assert.Equal(0, device.WaitNs);
    }

    [Fact]
    public void TheLink_CapsThroughputAtItsBandwidth()
    {
        // 1,000 reads at once over a 4 KiB-per-microsecond link: the last leaves after 1,000 transfers.
        var device = new SwapDevice(64, 4096L * 1_000_000, 4096);
        long last = 0;
        for (var i = 0; i < 1_000; i++)
        {
            last = Math.Max(last, device.Submit(0, 10_000));
        }

        Assert.Equal(10_000 + (1_000 * 1_000), last);
    }

    [Theory]
    [InlineData("sync")]
    [InlineData("kvm-pf-int")]
    public void AContendedDevice_IsNeverBusierThanTime_AndQueuesFaults(string protocol)
    {
        const string Yaml = """
            name: shared-device
            duration: 200ms
            guest:
              vcpus: 4
            host:
              memory_limit: 64KiB
              backing: exp
            backings:
              - name: exp
                latency: exponential mean=50us
            regions:
              - name: heap
                size: 16MiB
                absent: 1.0
            tasks:
              - name: mem
                count: 4
                loop: touch heap random
            """;
        var free = ScenarioRuns.Run(Yaml, protocol);
        var queued = ScenarioRuns.Run(Yaml, protocol, "host.swap.queue_depth=1");
        var device = queued.SwapDevice!;
        Assert.Null(free.SwapDevice);
        // One slot serves one read at a time: it cannot have been busy longer than until its last read is done.
        Assert.True(device.BusyNs <= device.LastDoneNs, $"busy {device.BusyNs} > {device.LastDoneNs}");
        Assert.True(device.LastDoneNs < queued.SimulatedNs + 10_000_000);
        Assert.True(device.MeanWaitNs > 0);
        Assert.True(queued.FaultLatency.Mean > free.FaultLatency.Mean, $"{queued.FaultLatency.Mean} <= {free.FaultLatency.Mean}");
        Assert.True(queued.FaultLatency.Count < free.FaultLatency.Count);
    }

    /// <summary>
    /// Law: the device's figures are the run's. Its busy time, summed over its slots, is at most queue_depth x the run,
    /// and no request waits longer than the run, however saturated the device (one slot): a request is computed whole
    /// when submitted, and those queued past the run's end count only their part before it. They counted whole:
    /// postcopy under sync with one slot, 33,627,485 ns busy in 30 ms; swap-overcommit, 328,667,323 ns busy and a
    /// 324,663,594 ns wait. The built-ins that read or write swap must saturate it in some run, or the law checks nothing.
    /// </summary>
    [Theory]
    [MemberData(nameof(EveryProtocol.Names), MemberType = typeof(EveryProtocol))]
    public void ASaturatedDevice_IsBusyAndWaitsOnlyWithinTheRun(string protocol)
    {
        const int Depth = 1;
        var saturated = 0;
        foreach (var builtin in Builtins.Names)
        {
            var r = BuiltinRuns.Run(builtin, protocol, 1.0, "duration=30ms", $"host.swap.queue_depth={Depth}");
            var device = r.SwapDevice!;
            output.WriteLine($"{builtin} {protocol}: {device.Requests} requests, busy {device.BusyNs} ns, wait max {device.MaxWaitNs} ns, mean {device.MeanWaitNs:F0} ns, last done {device.LastDoneNs} ns, run {r.SimulatedNs} ns");
            Assert.InRange(device.BusyNs, 0, Depth * r.SimulatedNs);
            Assert.InRange(device.MaxWaitNs, 0, r.SimulatedNs);
            Assert.InRange(device.MeanWaitNs, 0, device.MaxWaitNs);
            saturated += device.LastDoneNs > r.SimulatedNs ? 1 : 0;
        }

        Assert.True(saturated > 0, "no built-in queued a request past the run's end");
    }
}
