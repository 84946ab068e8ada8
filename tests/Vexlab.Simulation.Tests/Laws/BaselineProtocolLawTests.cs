using Vexlab.Scenarios.Documents;
using Vexlab.Simulation.Driver;
using Vexlab.Simulation.Scenarios;
using Vexlab.Simulation.Tests.Driver;
using Vexlab.Simulation.Metrics;
using Vexlab.Simulation.Tracing;

namespace Vexlab.Simulation.Tests.Laws;

/// <summary>
/// The two baseline protocols against KVM's code. <c>sync</c>: a fault on a missing page blocks the vCPU thread in the
/// EPT violation handler (kvm_faultin_pfn -> __gfn_to_pfn_memslot -> hva_to_pfn, get_user_pages sleeping on the page),
/// so nothing is injected until it returns and vcpu_enter_guest runs again. <c>kvm-halt</c>: a guest that never wrote
/// MSR_KVM_ASYNC_PF_EN; kvm_can_do_async_pf allows async work only while kvm_arch_interrupt_allowed, and
/// kvm_arch_async_page_not_present, unable to deliver a not-present #PF (kvm_can_deliver_async_pf is false), makes
/// KVM_REQ_APF_HALT (vcpu->arch.apf.halted = true, the vCPU blocks in vcpu_block). An interrupt the guest can take ends
/// that block (kvm_vcpu_has_events, then vcpu_block clears apf.halted), the guest runs its handler and retries the
/// access, which exits again and, its gfn still in apf.gfns, halts again (kvm_find_async_pf_gfn,
/// trace_kvm_async_pf_repeated_fault). Read in x86.c and mmu.c of 5.7 and of 6.12.
/// </summary>
public sealed class BaselineProtocolLawTests
{
    /// <summary>
    /// One vCPU whose only task faults on every touch, each page a disk read of 4 to 12 ms (swap-hdd), under a 1 ms
    /// guest tick: every fault outlasts several ticks.
    /// </summary>
    private const string SlowFaultsUnderTicks = """
        name: slow-faults-under-ticks
        duration: 200ms
        guest:
          vcpus: 1
          memory: 64MiB
          tick: 1ms
        host:
          hz: 0
          backing: swap-hdd
          absent_at_start: 100%
        regions:
          - name: heap
            size: 64MiB
        tasks:
          - name: mem
            loop: touch heap sequential
        """;

    /// <summary>
    /// Kernel tasks that fault only with interrupts off, beside a user task that sleeps and wakes (hrtimers, reschedule
    /// IPIs), on two vCPUs with the guest's tick.
    /// </summary>
    private const string FaultsWithInterruptsOff = """
        name: faults-with-interrupts-off
        duration: 100ms
        guest:
          vcpus: 2
          memory: 64MiB
        host:
          absent_at_start: 100%
        regions:
          - name: a
            size: 32MiB
          - name: b
            size: 32MiB
        tasks:
          - name: ka
            mode: kernel
            loop: irq-off; touch a sequential; irq-on; compute 20
          - name: u
            loop: compute 50; sleep 100us
          - name: kb
            mode: kernel
            loop: irq-off; touch b sequential; irq-on; compute 20
        """;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void UnderSync_EachStallEndsWithOneLateTimerInterrupt_NoneLostNoneEarly(int seed)
    {
        // The vCPU thread sleeps in get_user_pages: the ticks that fall in a stall are not injected there (no
        // injection outside vcpu_enter_guest), and the guest's TSC-deadline timer, one-shot and re-armed only by its
        // handler, fires once. So every stall, each longer than a tick, ends with one timer interrupt at the re-entry:
        // as many as the stalls that ended, not one per tick (200), and not none.
        var r = ScenarioRuns.Run(SlowFaultsUnderTicks, "sync", $"seed={seed}");
        var stalls = r.FaultLatency.Count;
        Assert.InRange(stalls, 15, 50);
        Assert.Equal(stalls, r.Counters.Injections[InjectionKind.ExternalInterrupt]);
        Assert.Equal(stalls, r.Counters.Exits[ExitReason.MsrWrite]);
        Assert.Equal(0, r.Counters.Signals[SignalKind.ApfHalt]);
        Assert.Equal(0, r.VcpuHaltedNs);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void UnderSync_EachStallPastItsDeadline_ReentersIntoOnePreemptionTimerExit(int seed)
    {
        // A thread asleep in get_user_pages is not in vcpu_block, the one place KVM moves the TSC deadline to a host
        // hrtimer (kvm_lapic_switch_to_sw_timer, 98c25ead5eda): the VMX preemption timer stays armed, and the re-entry
        // after the stall finds its deadline passed (vmx_update_hv_timer writes 0) and exits at once with
        // PREEMPTION_TIMER. Every stall here outlasts a tick, so each ends in one such exit, a kvm_exit at the instant
        // of its kvm_entry; and each timer interrupt the guest handles (its MSR_WRITE re-arm) follows exactly one
        // PREEMPTION_TIMER exit, at a tick in guest mode or at such an entry.
        var (r, trace) = ScenarioRuns.RunTraced(SlowFaultsUnderTicks, "sync", $"seed={seed}");
        var stalls = r.FaultLatency.Count;
        Assert.InRange(stalls, 15, 50);
        var expiries = 0;
        var atEntry = 0;
        long enteredAt = -1;
        foreach (var x in trace.Records.Where(x => x.Kind is TraceKind.KvmEntry or TraceKind.KvmExit))
        {
            if (x.Kind == TraceKind.KvmEntry)
            {
                enteredAt = x.TimeNs;
                continue;
            }

            if (x.ExitReason == ExitReason.PreemptionTimer)
            {
                expiries++;
                atEntry += x.TimeNs == enteredAt ? 1 : 0;
            }

            enteredAt = -1;
        }

        Assert.Equal(r.Counters.Exits[ExitReason.PreemptionTimer], expiries);
        Assert.Equal(stalls, atEntry);
        Assert.Equal(r.Counters.Exits[ExitReason.MsrWrite], r.Counters.Exits[ExitReason.PreemptionTimer]);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void UnderKvmHalt_EachTickEndsTheHalt_AndTheRetriedAccessFaultsAgain(int seed)
    {
        // The same faults under kvm-halt: each tick's hrtimer ends the artificial halt, the handler runs, and the access
        // it returns to exits again and halts again on its gfn. So nearly every tick is injected, each injection but
        // those that end in the page being there is followed by a repeated fault, and each repeated fault is one more
        // EPT_VIOLATION exit and one more halt; no fault is handled synchronously (IF=1 throughout). A completion ends
        // the halt through the dequeue, whose prefault maps the page: no repeated fault follows it.
        var r = ScenarioRuns.Run(SlowFaultsUnderTicks, "kvm-halt", $"seed={seed}");
        var faults = r.FaultLatency.Count;
        var ticks = r.Counters.Injections[InjectionKind.ExternalInterrupt];
        var repeated = r.Counters.Signals[SignalKind.ApfRepeatedFault];
        var exits = r.Counters.Exits[ExitReason.EptViolation];
        Assert.InRange(faults, 15, 50);
        Assert.InRange(ticks, 190, 200);
        Assert.Equal(ticks, r.Counters.Exits[ExitReason.MsrWrite]);
        Assert.Equal(0, r.Counters.Signals[SignalKind.ApfSyncFallback]);
        Assert.Equal(exits, r.Counters.Signals[SignalKind.ApfHalt]);
        Assert.InRange(exits - repeated - faults, 0, 1);
        Assert.InRange(repeated, ticks - faults - 1, ticks);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    public void WithInterruptsOff_KvmHaltIsSync(int seed)
    {
        // kvm_can_do_async_pf returns kvm_arch_interrupt_allowed ("If interrupts are off we cannot even use an
        // artificial halt state"): every fault taken with IF=0 is synchronous, so kvm-halt runs exactly as sync does,
        // event for event, the other task's wakeups and the ticks included.
        var sync = ScenarioRuns.Run(FaultsWithInterruptsOff, "sync", $"seed={seed}");
        var halt = ScenarioRuns.Run(FaultsWithInterruptsOff, "kvm-halt", $"seed={seed}");
        Assert.True(sync.FaultLatency.Count > 100);
        Assert.Equal(0, halt.Counters.Signals[SignalKind.ApfHalt]);
        Assert.Equal(halt.Counters.Exits[ExitReason.EptViolation], halt.Counters.Signals[SignalKind.ApfSyncFallback]);
        Assert.Equal(sync.Digest, halt.Digest);
        Assert.Equal(sync.VcpuStalledNs, halt.VcpuStalledNs);
        Assert.Equal(sync.VcpuHostExitNs, halt.VcpuHostExitNs);
        foreach (var task in sync.Tasks)
        {
            Assert.Equal(task.WorkDone, halt.Task(task.Name).WorkDone);
        }
    }

    /// <summary>
    /// Law: sync has no asynchronous path, so it counts none of host.async's signals. Every fault it takes stalls in the
    /// host (host_stalled), and that is its protocol, not a fallback from one: apf_sync_fallback counts a fault the
    /// async path (KVM's async PF, the #VE design's #VE) could not take. Every sync run reported its stalls as
    /// apf_sync_fallback (postcopy, 30 ms: 203).
    /// </summary>
    [Fact]
    public void Sync_CountsNoAsyncSignal()
    {
        foreach (var builtin in Builtins.Names)
        {
            var r = BuiltinRuns.Run(builtin, "sync", 1.0, "duration=30ms");
            Assert.True(r.VcpuStalledNs > 0, $"{builtin}: no fault stalled");
            Assert.All(r.Counters.Signals.Snapshot(), s => Assert.True(s.Value == 0, $"{builtin}: {s.Key} = {s.Value} under sync"));
        }
    }

    // ve_busy_fallback was documented and never counted. A convertible EPT violation while the #VE information's busy
    // word is set exits instead (SDM Vol. 3C 25.5.6): with guest.ve.clear_busy=never each vCPU takes one #VE and every
    // later fault falls back; with the default the handler clears the word and none does; no other protocol has a #VE.
    [Theory]
    [MemberData(nameof(EveryProtocol.Names), MemberType = typeof(EveryProtocol))]
    public void A_ve_refused_by_the_busy_word_is_counted_as_such(string protocol)
    {
        foreach (var builtin in Builtins.Names)
        {
            var r = BuiltinRuns.Run(builtin, protocol, 1.0, "duration=20ms");
            Assert.Equal(0, Signal(r, "ve_busy_fallback"));
            if (protocol != "ve")
            {
                continue;
            }

            var never = BuiltinRuns.Run(builtin, "ve[guest.ve.clear_busy=never]", 1.0, "duration=20ms");
            var busy = Signal(never, "ve_busy_fallback");
            var vcpus = BuiltinRuns.Prepare(builtin, Overrides.ParseProtocols("ve")[0]).Setup.Machine.Vcpus;
            Assert.True(Signal(never, "ve_delivered") <= vcpus, $"{builtin}: {Signal(never, "ve_delivered")} #VEs on {vcpus} vCPUs");
            Assert.True(busy > 0, $"{builtin}: no busy fallback");
            Assert.True(busy <= Signal(never, "apf_sync_fallback"), $"{builtin}: {busy} busy fallbacks");
        }
    }

    private static long Signal(SimulationResult r, string name) =>
        r.Counters.Signals.Snapshot().FirstOrDefault(s => s.Key == name).Value;
}
