using Vexlab.Simulation.Metrics;
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

        Assert.All(timer, x => Assert.True(x.TimeNs % period == 0, $"vCPU {x.Vcpu}'s PREEMPTION_TIMER exit at {x.TimeNs} ns, off the guest tick grid k x {period} ns"));
        Assert.All(rearm, x => Assert.Contains(timer, p => p.Vcpu == x.Vcpu && Math.Min(p.TimeNs + 1_000, r.SimulatedNs) == x.TimeNs));
        Assert.Equal(rearm.Count, msrs.Count);
        Assert.All(msrs, m =>
        {
            Assert.Equal(KvmTracepoints.MsrTscDeadline, (uint)m.Info1);
            // The data is the next deadline, one period after the tick: the next point of the grid.
            Assert.Equal(0UL, m.Info2 % (ulong)period);
            Assert.InRange((long)m.Info2 - m.TimeNs, period - 1_000, period);
        });

        var exits = timer.Count + rearm.Count;
        Assert.InRange(r.VcpuHostExitNs, (exits - 4) * 1_000, exits * 1_000);
        Assert.Equal(2 * r.SimulatedNs, r.VcpuGuestNs + r.VcpuHostExitNs);
    }

    /// <summary>With no guest tick (guest.tick=0, one task a vCPU) nothing exits, and all the time is guest time.</summary>
    [Theory]
    [InlineData("sync")]
    [InlineData("kvm-halt")]
    [InlineData("kvm-pf")]
    [InlineData("kvm-pf-int")]
    [InlineData("ve")]
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
    /// An idle vCPU whose tick NO_HZ_IDLE stopped takes no timer exit, and a halted one (nohz_idle off) takes its
    /// tick through the host's hrtimer (kvm_lapic_switch_to_sw_timer in vcpu_block), no PREEMPTION_TIMER exit: a
    /// vCPU with nothing to run exits with neither, whatever guest.nohz_idle says.
    /// </summary>
    [Theory]
    [InlineData("sync", true)]
    [InlineData("sync", false)]
    [InlineData("kvm-pf", true)]
    [InlineData("kvm-pf", false)]
    public void AnIdleVcpu_TakesNoTimerExits(string protocol, bool nohzIdle)
    {
        var (r, trace) = ScenarioRuns.RunTraced(TwoBusyVcpus, protocol, "tasks[0].count=1", $"guest.nohz_idle={(nohzIdle ? "true" : "false")}");
        var timerExits = trace.Records.Where(x => x.Kind == TraceKind.KvmExit && x.ExitReason is ExitReason.PreemptionTimer or ExitReason.MsrWrite).ToList();
        Assert.DoesNotContain(timerExits, x => x.Vcpu == 1);
        Assert.InRange(timerExits.Count(x => x.Vcpu == 0), (2 * (r.SimulatedNs / 4_000_000)) - 2, 2 * (r.SimulatedNs / 4_000_000));
    }
}
