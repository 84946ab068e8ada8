using Vexlab.Simulation.Costs;
using Vexlab.Simulation.Metrics;

namespace Vexlab.Simulation.Tests.Laws;

/// <summary>
/// The page-ready interrupt's two costs (docs/costs.md): KVM's injection at the dequeue (kvm_check_async_pf_completion
/// -> kvm_arch_async_page_present, cost.interrupt_inject, in the host before the entry) and the guest's own part, the
/// interrupt's delivery, its handler and the waiting task's wakeup (cost.apf_ready_irq, in guest mode: under
/// kvm-pf-int the HYPERVISOR_CALLBACK_VECTOR handler, under ve the #VE design's wakeup interrupt on the same vector).
/// Both default to 1.5 us, so only raising one apart from the other tells which one a delivery is charged.
/// </summary>
public sealed class PageReadyIrqCostLawTests
{
    private static readonly string FixedFaults = ScenarioRuns.SequentialFaults(400, "2s");

    [Theory]
    [InlineData("kvm-pf-int", InjectionKind.ApfReady, 1)]
    [InlineData("ve", InjectionKind.ExternalInterrupt, 0)]
    public void RaisingApfReadyIrq_LengthensGuestModeByItPerPageReady_AndRaisingInterruptInject_OnlyTheHostsInjection(
        string protocol, InjectionKind pageReady, long injectionsPerReady)
    {
        // 400 faults on one vCPU with no tick of either side: every fault ends in one page-ready interrupt, and the
        // chain of faults is serial, so a cost added to each moves the run's end by 400 x d. cost.apf_ready_irq + d
        // adds d of guest mode per page-ready delivered and no host time; cost.interrupt_inject + d adds d of host_exit
        // per injection KVM makes at the dequeue (kvm-pf-int; ve's wakeup is sent without one) and no guest mode. The
        // delivery charged cost.interrupt_inject instead moved the guest by nothing when apf_ready_irq rose.
        const long d = 10_000;
        var plain = ScenarioRuns.Run(FixedFaults, protocol, "host.hz=0");
        var irq = ScenarioRuns.Run(FixedFaults, protocol, "host.hz=0", $"cost.apf_ready_irq={CostModel.Default.ApfReadyIrq + d}ns");
        var inject = ScenarioRuns.Run(FixedFaults, protocol, "host.hz=0", $"cost.interrupt_inject={CostModel.Default.InterruptInject + d}ns");
        foreach (var r in new[] { plain, irq, inject })
        {
            Assert.Equal(400, r.WorkDone);
            Assert.Equal(400, r.Counters.Injections[pageReady]);
            Assert.Equal(r.SimulatedNs, r.VcpuGuestNs + r.VcpuHostExitNs + r.VcpuHaltedNs + r.VcpuStalledNs + r.VcpuIdleNs + r.VcpuStealNs);
            Assert.Equal(r.SimulatedNs, r.Tracepoints!.GuestModeNs(0) + r.Tracepoints.ExitNs(0));
        }

        var readies = plain.Counters.Injections[pageReady];
        Assert.Equal(readies * d, irq.Tracepoints!.GuestModeNs(0) - plain.Tracepoints!.GuestModeNs(0));
        Assert.Equal(plain.VcpuHostExitNs, irq.VcpuHostExitNs);
        Assert.Equal(readies * d, irq.SimulatedNs - plain.SimulatedNs);

        Assert.Equal(injectionsPerReady * readies * d, inject.VcpuHostExitNs - plain.VcpuHostExitNs);
        Assert.Equal(plain.Tracepoints.GuestModeNs(0), inject.Tracepoints!.GuestModeNs(0));
    }
}
