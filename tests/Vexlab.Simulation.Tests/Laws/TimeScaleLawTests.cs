using Vexlab.Scenarios.Documents;
using Vexlab.Simulation.Costs;
using Vexlab.Simulation.Scenarios;
using Xunit.Abstractions;

namespace Vexlab.Simulation.Tests.Laws;

/// <summary>
/// The simulator has no time constant of its own: with every cost, the store's latency, the tick,
/// the sleeps and the duration multiplied by k, the run is the same run on a clock k times slower
/// (the same work, faults and exits; every time and latency k times as long). The guest's base slice
/// is scaled too: it is the kernel's constant (0.75 ms x 2 at two vCPUs), and since a wakeup acts on a
/// used-up request it shapes the run between ticks. So is the guest's balance interval (sd_weight
/// ms, 2 ms at two vCPUs, sixteen times that while busy): left at 2 ms it let the x3 run balance at
/// ticks where the x1 run did not, and once the vCPUs' ticks fell together that moved the sleeper
/// to the other vCPU at x3 only (kvm-pf-int). The host's tick is
/// off: its period is 1 s / host.hz for a whole HZ, and no HZ scales by 2 and 3 to a whole period. The tick's
/// jitter is off too: a draw below k x 1 us is not k times a draw below 1 us.
/// A scenario may not leave it off where vCPU threads share a pCPU (nothing would end a slice), so
/// under contention the setup is built at HZ=250 and its tick taken out: the slice then ends the
/// moment its request is served.
/// </summary>
public sealed class TimeScaleLawTests(ITestOutputHelper output)
{
    public static TheoryData<string> Protocols => EveryProtocol.Names;

    private static string Scenario(long k, bool pressure) => $"""
        name: scaled
        duration: {30 * k}ms
        guest:
          vcpus: 2
          tick: {4 * k}ms
          tick_jitter: 0
          sched:
            base_slice: {1500 * k}us
        host:
          hz: {(pressure ? 250 : 0)}
          {(pressure ? $"memory_limit: 2MiB\n  reclaim:\n    page_cost: {k}us\n  pcpus: 1\n  sched:\n    slice: {3 * k}ms\n  swap:\n    queue_depth: 2" : "memory_limit: 0")}
          backing: s
        backings:
          - name: s
            latency: fixed {40 * k}us
        regions:
          - name: heap
            size: 8MiB
            absent: 1.0
        tasks:
          - name: mem
            count: 3
            loop: touch heap random; compute 5
          - name: cpu
            loop: compute 20
          - name: sleeper
            loop: compute 3; sleep {200 * k}us
        """;

    [Theory]
    [MemberData(nameof(Protocols))]
    public void ScalingEveryTimeByK_ScalesTheRunByK(string protocol) => Check(protocol, pressure: false);

    /// <summary>The same under a host memory limit (reclaim's page cost scaled), a shared swap device and one pCPU (the host's slice scaled).</summary>
    [Theory]
    [MemberData(nameof(Protocols))]
    public void ScalingEveryTimeByK_ScalesTheRunByK_UnderPressureAndContention(string protocol) => Check(protocol, pressure: true);

    private void Check(string protocol, bool pressure)
    {
        var entry = Overrides.ParseProtocols(protocol)[0];
        Vexlab.Simulation.Driver.SimulationResult Run(long k)
        {
            var document = ScenarioDocument.Parse(Scenario(k, pressure), "law.yaml");
            var run = ScenarioRunner.Prepare(document, "law.yaml", entry, [], [entry.Protocol], CostModel.Default.Scale(k));
            return ScenarioRunner.Run(run with { Setup = run.Setup with { HostTickPeriodNs = 0, BalanceIntervalNs = 2 * 1_000_000 * k } });
        }

        var one = Run(1);
        foreach (var k in new long[] { 2, 3 })
        {
            var r = Run(k);
            output.WriteLine($"{protocol}{(pressure ? " under pressure" : "")} x{k}: work {string.Join(",", r.Tasks.Select(t => t.WorkDone))} against {string.Join(",", one.Tasks.Select(t => t.WorkDone))}; faults {r.FaultLatency.Count} against {one.FaultLatency.Count}; mean {r.FaultLatency.Mean / k:F1} against {one.FaultLatency.Mean:F1}; guest {r.VcpuGuestNs / (double)k} against {one.VcpuGuestNs}");
            Assert.Equal(one.FaultLatency.Count, r.FaultLatency.Count);
            foreach (var t in one.Tasks)
            {
                Assert.Equal(t.WorkDone, r.Task(t.Name).WorkDone);
                Assert.Equal(t.CpuNs * k, r.Task(t.Name).CpuNs);
            }

            Assert.Equal(one.FaultLatency.Min * k, r.FaultLatency.Min);
            Assert.Equal(one.FaultLatency.Max * k, r.FaultLatency.Max);
            Assert.Equal(one.VcpuGuestNs * k, r.VcpuGuestNs);
            Assert.Equal(one.VcpuHostExitNs * k, r.VcpuHostExitNs);
            Assert.Equal(one.VcpuStalledNs * k, r.VcpuStalledNs);
            Assert.Equal(one.VcpuHaltedNs * k, r.VcpuHaltedNs);
            Assert.Equal(one.VcpuIdleNs * k, r.VcpuIdleNs);
            Assert.Equal(one.VcpuStealNs * k, r.VcpuStealNs);
            foreach (var (name, count) in one.Counters.Exits.Snapshot())
            {
                Assert.Equal(count, r.Counters.Exits.Snapshot().Single(x => x.Key == name).Value);
            }
        }
    }
}
