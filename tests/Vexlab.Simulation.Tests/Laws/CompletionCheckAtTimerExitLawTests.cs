using Vexlab.Simulation.Metrics;
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
}
