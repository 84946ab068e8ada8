using Vexlab.Scenarios.Documents;
using Vexlab.Simulation.Metrics;
using Vexlab.Simulation.Scenarios;
using Vexlab.Simulation.Tests.Driver;
using Vexlab.Simulation.Tests.Tracing;
using Vexlab.Simulation.Tracing;

namespace Vexlab.Simulation.Tests.Laws;

/// <summary>
/// The 5.7 host (kvm-pf) checks completions after every exit it handles: vcpu_run calls kvm_check_async_pf_completion
/// on each pass of its loop, after vcpu_enter_guest returns, whatever the exit was (5.7 arch/x86/kvm/x86.c;
/// handle_preemption_timer returns 1, so a PREEMPTION_TIMER exit goes round that loop too). async_pf_execute only wakes
/// a vCPU blocked in the host, so a completion of a vCPU halted in the guest (host.hlt_in_guest: HLT does not exit)
/// waits for its next exit, and a guest tick's PREEMPTION_TIMER exit is one.
/// </summary>
public sealed class CompletionCheckAtTimerExitLawTests
{
    /// <summary>
    /// Two vCPUs, one user task each faulting on disk-backed pages: while its task sleeps on a not-present #PF the vCPU
    /// is idle in HLT in guest mode (IF=1, nothing pending), and with no host tick its only exits are its own guest
    /// tick's.
    /// </summary>
    private const string IdleInGuestHlt = """
        name: idle-in-guest-hlt
        duration: 100ms
        guest:
          vcpus: 2
          memory: 64MiB
          tick: 1ms
          nohz_idle: false
        host:
          hz: 0
          hlt_in_guest: true
          backing: swap-hdd
          absent_at_start: 100%
        regions:
          - name: a
            size: 32MiB
          - name: b
            size: 32MiB
        tasks:
          - name: ta
            loop: touch a sequential
          - name: tb
            loop: touch b sequential
        """;

    [Theory]
    [InlineData("seed=1")]
    [InlineData("seed=2")]
    [InlineData("seed=1", "host.pcpus=1", "host.hz=250")]
    public void UnderKvmPf_NoCompletionWaitsPastThePreemptionTimerExitOfItsVcpu(params string[] sets)
    {
        // Each completion's page-ready is dequeued (kvm_async_pf_ready) by the entry that ends the first PREEMPTION_TIMER
        // exit of its vCPU after it: at a tick in guest mode, or at the entry after a wait for the pCPU. The token's low
        // 12 bits are the vCPU (5.7's (apf.id++ << 12) | vcpu_id). On one shared pCPU the host's tick preempts, and a
        // vCPU waiting for it takes its deadline's exit at its next entry. The driver used to charge those exits without
        // the model's completion check, so the page-ready waited for an exit the model took (with no host tick, for ever).
        var (r, trace) = ScenarioRuns.RunTraced(IdleInGuestHlt, "kvm-pf", sets);
        var records = trace.Records;
        var ready = records.Where(x => x.Kind == TraceKind.KvmAsyncPfReady).GroupBy(x => x.Token).ToDictionary(g => g.Key, g => g.Min(x => x.TimeNs));
        var checkedCompletions = 0;
        foreach (var c in records.Where(x => x.Kind == TraceKind.KvmAsyncPfCompleted))
        {
            var v = (int)(c.Token & 0xfff);
            var exit = records.FindIndex(x => x.Kind == TraceKind.KvmExit && x.Vcpu == v && x.ExitReason == ExitReason.PreemptionTimer && x.TimeNs >= c.TimeNs);
            var entry = exit < 0 ? -1 : records.FindIndex(exit, x => x.Kind == TraceKind.KvmEntry && x.Vcpu == v);
            if (entry < 0)
            {
                // The run ended first.
                continue;
            }

            checkedCompletions++;
            Assert.True(ready.TryGetValue(c.Token, out var at) && at <= records[entry].TimeNs,
                $"token {c.Token:x}, completed at {c.TimeNs} ns, still waits after vCPU {v}'s PREEMPTION_TIMER exit at {records[exit].TimeNs} ns (entry at {records[entry].TimeNs} ns)");
        }

        Assert.InRange(checkedCompletions, 10, int.MaxValue);
        Assert.True(r.Counters.Exits[ExitReason.PreemptionTimer] > 0);
    }

    /// <summary>
    /// The exit that runs the completion check at a guest tick is the tick's PREEMPTION_TIMER exit and no other. Under the
    /// 5.8+ host (kvm-pf-int) that exit's entry serves a KVM_REQ_APF_READY made while the token slot was busy
    /// (vcpu_enter_guest: kvm_check_request(KVM_REQ_APF_READY) -> kvm_check_async_pf_completion) and uses it up; with no
    /// host tick (host.hz=0) and a pCPU for each vCPU the only EXTERNAL_INTERRUPT exit left is the kick of an interrupt
    /// raised for a vCPU in guest mode (kvm_vcpu_kick's smp_send_reschedule, the host's RESCHEDULE_VECTOR 0xfd in the
    /// exit's interruption information), so no other may be counted or traced. far-memory with a 100 us guest tick on
    /// every vCPU (nohz_idle off) lands ticks in the slot's busy window: the driver used to count and trace the model's
    /// EXTERNAL_INTERRUPT exit beside the PREEMPTION_TIMER one it had charged, a second exit of zero length (17 in this
    /// run under kvm-pf-int, a332a60). Since the model's tick serves the request itself (a523875) the run no longer needs
    /// the driver's check there; the law holds either way. (Under kvm-pf the load balancer's move onto an idle vCPU whose
    /// loop does not poll kicks it, and 5.7 checks completions after that exit: the kicks are counted and traced as such.)
    /// </summary>
    [Theory]
    [MemberData(nameof(EveryProtocol.Names), MemberType = typeof(EveryProtocol))]
    public void WithoutHostInterrupts_NoProtocolTakesAnExternalInterruptExit_TheTimerExitIsTheOnlyOne(string protocol)
    {
        var entry = Overrides.ParseProtocols(protocol)[0];
        var sink = new RecordingSink();
        var r = ScenarioRunner.Run(BuiltinRuns.Prepare("far-memory", entry, 1.0, "guest.tick=100us", "guest.nohz_idle=false", "host.hz=0"), sink);

        var external = sink.Records.Where(x => x.Kind == TraceKind.KvmExit && x.ExitReason == ExitReason.ExternalInterrupt).ToList();
        Assert.All(external, x => Assert.Equal(0x80000000u | Vexlab.Model.Machine.Machine.KickVector, x.IntrInfo));
        Assert.Equal(r.Counters.Exits[ExitReason.ExternalInterrupt], external.Count);
        var timerAt = sink.Records.Where(x => x.Kind == TraceKind.KvmExit && x.ExitReason == ExitReason.PreemptionTimer).Select(x => (x.Vcpu, x.TimeNs)).ToHashSet();
        Assert.DoesNotContain(external, x => timerAt.Contains((x.Vcpu, x.TimeNs)));
        var timerExits = r.Counters.Exits[ExitReason.PreemptionTimer];
        Assert.InRange(timerExits, 1_000, long.MaxValue);
        Assert.Equal(timerExits, sink.Records.Count(x => x.Kind == TraceKind.KvmExit && x.ExitReason == ExitReason.PreemptionTimer));
    }
}
