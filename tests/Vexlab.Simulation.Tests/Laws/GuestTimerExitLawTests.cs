using Vexlab.Simulation.Metrics;
using Vexlab.Simulation.Tests.Tracing;
using Vexlab.Simulation.Tracing;

namespace Vexlab.Simulation.Tests.Laws;

/// <summary>
/// The guest's own tick on a vCPU in guest mode costs two exits under every protocol. KVM on Intel emulates the
/// guest's TSC-deadline timer with the VMX preemption timer (kvm_intel.preemption_timer=1, ce7a058a2117): the
/// deadline passing exits with PREEMPTION_TIMER (basic exit reason 52) and kvm_lapic_expired_hv_timer injects
/// LOCAL_TIMER_VECTOR; the guest's tick handler re-arms the timer with a WRMSR to MSR_IA32_TSC_DEADLINE (0x6e0,
/// lapic_next_deadline), an MSR_WRITE exit. Before, only kvm-pf took one exit a guest tick, named
/// EXTERNAL_INTERRUPT, and the other protocols none.
/// </summary>
public class GuestTimerExitLawTests
{
    /// <summary>Two always-running vCPUs, a pCPU each, no host tick: the guest's tick is the only exit.</summary>
    private const string TwoBusyVcpus = """
        name: two-busy
        duration: 100ms
        host:
          hz: 0
        guest:
          vcpus: 2
          tick: 4ms
        tasks:
          - name: cpu
            count: 2
            loop: compute 100
        """;

    public static TheoryData<string, string> ProtocolsAndTicks => new()
    {
        { "sync", "4ms" },
        { "kvm-halt", "4ms" },
        { "kvm-pf", "4ms" },
        { "kvm-pf-int", "4ms" },
        { "ve", "4ms" },
        { "sync", "1ms" },
        { "kvm-pf", "1ms" },
        { "ve", "3ms" },
    };

    /// <summary>
    /// Over D each busy vCPU takes D / guest.tick PREEMPTION_TIMER exits and as many MSR_WRITE exits, the ticks
    /// falling at whole periods (the last one may fall at the run's end); each is a kvm_exit record, the
    /// PREEMPTION_TIMER one on the tick grid, the MSR_WRITE one when KVM has entered again after it, with a kvm_msr
    /// write of MSR_IA32_TSC_DEADLINE; the counters hold the trace's exits, each exit is 1 us of host_exit, and
    /// guest and host_exit time sum to the run.
    /// </summary>
    [Theory]
    [MemberData(nameof(ProtocolsAndTicks))]
    public void EveryProtocol_ABusyVcpuTakesTwoExitsAGuestTick(string protocol, string tick)
    {
        var period = long.Parse(tick[..^2], System.Globalization.CultureInfo.InvariantCulture) * 1_000_000;
        var (r, trace) = ScenarioRuns.RunTraced(TwoBusyVcpus, protocol, $"guest.tick={tick}");
        var expected = r.SimulatedNs / period;
        var timer = trace.Records.Where(x => x.Kind == TraceKind.KvmExit && x.ExitReason == ExitReason.PreemptionTimer).ToList();
        var rearm = trace.Records.Where(x => x.Kind == TraceKind.KvmExit && x.ExitReason == ExitReason.MsrWrite).ToList();
        var msrs = trace.Records.Where(x => x.Kind == TraceKind.KvmMsr).ToList();

        Assert.Equal(r.Counters.Exits[ExitReason.PreemptionTimer], timer.Count);
        Assert.Equal(r.Counters.Exits[ExitReason.MsrWrite], rearm.Count);
        Assert.Equal(timer.Count + rearm.Count, r.Counters.Exits.Total);
        Assert.Equal(0, r.Counters.Signals[SignalKind.ApfAck]);
        foreach (var v in new[] { 0, 1 })
        {
            Assert.InRange(timer.Count(x => x.Vcpu == v), expected - 1, expected);
            Assert.InRange(rearm.Count(x => x.Vcpu == v), expected - 1, expected);
        }

        // On the grid, up to guest.tick_jitter (1 us by default) after it.
        Assert.All(timer, x => Assert.True(x.TimeNs % period < 1_000, $"vCPU {x.Vcpu}'s PREEMPTION_TIMER exit at {x.TimeNs} ns, off the guest tick grid k x {period} ns"));

        // The re-arm is the handler's: the PREEMPTION_TIMER exit's 1 us (and under kvm-pf the model's entry step, a
        // micro-op), then the interrupt's delivery (cost.interrupt_inject, 1.5 us), then the WRMSR.
        var injected = trace.Records.Where(x => x.Kind == TraceKind.KvmInjVirq && x.Vector == TimerVector).ToList();
        Assert.All(rearm, x => Assert.Contains(injected, i => i.Vcpu == x.Vcpu && Math.Min(i.TimeNs + 1_500, r.SimulatedNs) == x.TimeNs));
        Assert.All(injected, i => Assert.Contains(timer, p => p.Vcpu == i.Vcpu && i.TimeNs - p.TimeNs is >= 1_000 and <= 1_100));
        Assert.Equal(rearm.Count, msrs.Count);
        Assert.All(msrs, m =>
        {
            Assert.Equal(KvmTracepoints.MsrTscDeadline, (uint)m.Info1);
            // The data is the next deadline, one period after the tick: the next point of the grid.
            Assert.Equal(0UL, m.Info2 % (ulong)period);
            // Less the tick's jitter (1 us at most by default): the deadline written is the next grid time.
            Assert.InRange((long)m.Info2 - m.TimeNs, period - 3_600, period);
        });

        var exits = timer.Count + rearm.Count;
        // Under kvm-pf the model's entry step after its PREEMPTION_TIMER exit is host time too: a micro-op (20 ns) a tick.
        Assert.InRange(r.VcpuHostExitNs, (exits - 4) * 1_000, (exits * 1_000) + (timer.Count * 20));
        Assert.Equal(2 * r.SimulatedNs, r.VcpuGuestNs + r.VcpuHostExitNs);
    }

    /// <summary>With no guest tick (guest.tick=0, one task a vCPU) nothing exits, and all the time is guest time.</summary>
    [Theory]
    [MemberData(nameof(EveryProtocol.Names), MemberType = typeof(EveryProtocol))]
    public void EveryProtocol_WithoutTheGuestTick_NothingExits(string protocol)
    {
        var r = ScenarioRuns.Run(TwoBusyVcpus, protocol, "guest.tick=0");
        Assert.Equal(0, r.Counters.Exits.Total);
        Assert.Equal(2 * r.SimulatedNs, r.VcpuGuestNs);
    }

    /// <summary>
    /// The two exits a tick cost the work they delay: at a 1 ms tick, 2 us of every 1,000 (0.2%) against the same
    /// ticks with exits that cost nothing (whose timer interrupt the guest still handles).
    /// </summary>
    [Theory]
    [InlineData("sync")]
    [InlineData("kvm-pf")]
    [InlineData("ve")]
    public void EveryProtocol_EachGuestTickCostsTheGuestTwoExits(string protocol)
    {
        var ticking = ScenarioRuns.Run(TwoBusyVcpus, protocol, "guest.tick=1ms");
        var free = ScenarioRuns.Run(TwoBusyVcpus, protocol, "guest.tick=1ms", "cost.vm_exit_entry=0", "cost.kvm_exit_handling=0");
        var work = free.Tasks.Sum(t => t.WorkDone);
        var lost = work - ticking.Tasks.Sum(t => t.WorkDone);
        Assert.InRange(lost, work / 1000, work / 250);
    }

    /// <summary>
    /// An idle vCPU whose tick NO_HZ_IDLE stopped takes no timer interrupt and so no timer exit. Without NO_HZ_IDLE a
    /// halted vCPU takes every tick through the host's hrtimer (vcpu_block switched its deadline with
    /// kvm_lapic_switch_to_sw_timer): no PREEMPTION_TIMER exit, as it is not in guest mode, but the wake injects the
    /// timer interrupt, and its handler's re-arm (lapic_next_deadline's WRMSR) exits with MSR_WRITE all the same, once
    /// a tick. Before, the re-arm was charged only with a PREEMPTION_TIMER exit, and the idle vCPU took none.
    /// </summary>
    [Theory]
    [InlineData("sync", true)]
    [InlineData("sync", false)]
    [InlineData("kvm-halt", false)]
    [InlineData("kvm-pf", true)]
    [InlineData("kvm-pf", false)]
    [InlineData("ve", false)]
    public void AnIdleVcpu_RearmsItsTimerAtEveryTickItHandles(string protocol, bool nohzIdle)
    {
        var (r, trace) = ScenarioRuns.RunTraced(TwoBusyVcpus, protocol, "tasks[0].count=1", $"guest.nohz_idle={(nohzIdle ? "true" : "false")}");
        var ticks = r.SimulatedNs / 4_000_000;
        var idle = trace.Records.Where(x => x.Vcpu == 1).ToList();
        Assert.Equal(0, idle.Count(x => x.Kind == TraceKind.KvmExit && x.ExitReason == ExitReason.PreemptionTimer));
        var handled = idle.Count(x => x.Kind == TraceKind.KvmInjVirq && x.Vector == TimerVector);
        var rearms = idle.Count(x => x.Kind == TraceKind.KvmExit && x.ExitReason == ExitReason.MsrWrite);
        Assert.Equal(handled, rearms);
        Assert.InRange(rearms, nohzIdle ? 0 : ticks - 1, nohzIdle ? 0 : ticks);

        // The busy vCPU takes both exits a tick.
        var busy = trace.Records.Where(x => x.Vcpu == 0 && x.Kind == TraceKind.KvmExit).ToList();
        Assert.InRange(busy.Count(x => x.ExitReason == ExitReason.PreemptionTimer), ticks - 1, ticks);
        Assert.InRange(busy.Count(x => x.ExitReason == ExitReason.MsrWrite), ticks - 1, ticks);
        TimerExitsAreTheHandlersAndTheTraces(r, trace);
    }

    /// <summary>LOCAL_TIMER_VECTOR (arch/x86/include/asm/irq_vectors.h), the vector the model's tick injects.</summary>
    private const int TimerVector = 0xEC;

    /// <summary>One vCPU; a task that computes beside one that faults on every touch (a one-page host limit): many ticks find it stalled or halted in the host.</summary>
    private const string ComputeBesideFaulting = """
        name: compute-beside-faulting
        duration: 200ms
        host:
          memory_limit: 4KiB
        guest:
          vcpus: 1
          tick: 1ms
        regions:
          - name: heap
            size: 64MiB
            absent: 1.0
        tasks:
          - name: cpu
            loop: compute 100
          - name: mem
            loop: touch heap random
        """;

    public static TheoryData<string, string> HostSideTicks => new()
    {
        { "sync", "host.backing=swap-hdd" },
        { "sync", "host.backing=swap-nvme" },
        { "kvm-halt", "host.backing=swap-nvme" },
        { "kvm-pf", "host.backing=swap-nvme" },
        { "kvm-pf-int", "host.backing=swap-nvme" },
        { "ve", "host.backing=swap-hdd" },
    };

    /// <summary>
    /// Wherever the tick finds the vCPU (in guest mode, stalled in the host, halted, handling an exit), the guest handles
    /// the timer interrupt once it runs, and its handler writes MSR_IA32_TSC_DEADLINE: over a run, the MSR_WRITE exits
    /// with a kvm_msr write of 0x6e0 are the timer interrupts injected, one for one, and the PREEMPTION_TIMER exits
    /// (ticks that found it in guest mode) are at most those, and one more a vCPU whose last tick's interrupt the run's
    /// end cut off.
    /// </summary>
    [Theory]
    [MemberData(nameof(HostSideTicks))]
    public void EveryTimerInterruptHandled_PaysOneRearm(string protocol, string backing)
    {
        var (r, trace) = ScenarioRuns.RunTraced(ComputeBesideFaulting, protocol, backing);
        Assert.True(r.Counters.Exits[ExitReason.PreemptionTimer] > 0);
        Assert.True(trace.Records.Count(x => x.Kind == TraceKind.KvmInjVirq && x.Vector == TimerVector) > r.Counters.Exits[ExitReason.PreemptionTimer] / 2);
        TimerExitsAreTheHandlersAndTheTraces(r, trace);
    }

    /// <summary>
    /// Under kvm-pf the model takes the guest tick's PREEMPTION_TIMER exit itself, also from a vCPU whose entry is stamped
    /// ahead (a host NMI's exit still being handled at the tick, cost.vm_exit_entry after its kvm_exit): the exit lands at
    /// that entry. The re-arm was charged only when the driver found the vCPU in guest mode at the tick, so each such
    /// tick counted PREEMPTION_TIMER without MSR_WRITE: kernel-heavy with 50,000 NMIs a second over 300 ms took 150
    /// PREEMPTION_TIMER exits and 134 to 144 MSR_WRITE ones over seeds 1 to 8, for 148 timer interrupts handled. Every
    /// handled timer interrupt now pays one re-arm.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(8)]
    public void UnderKvmPf_ATickInsideAnNmiExitStillRearmsOnce(int seed)
    {
        var (r, trace, _) = BuiltinTraces.Run("kernel-heavy", "kvm-pf", "duration=300ms", "nmi.rate=50000/s", $"seed={seed}");
        Assert.True(r.Counters.Exits[ExitReason.ExceptionNmi] > 1_000);
        Assert.InRange(r.Counters.Exits[ExitReason.MsrWrite], r.Counters.Exits[ExitReason.PreemptionTimer] - 2, r.Counters.Exits[ExitReason.PreemptionTimer]);
        TimerExitsAreTheHandlersAndTheTraces(r, trace);
    }

    /// <summary>
    /// The laws of the guest timer's exits over a run: MSR_WRITE exits with a kvm_msr write of MSR_IA32_TSC_DEADLINE are
    /// the timer interrupts injected (kvm_inj_virq of 0xec), per vCPU; PREEMPTION_TIMER exits are at most those, and one
    /// more where the run ended before the last tick's interrupt went in; the counters hold the trace's exits.
    /// </summary>
    internal static void TimerExitsAreTheHandlersAndTheTraces(Vexlab.Simulation.Driver.SimulationResult r, RecordingSink trace)
    {
        var exits = trace.Records.Where(x => x.Kind == TraceKind.KvmExit).ToList();
        Assert.Equal(r.Counters.Exits[ExitReason.PreemptionTimer], exits.Count(x => x.ExitReason == ExitReason.PreemptionTimer));
        Assert.Equal(r.Counters.Exits[ExitReason.MsrWrite], exits.Count(x => x.ExitReason == ExitReason.MsrWrite));
        var msrs = trace.Records.Where(x => x.Kind == TraceKind.KvmMsr).ToList();
        Assert.Equal(r.Counters.Exits[ExitReason.MsrWrite], msrs.Count);
        Assert.Equal(r.Counters.Signals[SignalKind.ApfAck], msrs.Count(m => (uint)m.Info1 == KvmTracepoints.MsrAsyncPfAck));
        foreach (var v in trace.Records.Select(x => x.Vcpu).Where(v => v >= 0).Distinct())
        {
            var handled = trace.Records.Count(x => x.Vcpu == v && x.Kind == TraceKind.KvmInjVirq && x.Vector == TimerVector);
            var rearms = msrs.Count(m => m.Vcpu == v && (uint)m.Info1 == KvmTracepoints.MsrTscDeadline);
            var expiries = exits.Count(x => x.Vcpu == v && x.ExitReason == ExitReason.PreemptionTimer);
            Assert.True(handled == rearms, $"vCPU {v}: {handled} timer interrupts handled, {rearms} re-arms");
            Assert.True(expiries <= handled + 1, $"vCPU {v}: {expiries} PREEMPTION_TIMER exits, {handled} timer interrupts handled");
        }
    }
}
