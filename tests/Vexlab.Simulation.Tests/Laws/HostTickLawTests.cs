using Vexlab.Simulation.Metrics;
using Vexlab.Simulation.Tracing;

namespace Vexlab.Simulation.Tests.Laws;

/// <summary>
/// host.hz: the host's own scheduler tick interrupts a pCPU that runs a vCPU (an EXTERNAL_INTERRUPT
/// exit under every protocol, intr_info 0x800000ec), and the 5.7 host (kvm-pf) checks completions on
/// its way back in (vcpu_run -> kvm_check_async_pf_completion), so a page-ready waits for at most one
/// host tick.
/// </summary>
public class HostTickLawTests
{
    /// <summary>
    /// One vCPU with a slow guest tick (20 ms): a user task whose every touch is an async fault
    /// (a fixed 80 us swap-in) beside a task that keeps the vCPU in the guest with interrupts on,
    /// so between guest ticks the host tick is the only exit that can bring page-ready in.
    /// </summary>
    private const string OneFaulter = """
        name: one-faulter
        duration: 200ms
        guest:
          tick: 20ms
        backings:
          - name: lat80
            latency: fixed 80us
        host:
          memory_limit: 4KiB
          backing: lat80
        regions:
          - name: heap
            size: 16MiB
            absent: 1.0
        tasks:
          - name: mem
            loop: touch heap random
          - name: cpu
            loop: compute 100
        """;

    /// <summary>Nothing absent, one task computing, no guest tick: only the host tick exits.</summary>
    private const string ComputeOnly = """
        name: compute-only
        duration: 100ms
        guest:
          tick: 0
          vcpus: 2
        tasks:
          - name: cpu
            count: 2
            loop: compute 100
        """;

    [Theory]
    [InlineData(250)]
    [InlineData(1000)]
    [InlineData(300)]
    public void UnderKvmPf_PageReadyWaitsAtMostOneHostTick(int hz)
    {
        var period = 1_000_000_000L / hz;
        var waits = ReadyWaits(OneFaulter, "kvm-pf", $"host.hz={hz}");
        Assert.True(waits.Count >= 20, $"{waits.Count} page-readies at HZ={hz}");

        // From the worker's completion to the page-ready's injection: at most one tick period
        // until the exit, then the exit's cost (1 us); a guest tick can only come sooner.
        Assert.True(waits.Max() <= period + 2_000, $"longest wait {waits.Max()} ns at HZ={hz}");

        // Not half a period on average: the faulter touches its next page as soon as the tick's
        // page-ready wakes it, so each completion lands 85 us after a tick and waits out the rest.
        Assert.InRange(waits.Average(), period * 0.5, period);
    }

    /// <summary>
    /// The woken task runs at the page-ready #PF's return whatever mode its neighbour computes in:
    /// to user mode through the exit-to-user work, to kernel mode through 5.7's retint_kernel
    /// (preempt_schedule_irq with IF set and no preempt count, CONFIG_PREEMPTION). So nearly every
    /// fault lasts at most one host tick beyond its swap-in, beside a kernel-mode task as beside a
    /// user one; before the kernel-mode return preempted, each lasted until the guest's 20 ms tick.
    /// </summary>
    [Theory]
    [InlineData("user")]
    [InlineData("kernel")]
    public void UnderKvmPf_FaultP99IsAtMostOneHostTickBeyondTheSwapIn_WhateverTheNeighboursMode(string mode)
    {
        var period = 1_000_000_000L / 1000;
        var r = ScenarioRuns.Run(OneFaulter, "kvm-pf", "host.hz=1000", $"tasks[1].mode={mode}");
        Assert.True(r.FaultLatency.Count >= 100, $"{r.FaultLatency.Count} faults beside a {mode}-mode task");

        // 80 us swap-in, the wait for the host tick, then the exits and handlers (a few us). A few
        // wakeups the guest's EEVDF turns down (negative lag) wait for its 20 ms tick instead.
        Assert.True(r.FaultLatency.P99 <= 80_000 + period + 20_000, $"p99 fault {r.FaultLatency.P99} ns beside a {mode}-mode task");
    }

    [Fact]
    public void UnderKvmPf_WithoutTheHostTick_PageReadyWaitsForTheGuestTick()
    {
        // host.hz=0 (nohz_full), as before host.hz existed: only the guest's 20 ms tick exits,
        // so page-ready waits for it, 10 ms on average.
        var waits = ReadyWaits(OneFaulter, "kvm-pf", "host.hz=0");
        Assert.NotEmpty(waits);
        Assert.True(waits.Max() > 4_000_000, $"longest wait {waits.Max()} ns");
        Assert.True(waits.Max() <= 20_000_000 + 2_000, $"longest wait {waits.Max()} ns");
    }

    [Fact]
    public void UnderKvmPf_HostTickExitsMatchTheTrace()
    {
        // Every host tick that exits is a kvm_exit EXTERNAL_INTERRUPT record, and the exits'
        // count is the JSON's: 50 ticks in 200 ms at HZ=250. The guest's ten are PREEMPTION_TIMER exits.
        var (result, trace) = ScenarioRuns.RunTraced(OneFaulter, "kvm-pf", "host.hz=250");
        var exits = trace.Records.Count(r => r.Kind == TraceKind.KvmExit && r.ExitReason == ExitReason.ExternalInterrupt);
        Assert.Equal(result.Counters.Exits[ExitReason.ExternalInterrupt], exits);
        Assert.InRange(exits, 50 - 2, 50);
        var guestTicks = trace.Records.Count(r => r.Kind == TraceKind.KvmExit && r.ExitReason == ExitReason.PreemptionTimer);
        Assert.Equal(result.Counters.Exits[ExitReason.PreemptionTimer], guestTicks);
        Assert.InRange(guestTicks, 10 - 1, 10);
    }

    [Theory]
    [InlineData("kvm-pf-int")]
    [InlineData("ve")]
    public void OtherAsyncProtocols_DoNotWaitForAnExit(string protocol)
    {
        // 5.8+ makes KVM_REQ_APF_READY and kicks the vCPU (557a961abbe0); the #VE host raises
        // its wakeup vector: no page-ready waits for the host tick's exit. The tick still exits
        // (about HZ x the time in guest mode: 50 ticks in 200 ms at HZ=250, the vCPU in the guest
        // 96% of it under kvm-pf-int), which costs 1 us each and moves no fault: the faults, their
        // median and their p99 are the ones without the tick, the p99.9 at most an exit longer.
        // The tick's exit was once left out under these protocols.
        var with = ScenarioRuns.Run(OneFaulter, protocol, "host.hz=250");
        var without = ScenarioRuns.Run(OneFaulter, protocol, "host.hz=0");
        Assert.True(with.FaultLatency.Count > 1_000, $"{with.FaultLatency.Count} faults");
        Assert.Equal(without.FaultLatency.Count, with.FaultLatency.Count);
        Assert.Equal(without.FaultLatency.P50, with.FaultLatency.P50);
        Assert.InRange(with.FaultLatency.P99, without.FaultLatency.P99, without.FaultLatency.P99 + 1_100);
        Assert.InRange(with.FaultLatency.P999, without.FaultLatency.P999, without.FaultLatency.P999 + 1_100);
        Assert.Equal(0, without.Counters.Exits[ExitReason.ExternalInterrupt]);
        var inGuest = (double)with.VcpuGuestNs / with.SimulatedNs;
        Assert.InRange(with.Counters.Exits[ExitReason.ExternalInterrupt], (long)(50 * inGuest) - 3, 50);
    }

    /// <summary>
    /// VMX runs every guest with external-interrupt exiting (PIN_BASED_EXT_INTR_MASK, setup_vmcs_config), so
    /// the host's tick exits a vCPU it finds in guest mode under every protocol, not only where the 5.7 host
    /// (kvm-pf) dequeues page-ready at the entry after it: on two always-running vCPUs with a pCPU each and no
    /// guest tick, each vCPU takes D x HZ EXTERNAL_INTERRUPT exits in a run of D (the grid's first tick falls in
    /// (0, 1/HZ], so 100 ms holds HZ / 10 of them, one fewer at most where the last falls past the end). Every
    /// one is a kvm_exit record on the tick grid whose intr_info is the local APIC timer's (valid, external
    /// interrupt, LOCAL_TIMER_VECTOR 0xec: KVM acknowledges interrupts on exit), and each lasts
    /// cost.vm_exit_entry + cost.kvm_exit_handling (1 us) of host_exit, the rest being guest time. Before, only
    /// kvm-pf took these exits, and their intr_info read 0.
    /// </summary>
    [Theory]
    [InlineData("sync", 250)]
    [InlineData("kvm-halt", 250)]
    [InlineData("kvm-pf", 250)]
    [InlineData("kvm-pf-int", 250)]
    [InlineData("ve", 250)]
    [InlineData("sync", 1000)]
    [InlineData("ve", 300)]
    public void EveryProtocol_EachVcpuInTheGuestTakesTheHostTicksExit_HzTimesASecond(string protocol, int hz)
    {
        var period = 1_000_000_000L / hz;
        var (r, trace, simulator) = ScenarioRuns.RunTracedSimulator(ComputeOnly, protocol, $"host.hz={hz}");
        var phase = simulator.HostTickPhaseNs;
        var exits = trace.Records.Where(x => x.Kind == TraceKind.KvmExit && x.ExitReason == ExitReason.ExternalInterrupt).ToList();
        Assert.Equal(r.Counters.Exits[ExitReason.ExternalInterrupt], exits.Count);
        Assert.Equal(exits.Count, r.Counters.Exits.Total);
        var ticks = ((r.SimulatedNs - phase) / period) + 1;
        Assert.InRange(ticks, (hz / 10) - 1, hz / 10);
        foreach (var v in new[] { 0, 1 })
        {
            Assert.Equal(ticks, exits.Count(x => x.Vcpu == v));
        }

        Assert.All(exits, x =>
        {
            Assert.Equal(KvmTracepoints.LocalTimerExitInterruptionInfo, x.IntrInfo);
            Assert.True((x.TimeNs - phase) % period == 0, $"vCPU {x.Vcpu} exited at {x.TimeNs} ns, off the host tick grid {phase} + k x {period} ns");
        });

        // 1 us an exit, but for the last on each vCPU, which the run's end may cut.
        Assert.InRange(r.VcpuHostExitNs, (exits.Count - 2) * 1_000, exits.Count * 1_000);
        Assert.Equal(2 * r.SimulatedNs, r.VcpuGuestNs + r.VcpuHostExitNs);
    }

    [Theory]
    [MemberData(nameof(EveryProtocol.Names), MemberType = typeof(EveryProtocol))]
    public void EveryProtocol_WithoutTheHostTick_NothingExits(string protocol)
    {
        // host.hz=0 (nohz_full with one runnable thread per pCPU): no host tick, so a guest that only computes
        // and has no tick of its own never exits, and all its time is guest time.
        var r = ScenarioRuns.Run(ComputeOnly, protocol, "host.hz=0");
        Assert.Equal(0, r.Counters.Exits.Total);
        Assert.Equal(2 * r.SimulatedNs, r.VcpuGuestNs);
    }

    [Theory]
    [InlineData("sync")]
    [InlineData("kvm-pf-int")]
    [InlineData("ve")]
    public void EveryProtocol_EachHostTickExitCostsTheGuestItsExit(string protocol)
    {
        // The exit and re-entry (1 us) delay the compute op the tick cut: 1,000 ticks a second take 0.1% of the work,
        // and at no exit cost nothing at all (no model step is taken for the exit where the protocol does not need one).
        var none = ScenarioRuns.Run(ComputeOnly, protocol, "host.hz=0");
        var hz1000 = ScenarioRuns.Run(ComputeOnly, protocol, "host.hz=1000");
        var free = ScenarioRuns.Run(ComputeOnly, protocol, "host.hz=1000", "cost.vm_exit_entry=0", "cost.kvm_exit_handling=0");
        var work = none.Tasks.Sum(t => t.WorkDone);
        Assert.Equal(work, free.Tasks.Sum(t => t.WorkDone));
        var lost = work - hz1000.Tasks.Sum(t => t.WorkDone);
        Assert.InRange(lost, work / 2000, work / 500);
    }

    /// <summary>
    /// Three vCPUs on two pCPUs: a sleeper that wakes every 1.7 ms beside two busy vCPUs, so that host slices end
    /// at the pCPUs' ticks and wakeups preempt. Every EXTERNAL_INTERRUPT exit is one interrupt: the host's tick
    /// (LOCAL_TIMER_VECTOR 0xec), on the tick grid, whether it only exits or also ends the slice and preempts, or
    /// the reschedule IPI of a wakeup's preemption (RESCHEDULE_VECTOR 0xfd), or the local timer interrupt of the
    /// sleeper's own LAPIC timer (a host hrtimer while its vCPU is halted, started on the pCPU its thread blocked on)
    /// when its wakeup preempts the thread on that pCPU: then no IPI is sent, and the exit is 0xec at the instant
    /// vCPU 0's thread is woken there. Each is valid (bit 31) and of type external interrupt. A tick that ends a slice exits once, not once for the tick and once for the
    /// preemption: no vCPU has two exits at one instant. The counters hold the trace's exits, and vCPU time
    /// still sums to the run's.
    /// </summary>
    private const string SleeperBesideTwoBusy = """
        name: sleeper-beside-two-busy
        duration: 100ms
        guest:
          vcpus: 3
          tick: 0
        host:
          pcpus: 2
        tasks:
          - name: sleeper
            vcpu: 0
            loop: sleep 1700us; compute 50us
          - name: b
            vcpu: 1
            loop: compute 10
          - name: c
            vcpu: 2
            loop: compute 10
        """;

    [Theory]
    [InlineData("sync", 250)]
    [InlineData("kvm-halt", 1000)]
    [InlineData("kvm-pf", 250)]
    [InlineData("kvm-pf-int", 1000)]
    [InlineData("ve", 250)]
    public void OnSharedPcpus_EveryExternalInterruptExitIsTheTickOrTheRescheduleIpi_AndExitsOnce(string protocol, int hz)
    {
        var (r, trace, tick, phase) = ScenarioRuns.RunTracedOnSharedPcpus(SleeperBesideTwoBusy, protocol, $"host.hz={hz}");
        var exits = trace.Records.Where(x => x.Kind == TraceKind.KvmExit && x.ExitReason == ExitReason.ExternalInterrupt).ToList();
        Assert.Equal(r.Counters.Exits[ExitReason.ExternalInterrupt], exits.Count);
        Assert.All(exits, x =>
        {
            Assert.Equal(0x80000000u, x.IntrInfo & 0x80000700u);
            Assert.Contains(x.IntrInfo & 0xffu, new[] { KvmTracepoints.LocalTimerVector, KvmTracepoints.RescheduleVector });
        });

        var timer = exits.Where(x => x.IntrInfo == KvmTracepoints.LocalTimerExitInterruptionInfo).ToList();
        var ipi = exits.Where(x => x.IntrInfo == KvmTracepoints.RescheduleExitInterruptionInfo).ToList();
        Assert.True(timer.Count >= hz / 10, $"{timer.Count} tick exits at HZ={hz}");
        Assert.NotEmpty(ipi);
        // A wakeup's preemption: the exiting thread hands its pCPU to the sleeper at the exit's instant. Whether the
        // sleeper's timer fired on that pCPU is whether its thread last left from there.
        var switches = trace.Records.Where(x => x.Kind == TraceKind.SchedSwitch).ToList();
        bool? LocalWake(TraceRecord exit)
        {
            var handover = switches.Find(x => x.TimeNs == exit.TimeNs && x.PrevVcpu == exit.Vcpu);
            if (handover.Kind != TraceKind.SchedSwitch || handover.Vcpu != 0)
            {
                return null;
            }

            var left = switches.FindLast(x => x.TimeNs <= exit.TimeNs && x.PrevVcpu == 0);
            return left.Kind == TraceKind.SchedSwitch && left.Pcpu == handover.Pcpu;
        }

        var offGrid = timer.Where(x => (x.TimeNs - phase) % tick != 0).ToList();
        Assert.All(offGrid, x => Assert.True(LocalWake(x) == true, $"vCPU {x.Vcpu}'s timer exit at {x.TimeNs} ns, off the grid {phase} + k x {tick} ns, hands its pCPU to no sleeper that blocked there"));
        Assert.All(ipi, x => Assert.NotEqual(true, LocalWake(x)));
        Assert.NotEmpty(offGrid);
        Assert.All(exits.GroupBy(x => (x.Vcpu, x.TimeNs)), g => Assert.Single(g));
        Assert.Equal(3 * r.SimulatedNs, r.VcpuGuestNs + r.VcpuHostExitNs + r.VcpuStalledNs + r.VcpuHaltedNs + r.VcpuIdleNs + r.VcpuStealNs);
    }

    [Theory]
    [InlineData(250)]
    [InlineData(1000)]
    public void UnderKvmPf_EachVcpuInTheGuestExitsHzTimesASecond(int hz)
    {
        // 100 ms on two always-running vCPUs: HZ / 10 ticks each, whatever the phase.
        var r = ScenarioRuns.Run(ComputeOnly, "kvm-pf", $"host.hz={hz}");
        var exits = r.Counters.Exits[ExitReason.ExternalInterrupt];
        Assert.InRange(exits, 2 * ((hz / 10) - 1), 2 * (hz / 10));
    }

    [Fact]
    public void UnderKvmPf_EachHostTickExitCostsItsExit()
    {
        // The exit and re-entry (cost.vm_exit_entry + cost.kvm_exit_handling, 1 us by default)
        // come out of the guest's time: 1,000 ticks a second take 0.1% of the work.
        var none = ScenarioRuns.Run(ComputeOnly, "kvm-pf", "host.hz=0");
        var hz1000 = ScenarioRuns.Run(ComputeOnly, "kvm-pf", "host.hz=1000");
        var free = ScenarioRuns.Run(ComputeOnly, "kvm-pf", "host.hz=1000", "cost.vm_exit_entry=0", "cost.kvm_exit_handling=0");
        var work = none.Tasks.Sum(t => t.WorkDone);

        // At no exit cost only the re-entry's step (one cost.micro_op, 20 ns) remains.
        Assert.InRange(free.Tasks.Sum(t => t.WorkDone), work - (work / 20_000) - 1, work);
        var lost = work - hz1000.Tasks.Sum(t => t.WorkDone);
        Assert.InRange(lost, work / 2000, work / 500);
    }

    [Theory]
    [InlineData("host.hz=1000")]
    [InlineData("guest.tick=1ms")]
    public void UnderKvmPf_ATickExitLastsItsCost_InTheGuestsTimeAndInTheHosts(string tick)
    {
        // A tick that exits a vCPU in the middle of a compute op (the host's own, EXTERNAL_INTERRUPT, or the
        // guest's, which kvm-pf's model takes as a PREEMPTION_TIMER exit and which the re-arm's MSR_WRITE exit
        // follows) is in the host for each exit's cost (cost.vm_exit_entry + cost.kvm_exit_handling, 1 us), and for
        // the guest's tick the re-entry's step (one cost.micro_op, 20 ns) before the step that injects the timer
        // interrupt at that entry; the host tick's re-entry is guest time from its step on. The
        // rest of the op runs in the guest after it. Both ticks
        // cost the guest that time. The host tick's exit once lasted, in kvm_entry and in
        // vcpu_ns.host_exit, to the end of the op it cut (about 50 us of a 100 us op); the guest
        // tick's was not charged at all.
        var r = ScenarioRuns.Run(ComputeOnly, "kvm-pf", "host.hz=0", tick);
        var ticks = r.Counters.Exits[ExitReason.ExternalInterrupt] + r.Counters.Exits[ExitReason.PreemptionTimer];
        Assert.InRange(ticks, 2 * 99, 2 * 100);
        // The re-arm is the handler's, after the injection: a tick at the run's end leaves it out, one a vCPU.
        Assert.InRange(r.Counters.Exits[ExitReason.MsrWrite], r.Counters.Exits[ExitReason.PreemptionTimer] - 2, r.Counters.Exits[ExitReason.PreemptionTimer]);
        var exits = r.Counters.Exits.Total;
        // The run's end may cut the last tick's exits on each vCPU.
        Assert.InRange(r.VcpuHostExitNs, (exits - 4) * 1_000, (exits * 1_000) + (ticks * 20));
        Assert.Equal(2 * 100_000_000L, r.VcpuGuestNs + r.VcpuHostExitNs);
    }

    /// <summary>
    /// Every pCPU ticks on one grid, dedicated to a vCPU or not: tick_setup_sched_timer
    /// (kernel/time/tick-sched.c) starts each CPU's tick at the same tick_init_jiffy_update() and,
    /// with skew_tick=0 (the default), adds no per-CPU offset. So on four vCPUs with a pCPU each
    /// (host.pcpus absent), every host tick exit of every vCPU (kvm-pf, no guest tick: the host's
    /// are the only EXTERNAL_INTERRUPT exits) falls on the grid the seed drew, and the four vCPUs
    /// exit together at each tick. Another seed may move the grid's phase, never split it.
    /// Each vCPU's tick once had its own phase, drawn one after the other from the seed.
    /// </summary>
    [Theory]
    [InlineData(1000, 1)]
    [InlineData(1000, 2)]
    [InlineData(250, 7)]
    [InlineData(300, 11)]
    public void OnDedicatedPcpus_EveryVcpusHostTickFallsOnOneGrid(int hz, int seed)
    {
        var period = 1_000_000_000L / hz;
        var (r, trace, simulator) = ScenarioRuns.RunTracedSimulator(ComputeOnly, "kvm-pf", $"host.hz={hz}", "guest.vcpus=4", "tasks[0].count=4", $"seed={seed}");
        Assert.Null(simulator.Pcpus);
        var phase = simulator.HostTickPhaseNs;
        Assert.InRange(phase, 1, period);
        var exits = trace.Records.Where(x => x.Kind == TraceKind.KvmExit && x.ExitReason == ExitReason.ExternalInterrupt).ToList();
        Assert.Equal(r.Counters.Exits[ExitReason.ExternalInterrupt], exits.Count);
        Assert.All(exits, x => Assert.True((x.TimeNs - phase) % period == 0, $"vCPU {x.Vcpu} exited at {x.TimeNs} ns, off the host tick grid {phase} + k x {period} ns"));

        // Each tick exits all four always-running vCPUs at once: 100 ms holds HZ / 10 ticks, less
        // the last where the phase puts it past the end.
        var ticks = exits.GroupBy(x => x.TimeNs).ToList();
        Assert.All(ticks, g => Assert.Equal([0, 1, 2, 3], g.Select(x => (int)x.Vcpu).Order()));
        Assert.InRange(ticks.Count, (hz / 10) - 1, hz / 10);
    }

    [Fact]
    public void OnDedicatedPcpus_TheHostTickGridsPhaseIsTheSeeds()
    {
        // The grid's phase is drawn: some seeds put it elsewhere, each run on one grid (above).
        var phases = Enumerable.Range(1, 8)
            .Select(seed => ScenarioRuns.RunTracedSimulator(ComputeOnly, "kvm-pf", "host.hz=1000", "guest.vcpus=4", "tasks[0].count=4", "duration=1ms", $"seed={seed}").Simulator.HostTickPhaseNs)
            .Distinct()
            .Count();
        Assert.True(phases > 1, "eight seeds drew one host tick phase");
    }

    /// <summary>For each page-ready injected, the time since the worker completed its token's work.</summary>
    private static List<long> ReadyWaits(string yaml, string protocol, params string[] sets)
    {
        var (_, trace) = ScenarioRuns.RunTraced(yaml, protocol, sets);
        var completed = new Dictionary<uint, long>();
        var waits = new List<long>();
        foreach (var r in trace.Records.OrderBy(r => r.TimeNs))
        {
            if (r.Kind == TraceKind.KvmAsyncPfCompleted)
            {
                completed[r.Token] = r.TimeNs;
            }
            else if (r.Kind == TraceKind.KvmAsyncPfReady && completed.Remove(r.Token, out var at))
            {
                waits.Add(r.TimeNs - at);
            }
        }

        return waits;
    }

    /// <summary>Two vCPUs whose tasks fault on every touch (a one-page host limit): each vCPU is idle while its task waits for its page.</summary>
    private const string FaultingOnTwoVcpus = """
        name: faulting-two
        duration: 100ms
        host:
          memory_limit: 4KiB
        guest:
          vcpus: 2
        regions:
          - name: heap
            size: 64MiB
            absent: 1.0
        tasks:
          - name: mem
            count: 2
            loop: touch heap random
        """;

    /// <summary>
    /// With host.hlt_in_guest (KVM_X86_DISABLE_EXITS_HLT) under kvm-pf, a vCPU whose task waits for its page halts in the
    /// guest, and 5.7's async_pf_execute wakes only a vCPU blocked in the host: the completion waits on the done list
    /// for the vCPU's next exit, the host's tick (NO_HZ_IDLE stopped the guest's own). That exit's
    /// kvm_check_async_pf_completion dequeues it and the entry after it injects the page-ready. The host tick's exit
    /// of a vCPU halted in the guest dequeued nothing, and the vCPU stayed halted: 2 faults in 100 ms, no page-ready,
    /// no work. Now every fault but those still in flight at the end completes, every task works, each page-ready
    /// waits at most a host tick (4 ms) and the swap-in, and no vCPU is left in the host.
    /// </summary>
    [Theory]
    [InlineData("250")]
    [InlineData("1000")]
    public void UnderKvmPf_AVcpuHaltedInTheGuest_TakesItsPageReadyAtTheHostTick(string hz)
    {
        var (r, trace) = ScenarioRuns.RunTraced(FaultingOnTwoVcpus, "kvm-pf", "host.hlt_in_guest=true", $"host.hz={hz}");
        var notPresent = r.Counters.Injections[InjectionKind.ApfNotPresent];
        var ready = r.Counters.Injections[InjectionKind.ApfReady];
        var ticksPerVcpu = r.SimulatedNs * long.Parse(hz, System.Globalization.CultureInfo.InvariantCulture) / 1_000_000_000L;
        Assert.InRange(notPresent, ticksPerVcpu, 3 * ticksPerVcpu);
        Assert.InRange(ready, notPresent - 2, notPresent);
        Assert.All(r.Tasks, t => Assert.True(t.WorkDone >= ticksPerVcpu / 2, $"{t.Name}: {t.WorkDone} passes in {ticksPerVcpu} host ticks"));
        Assert.Equal(0, r.Counters.Exits[ExitReason.Hlt]);
        Assert.True(r.FaultLatency.Max <= (4_000_000 * 250 / int.Parse(hz, System.Globalization.CultureInfo.InvariantCulture)) + 1_000_000, $"fault max {r.FaultLatency.Max} ns");

        // Every exit ends: each kvm_exit of a vCPU is followed by its kvm_entry, at most one exit's handling later, but at the run's end.
        foreach (var v in new[] { 0, 1 })
        {
            var records = trace.Records.Where(x => x.Vcpu == v && x.Kind is TraceKind.KvmExit or TraceKind.KvmEntry).ToList();
            for (var i = 0; i < records.Count; i++)
            {
                if (records[i].Kind != TraceKind.KvmExit)
                {
                    continue;
                }

                var entry = i + 1 < records.Count ? records[i + 1] : (TraceRecord?)null;
                Assert.True(entry is { Kind: TraceKind.KvmEntry } e ? e.TimeNs - records[i].TimeNs <= 10_000 : r.SimulatedNs - records[i].TimeNs <= 10_000,
                    $"vCPU {v}'s exit at {records[i].TimeNs} ns ({records[i].ExitReason}) is not followed by an entry within 10 us");
            }
        }
    }

    /// <summary>
    /// The same two vCPUs sharing one pCPU (host.pcpus=1): a vCPU halted in the guest keeps the pCPU (it never exits for
    /// HLT) until its slice ends at a host tick, whose EXTERNAL_INTERRUPT exit is the preemption's. 5.7's vcpu_run calls
    /// kvm_check_async_pf_completion after that vcpu_enter_guest and before cond_resched, so the completion is dequeued
    /// before the switch, and injected when the vCPU runs again. At 250 Hz every tick ended a slice (slice 4 ms), the
    /// preemption's exit dequeued nothing, and the vCPUs were stuck from the first slice on: 4 faults and 2 page-ready
    /// in 100 ms. Now each vCPU takes a fault in each slice it gets (about 25 in all), every fault but those in flight
    /// completes, and none waits more than three slices: its own, the other vCPU's, and the one it is injected in.
    /// </summary>
    [Theory]
    [InlineData("250")]
    [InlineData("1000")]
    public void UnderKvmPf_AVcpuHaltedInTheGuest_OnASharedPcpu_TakesItsPageReadyAtTheSliceEnd(string hz)
    {
        var r = ScenarioRuns.Run(FaultingOnTwoVcpus, "kvm-pf", "host.hlt_in_guest=true", "host.pcpus=1", "host.memory_limit=64MiB", $"host.hz={hz}");
        const long Slice = 4_000_000;
        var notPresent = r.Counters.Injections[InjectionKind.ApfNotPresent];
        var ready = r.Counters.Injections[InjectionKind.ApfReady];
        Assert.InRange(notPresent, r.SimulatedNs / Slice - 2, 2 * r.SimulatedNs / Slice * 4);
        Assert.InRange(ready, notPresent - 2, notPresent);
        Assert.Equal(0, r.Counters.Exits[ExitReason.Hlt]);
        Assert.True(r.FaultLatency.Max <= (3 * Slice) + 1_000_000, $"fault max {r.FaultLatency.Max} ns");
        Assert.All(r.Tasks, t => Assert.True(t.WorkDone >= r.SimulatedNs / Slice / 2 - 2, $"{t.Name}: {t.WorkDone} passes"));
    }
}
