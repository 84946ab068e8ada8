using Vexlab.Simulation.Costs;

namespace Vexlab.Simulation.Tests.Laws;

/// <summary>
/// cost.apf_not_present_guest is the guest's work (docs/costs.md ApfNotPresentGuestWork): the not-present #PF's
/// delivery and the sleep-table insert, after KVM's kvm_entry. The EPT_VIOLATION exit that set the fault up lasts
/// the exit's own cost, cost.vm_exit_entry + cost.kvm_exit_handling, whatever the guest's work costs. Charged when
/// the async work started, the guest's work lay between kvm_exit and kvm_entry: 3.05 us a sample at the defaults.
/// </summary>
public sealed class NotPresentCostLawTests
{
    [Theory]
    [InlineData("kvm-pf-int", "750ns")]
    [InlineData("kvm-pf-int", "50us")]
    [InlineData("kvm-pf", "750ns")]
    [InlineData("kvm-pf", "50us")]
    public void AsyncEptViolationExit_LastsTheExitCost_WhateverTheGuestWorkCosts(string protocol, string notPresent)
    {
        var r = ScenarioRuns.Run(ScenarioRuns.SequentialFaults(20, "20ms"), protocol, "host.hz=0", "cost.apf_not_present_guest=" + notPresent);
        Assert.True(r.Counters.Injections[Metrics.InjectionKind.ApfNotPresent] > 0, "no not-present #PF was injected");
        var ept = Assert.Single(r.Tracepoints!.ExitRows(), x => x.Name == "EPT_VIOLATION");
        var exit = CostModel.Default.SimpleExit;
        Assert.Equal(exit, ept.Times.Min);
        Assert.Equal(exit, ept.Times.Max);
    }

    /// <summary>The guest's not-present work is guest time: raising its cost adds nothing to host_exit.</summary>
    [Fact]
    public void GuestNotPresentWork_IsNotHostExitTime()
    {
        var cheap = ScenarioRuns.Run(ScenarioRuns.SequentialFaults(20, "20ms"), "kvm-pf-int", "host.hz=0", "cost.apf_not_present_guest=750ns");
        var dear = ScenarioRuns.Run(ScenarioRuns.SequentialFaults(20, "20ms"), "kvm-pf-int", "host.hz=0", "cost.apf_not_present_guest=50us");
        Assert.Equal(cheap.Counters.Injections[Metrics.InjectionKind.ApfNotPresent], dear.Counters.Injections[Metrics.InjectionKind.ApfNotPresent]);
        Assert.Equal(cheap.Counters.Exits.Total, dear.Counters.Exits.Total);
        Assert.Equal(cheap.VcpuHostExitNs, dear.VcpuHostExitNs);
    }
}
