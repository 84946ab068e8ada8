namespace Vexlab.Simulation.Tests.Laws;

/// <summary>
/// Waking a halted vCPU (cost.wake_halted_vcpu: the exit on HLT, the host's schedule-in, the entry, the injection) is
/// host time. From the wake to the vCPU's kvm_entry it is in the host, so the guest's own work takes the same guest
/// time whatever the wake costs; only the halted, idle and host_exit time and the run's length move.
/// </summary>
public sealed class WakeCostLawTests
{
    /// <summary>Wake costs across the documented range and past it.</summary>
    public static TheoryData<long> WakeNs => [2_000, 5_000, 30_000, 100_000];

    private static readonly string FixedFaults = ScenarioRuns.SequentialFaults(400, "2s");

    [Theory]
    [InlineData("kvm-halt")]
    [InlineData("kvm-pf-int")]
    [InlineData("ve")]
    public void AFixedWorkload_TakesTheSameGuestTime_WhateverTheWakeCosts(string protocol)
    {
        // 400 faults, each ending in a wake. The guest time is the faults' guest work alone (kvm-halt: the
        // accesses; kvm-pf-int and ve: the not-present and page-ready handlers, the switches to idle and back),
        // the same at a 2 us wake as at a 100 us one, and to the nanosecond.
        var guest = new List<long>();
        var guestMode = new List<long>();
        foreach (var wake in WakeNs)
        {
            var r = ScenarioRuns.Run(FixedFaults, protocol, $"cost.wake_halted_vcpu={wake}ns");
            Assert.Equal(400, r.WorkDone);
            Assert.Equal(r.SimulatedNs, r.VcpuGuestNs + r.VcpuHostExitNs + r.VcpuHaltedNs + r.VcpuStalledNs + r.VcpuIdleNs + r.VcpuStealNs);
            Assert.Equal(r.SimulatedNs, r.Tracepoints!.GuestModeNs(0) + r.Tracepoints.ExitNs(0));
            guest.Add(r.VcpuGuestNs);
            guestMode.Add(r.Tracepoints.GuestModeNs(0));
        }

        Assert.All(guest, g => Assert.Equal(guest[0], g));
        Assert.All(guestMode, g => Assert.Equal(guestMode[0], g));
    }

    [Theory]
    [InlineData(2_000, 30_000)]
    [InlineData(5_000, 100_000)]
    public void EachFaultEndsInOneWake_UnderSyncAsUnderKvmHalt(long low, long high)
    {
        // 400 faults on one vCPU, nothing else to run: under sync the vCPU thread sleeps in the host's fault on the
        // page's I/O, under kvm-halt in vcpu_block, and either way the completion wakes a sleeping host thread, which is
        // scheduled in and enters. Each fault pays one such wake, so raising cost.wake_halted_vcpu by d moves the task's
        // completion by 400 x d under both protocols, to the nanosecond (no host tick, whose exits fall where the wakes put
        // the guest's work). The stall's wake used to cost
        // cost.vm_exit_entry whatever the key said: sync's completion did not move.
        foreach (var protocol in new[] { "sync", "kvm-halt" })
        {
            var cheap = ScenarioRuns.Run(FixedFaults, protocol, "host.hz=0", $"cost.wake_halted_vcpu={low}ns");
            var dear = ScenarioRuns.Run(FixedFaults, protocol, "host.hz=0", $"cost.wake_halted_vcpu={high}ns");
            Assert.Equal(400, cheap.FaultLatency.Count);
            Assert.Equal(400, dear.FaultLatency.Count);
            Assert.Equal(400 * (high - low), dear.Task("mem").FinishedNs - cheap.Task("mem").FinishedNs);
        }
    }

    [Theory]
    [InlineData(250)]
    [InlineData(1000)]
    public void KvmPfHostTicks_CutGuestWork_WithoutTakingItsTime(int hz)
    {
        // Under kvm-pf the host's tick exits (EXTERNAL_INTERRUPT) when it finds the vCPU in guest mode, and where
        // it falls moves with the wake cost: over 4000 faults a handful of ticks at 250 Hz (none at some wake costs),
        // a dozen or two at 1000 Hz. Each takes its exit's cost of host time and cuts the guest work it lands in,
        // which goes on after the re-entry; so the guest time is the faults' guest work alone, as with no host tick.
        // The re-entry was stamped only after that rest of the work, which counted as host_exit: up to 2.5 us less
        // guest time at 250 Hz. One tick can fall on a step's boundary, where the re-entry step takes a micro-op
        // (20 ns) of guest time of its own: 1000 Hz at a 2 us wake has one.
        var yaml = ScenarioRuns.SequentialFaults(4000, "2s");
        var quiet = ScenarioRuns.Run(yaml, "kvm-pf", "host.hz=0");
        long allTicks = 0;
        foreach (var wake in WakeNs)
        {
            var r = ScenarioRuns.Run(yaml, "kvm-pf", $"host.hz={hz}", $"cost.wake_halted_vcpu={wake}ns");
            Assert.Equal(4000, r.WorkDone);
            Assert.Equal(r.SimulatedNs, r.VcpuGuestNs + r.VcpuHostExitNs + r.VcpuHaltedNs + r.VcpuStalledNs + r.VcpuIdleNs + r.VcpuStealNs);
            Assert.Equal(r.SimulatedNs, r.Tracepoints!.GuestModeNs(0) + r.Tracepoints.ExitNs(0));
            var ticks = r.Counters.Exits[Metrics.ExitReason.ExternalInterrupt];
            allTicks += ticks;
            Assert.InRange(r.VcpuGuestNs, quiet.VcpuGuestNs, quiet.VcpuGuestNs + (ticks * 20));
        }

        // The law was put to the test: some run had ticks that exited in guest mode.
        Assert.True(allTicks > 0, $"no host tick exited at {hz} Hz");
    }

    [Theory]
    [InlineData("kvm-halt")]
    [InlineData("kvm-pf")]
    [InlineData("kvm-pf-int")]
    [InlineData("ve")]
    public void EachFault_PaysOneWake_AsHostExitTime(string protocol)
    {
        // Every one of the 400 faults halts the vCPU (KVM's artificial halt, or the idle task's HLT exit) until its
        // page is in, and ends in one wake: kvm_vcpu_wake_up, the vCPU thread scheduled in, kvm_vcpu_block returning,
        // then in the same pass of vcpu_run the page-ready dequeue (kvm_check_async_pf_completion) and
        // vcpu_enter_guest with the injection. So going from a 2 us wake to a 100 us one lengthens the run by 400 x
        // 98 us, whatever the protocol, and that time is the host's from the wake to kvm_entry (host_exit): waiting
        // to be woken takes as long at either cost. kvm-halt and kvm-pf-int paid the wake twice (the woken step's
        // delay, then again for the page-ready it dequeued: 400 x 196 us, 78.4 ms), and kvm-pf counted its one wake
        // as idle. 1% covers what differs between the runs beside the wake: the faults' host latencies are drawn
        // from one seed, so they stay the same, but a longer run moves nothing else here (no tick, one task).
        const long faults = 400;
        const long extra = faults * (100_000 - 2_000);
        var fast = ScenarioRuns.Run(FixedFaults, protocol, "cost.wake_halted_vcpu=2us");
        var slow = ScenarioRuns.Run(FixedFaults, protocol, "cost.wake_halted_vcpu=100us");
        foreach (var r in new[] { fast, slow })
        {
            Assert.Equal(faults, r.WorkDone);
            Assert.Equal(r.SimulatedNs, r.VcpuGuestNs + r.VcpuHostExitNs + r.VcpuHaltedNs + r.VcpuStalledNs + r.VcpuIdleNs + r.VcpuStealNs);
        }

        var longer = slow.SimulatedNs - fast.SimulatedNs;
        Assert.InRange(longer, extra * 99 / 100, extra * 101 / 100);
        var hostExit = slow.VcpuHostExitNs - fast.VcpuHostExitNs;
        Assert.InRange(hostExit, extra * 99 / 100, extra * 101 / 100);
        var waiting = (slow.VcpuHaltedNs + slow.VcpuIdleNs) - (fast.VcpuHaltedNs + fast.VcpuIdleNs);
        Assert.InRange(waiting, -extra / 100, extra / 100);
    }

    public static TheoryData<string, long> ProtocolsAndWakes()
    {
        var data = new TheoryData<string, long>();
        foreach (var protocol in new[] { "kvm-halt", "kvm-pf", "kvm-pf-int", "ve" })
        {
            foreach (var wake in WakeNs)
            {
                data.Add(protocol, wake);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ProtocolsAndWakes))]
    public void AnNmiDuringAWake_IsInjectedAtTheWakesEntry_NotAtItsArrival(string protocol, long wakeNs)
    {
        // An NMI raised while the vCPU is in the host (halted, or woken and not yet entered) is injected at the
        // vCPU's next kvm_entry, after the wake; the guest time it adds is its own: an injection (1.5 us, when it
        // comes in through an NMI window) and the handler. Its kvm_entry was stamped at the NMI's arrival, so the
        // rest of the wake counted as guest mode: under kvm-halt 3.12 ms of guest time at a 100 us wake and 1.13
        // ms at 30 us, against 0.16 ms at 5 us (0.24, 0.16 and 0.11 ms now); under the others, whose halt is the
        // idle task's HLT, the HLT exit ended at the arrival (guest mode 28.4 ms at 100 us, 4.9 ms at 2 us).
        var r = ScenarioRuns.Run(ScenarioRuns.NmiWakesHaltedVcpu, protocol, $"cost.wake_halted_vcpu={wakeNs}ns");
        var quiet = ScenarioRuns.Run(ScenarioRuns.NmiWakesHaltedVcpu, protocol, $"cost.wake_halted_vcpu={wakeNs}ns", "nmi.rate=0");
        Assert.Equal(r.SimulatedNs, r.VcpuGuestNs + r.VcpuHostExitNs + r.VcpuHaltedNs + r.VcpuStalledNs + r.VcpuIdleNs + r.VcpuStealNs);
        Assert.Equal(r.SimulatedNs, r.Tracepoints!.GuestModeNs(0) + r.Tracepoints.ExitNs(0));

        // About 500 NMIs arrive (Poisson, so 600 bounds them by over 4 sigma), each adding at most its injection and
        // a handler (1.7 us) to the guest time: guest-mode time, the idle task's included, the trace's view.
        const long nmis = 600;
        const long perNmi = 1_700;
        var added = r.Tracepoints.GuestModeNs(0) - quiet.Tracepoints!.GuestModeNs(0);
        Assert.True(added <= nmis * perNmi, $"guest mode {r.Tracepoints.GuestModeNs(0)} ns against {quiet.Tracepoints.GuestModeNs(0)} ns without NMIs: {added} ns more for at most {nmis} NMIs");
        Assert.True(r.VcpuGuestNs - quiet.VcpuGuestNs <= nmis * perNmi, $"guest {r.VcpuGuestNs} ns against {quiet.VcpuGuestNs} ns without NMIs");
    }
}
