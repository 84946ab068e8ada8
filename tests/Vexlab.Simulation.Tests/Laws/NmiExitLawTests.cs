using Vexlab.Simulation.Metrics;

namespace Vexlab.Simulation.Tests.Laws;

/// <summary>
/// A host PMI that arrives while a vCPU runs the guest is an EXCEPTION_NMI exit: KVM handles it
/// (vmx_handle_exit_irqoff -> the host's NMI handler), injects the NMI and enters again. The
/// exit costs what any simple exit costs, and that time is the vCPU's in the host.
/// </summary>
public sealed class NmiExitLawTests
{
    /// <summary>Two vCPUs computing, Poisson NMIs at 2,000 a second each, nothing else that exits.</summary>
    private const string NmiOnly = """
        name: nmi-only
        duration: 100ms
        guest:
          tick: 0
          vcpus: 2
        nmi:
          rate: 2000/s
        tasks:
          - name: cpu
            count: 2
            loop: compute 100
        """;

    [Theory]
    [InlineData("sync")]
    [InlineData("kvm-pf-int")]
    [InlineData("ve")]
    public void EachNmiExitLastsTheExitsCost_InTheHost(string protocol)
    {
        // cost.vm_exit_entry + cost.kvm_exit_handling = 1 us a PMI; the rest of the run is guest.
        // The exits were once counted and took no time: host_exit stayed 0.
        var r = ScenarioRuns.Run(NmiOnly, protocol);
        var exits = r.Counters.Exits[ExitReason.ExceptionNmi] + r.Counters.Exits[ExitReason.NmiWindow];
        Assert.InRange(r.Counters.Exits[ExitReason.ExceptionNmi], 300, 500);
        Assert.Equal(exits * 1_000, r.VcpuHostExitNs);
        Assert.Equal(2 * r.SimulatedNs, r.VcpuGuestNs + r.VcpuHostExitNs);
    }

    [Theory]
    [InlineData("sync")]
    [InlineData("kvm-halt")]
    [InlineData("ve")]
    public void NmisThatFindTheGuestBlockingNmis_ExitTwice_AtArrivalAndThroughTheNmiWindow(string protocol)
    {
        // At 200,000 PMIs a second many arrive while the guest still runs its NMI handler. Each that arrives in
        // guest mode exits then (EXCEPTION_NMI: NMI exiting does not wait for the guest's NMI blocking); one KVM
        // could not inject comes in through an NMI-window exit once the guest's IRET unblocks NMIs. One that arrives
        // while an exit is still being handled exits no second time. The exits were once taken only at delivery,
        // and ones arriving during another's handling overlapped it: host_exit fell short of 1 us an exit.
        var r = ScenarioRuns.Run(NmiOnly.Replace("rate: 2000/s", "rate: 200000/s", StringComparison.Ordinal), protocol);
        var arrivals = r.Counters.Exits[ExitReason.ExceptionNmi];
        var windows = r.Counters.Exits[ExitReason.NmiWindow];
        Assert.InRange(windows, 100, arrivals);
        Assert.Equal((arrivals + windows) * 1_000, r.VcpuHostExitNs);
        Assert.Equal(2 * r.SimulatedNs, r.VcpuGuestNs + r.VcpuHostExitNs);
        Assert.Equal(arrivals + windows, r.Counters.ExitTime(ExitReason.ExceptionNmi).Count + r.Counters.ExitTime(ExitReason.NmiWindow).Count);
    }

    [Fact]
    public void AtNoExitCost_TheNmisTakeNoHostTime()
    {
        var free = ScenarioRuns.Run(NmiOnly, "sync", "cost.vm_exit_entry=0", "cost.kvm_exit_handling=0");
        Assert.InRange(free.Counters.Exits[ExitReason.ExceptionNmi], 300, 500);
        Assert.Equal(0, free.VcpuHostExitNs);
        Assert.Equal(2 * free.SimulatedNs, free.VcpuGuestNs);
    }
}
