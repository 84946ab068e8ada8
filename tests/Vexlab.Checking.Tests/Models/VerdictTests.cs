using Vexlab.Checking.Engine;
using Vexlab.Checking.Models;
using Vexlab.Model.Machine;
using Vexlab.Model.Properties;
using Vexlab.Model.Scripting;

namespace Vexlab.Checking.Tests.Models;

public sealed class VerdictTests
{
    public static TheoryData<string> MatrixModels => new(BuiltinModels.All.Where(m => m.InMatrix).Select(m => m.Name));

    private static ModelCheckResult Check(string model, string protocol, params string[] settings) =>
        ModelCheck.Run(CheckRequest.Of(model, protocol, settings), new CheckerOptions { Workers = 1, TimeLimit = TimeSpan.FromSeconds(60) });

    private static void AssertViolates(string model, string protocol, string property, params string[] knobs)
    {
        var outcome = Check(model, protocol, [.. knobs, property]);
        Assert.Equal(Verdict.Violation, outcome.Result.Verdict);
        var v = Assert.Single(outcome.Violations);
        Assert.Equal(property, v.Violation.Property);
        Assert.InRange(v.Violation.Actions.Count, 1, 80);
        Assert.Contains("--property " + property, v.Replay, StringComparison.Ordinal);
        if (v.Violation.Kind == ViolationKind.Safety && Array.IndexOf(PropertyNames.Safety, property) >= 0)
        {
            // Replays through the scripted driver to the same violation.
            var script = new Script(new Machine(outcome.Config));
            var last = new List<ModelEvent>();
            foreach (var packed in v.Violation.Actions)
            {
                var a = MachineAction.Unpack(packed);
                last = script.Do(a.Kind, a.Vcpu, a.Arg, a.Pick);
            }

            var expected = (byte)Array.IndexOf(PropertyNames.Safety, property);
            Assert.Contains(last, e => e.Kind == ModelEventKind.PropertyViolated && e.Aux == expected);
        }
    }

    private static void AssertPasses(string model, string protocol, string property, params string[] knobs)
    {
        var outcome = Check(model, protocol, [.. knobs, property]);
        Assert.True(outcome.Result.Verdict == Verdict.Pass, $"{model}/{protocol}: {string.Join(", ", outcome.Violations.Select(v => v.Violation.Property))}");
    }

    [Theory]
    [MemberData(nameof(MatrixModels))]
    public void VeWithInfoInArguments_PassesEverything(string model)
    {
        var outcome = Check(model, "ve", "guest.ve.info_store=args");
        Assert.True(outcome.Result.Verdict == Verdict.Pass, string.Join(", ", outcome.Violations.Select(v => v.Violation.Property)));
    }

    /// <summary>The NMI's access reaches the host only on a page the guest has mapped; its #VE rewrites the PV page.</summary>
    [Fact]
    public void VePvPage_BreaksFaultInfoOnNmiHostFault()
    {
        AssertViolates("nmi-host-fault", "ve", "fault-info-intact");
        AssertPasses("nmi-host-fault", "ve", "fault-info-intact", "guest.ve.info_store=args");
    }

    /// <summary>In NMI context the guest #PF takes the fixup and maps nothing: no #VE follows on a page the guest has not mapped.</summary>
    /// <summary>
    /// can_continue=always continues the NMI's nested #VE, which the continue path in NMI context must fail
    /// (dos-only-if1, no-sleep-in-atomic, and the PV page it rewrites). no-deadlock and no-lost-wakeup come
    /// from the model's one completion per task (docs/kvm-facts.md, "The #VE design"): the nested call's
    /// InitCompletion resets the one its interrupted call waits on and both post the same token. A
    /// completion per handler call would drop these two, and that paragraph with them.
    /// </summary>
    [Fact]
    public void VeAlwaysContinuing_NmiHostFault_AlsoLosesAWakeupToTheOneCompletionPerTask()
    {
        var outcome = Check("nmi-host-fault", "ve", "guest.ve.can_continue=always");
        Assert.Equal(
            ["dos-only-if1", "fault-info-intact", "no-deadlock", "no-lost-wakeup", "no-sleep-in-atomic"],
            outcome.Violations.Select(v => v.Violation.Property).Order(StringComparer.Ordinal));
        Assert.True(Check("nmi-host-fault", "ve").Violations.All(v => v.Violation.Property == "fault-info-intact"));
    }

    [Fact]
    public void Ve_NmiWindowOnGuestAbsentPage_Passes() => AssertPasses("nmi-window", "ve", "fault-info-intact");

    public static TheoryData<string> BugIds => new(Vexlab.Model.Protocols.BugCatalog.All.Select(b => b.Id));

    /// <summary>Every row of `explain bugs`: its model breaks its property with the buggy value and keeps it with the fix.</summary>
    [Theory]
    [MemberData(nameof(BugIds))]
    public void BugRow_BuggyAndFixedGiveDifferentVerdicts(string id)
    {
        var bug = Vexlab.Model.Protocols.BugCatalog.All.Single(b => b.Id == id);
        var knob = Vexlab.Model.Protocols.KnobCatalog.Find(bug.Knob)!;
        var fixedValue = knob.Kind == Vexlab.Model.Protocols.KnobKind.Bool ? (bug.BuggyValue == "true" ? "false" : "true") : knob.DefaultFor(bug.Protocol);
        AssertViolates(bug.CheckerModel, bug.Protocol, bug.Property, [.. bug.With, $"{bug.Knob}={bug.BuggyValue}"]);
        AssertPasses(bug.CheckerModel, bug.Protocol, bug.Property, [.. bug.With, $"{bug.Knob}={fixedValue}"]);
    }

    public static TheoryData<string> WindowIds => new(Vexlab.Model.Protocols.BugCatalog.OpenWindows.Select(w => w.Id));

    [Theory]
    [MemberData(nameof(WindowIds))]
    public void OpenWindow_StillFoundWithDefaultKnobs(string id)
    {
        var w = Vexlab.Model.Protocols.BugCatalog.OpenWindows.Single(x => x.Id == id);
        AssertViolates(w.CheckerModel, w.Protocol, w.Property);
    }

    /// <summary>B6's symptom: the idle HLT is woken by the stuck done list forever (kvm_vcpu_has_events).</summary>
    [Fact]
    public void Reenable_DequeueWithLapicDisabled_Livelocks()
    {
        AssertViolates("reenable", "kvm-pf-int", "no-halt-livelock", "host.apf.dequeue_requires_lapic_enabled=false", "guest.lapic.enabled_at_apf_enable=false");
        AssertPasses("reenable", "kvm-pf-int", "no-halt-livelock", "guest.lapic.enabled_at_apf_enable=false");
    }

    /// <summary>
    /// 5.7's kvm_async_pf_wakeup_all makes no request and vcpu_run checks completions only after an
    /// exit, so a fault after the migration comes before the wake-all: the wake-all wakes its task
    /// before the page is in, the retry halts on the gfn (KVM_REQ_APF_HALT), and the page-ready finds
    /// no sleeper (kvm_async_pf_task_wake's dummy). 5.8+ handles KVM_REQ_APF_READY before the first entry.
    /// </summary>
    [Fact]
    public void Reenable_WakeAllAfterTheFirstExitOn57_LeavesAStaleDummy()
    {
        AssertViolates("reenable", "kvm-pf", "no-stale-dummies");
        AssertPasses("reenable", "kvm-pf-int", "no-stale-dummies");
    }

    /// <summary>2f15d027c05f: enabling the LAPIC requests KVM_REQ_APF_READY, so the held wake-all goes before new faults.</summary>
    [Fact]
    public void Reenable_LapicEnabledLate_LeavesNoStaleDummies() =>
        AssertPasses("reenable", "kvm-pf-int", "no-stale-dummies", "guest.lapic.enabled_at_apf_enable=false");

    /// <summary>9a6e7c39810e's cancel drops a page-ready without matching tokens: its waiter is never woken.</summary>
    [Fact]
    public void CancelPendingNotPresent_LosesThePageReady()
    {
        AssertViolates("pending-event", "kvm-pf", "no-lost-wakeup", "host.apf.require_no_pending_event=false", "host.apf.cancel_pending_not_present=true");
        AssertPasses("pending-event", "kvm-pf", "not-present-never-deferred", "host.apf.require_no_pending_event=false", "host.apf.cancel_pending_not_present=true");
    }

    /// <summary>
    /// The #VE designs (info_store x irq_enable x clear_busy): the PV page survives every model once
    /// the busy word is held over the hypercall; enabling interrupts after it closes only the tick
    /// window (token-wrap, pending-event, reenable), not the NMI one.
    /// </summary>
    [Theory]
    [InlineData("pv-page", "before-hypercall", "after-store", "token-wrap", "fault-info-intact")]
    [InlineData("pv-page", "after-hypercall", "after-store", "nmi-host-fault", "fault-info-intact")]
    [InlineData("pv-page", "after-hypercall", "after-store", "token-wrap", null)]
    [InlineData("pv-page", "before-hypercall", "after-hypercall", "nmi-host-fault", null)]
    [InlineData("pv-page", "before-hypercall", "after-hypercall", "token-wrap", null)]
    [InlineData("args", "before-hypercall", "after-store", "nmi-host-fault", null)]
    public void VeDesign_Verdicts(string store, string irq, string clear, string model, string? violated)
    {
        string[] knobs = ["guest.ve.info_store=" + store, "guest.ve.irq_enable=" + irq, "guest.ve.clear_busy=" + clear];
        if (violated is null)
        {
            var outcome = Check(model, "ve", knobs);
            Assert.True(outcome.Result.Verdict == Verdict.Pass, string.Join(", ", outcome.Violations.Select(v => v.Violation.Property)));
        }
        else
        {
            AssertViolates(model, "ve", violated, knobs);
        }
    }

    [Fact]
    public void VeConvertibleEntryText_TakesVeInEntryWindow()
    {
        AssertViolates("entry-window", "ve", "no-ve-in-entry-window", "guest.ve.register_never_convertible=false");
        AssertPasses("entry-window", "ve", "no-ve-in-entry-window");
    }

    [Fact]
    public void KvmPf_BreaksFaultInfoOnNmiWindow() => AssertViolates("nmi-window", "kvm-pf", "fault-info-intact");

    [Fact]
    public void KvmPfInt_BreaksFaultInfoUnlessNmiSavesApfFlags()
    {
        AssertViolates("nmi-window", "kvm-pf-int", "fault-info-intact");
        AssertPasses("nmi-window", "kvm-pf-int", "fault-info-intact", "guest.nmi.save_restore_apf_flags=true");
    }

    [Fact]
    public void KvmPfInt_LoopsForeverOnUnrecoverablePage() =>
        AssertViolates("truncate", "kvm-pf-int", "unrecoverable-terminates");

    [Fact]
    public void KvmHalt_LoopsForeverOnUnrecoverablePage() =>
        AssertViolates("truncate", "kvm-halt", "unrecoverable-terminates");

    [Fact]
    public void KvmPfIntReportingErrors_Terminates() =>
        AssertPasses("truncate", "kvm-pf-int", "unrecoverable-terminates", "host.apf.report_errors=true");

    [Fact]
    public void Sync_Terminates() => AssertPasses("truncate", "sync", "unrecoverable-terminates");

    [Theory]
    [InlineData("kvm-pf-int")]
    public void WakeRace_WithoutDummies_LosesWakeup(string protocol)
    {
        AssertViolates("wake-race", protocol, "no-lost-wakeup", "guest.apf.dummy_entries=false");
        AssertPasses("wake-race", protocol, "no-lost-wakeup");
    }

    [Theory]
    [InlineData("kvm-pf-int")]
    public void WakeRace_WithoutRecheck_DoublesNodes(string protocol)
    {
        AssertViolates("wake-race", protocol, "one-node-per-token", "guest.apf.recheck_before_dummy_insert=false");
        AssertPasses("wake-race", protocol, "one-node-per-token");
    }

    /// <summary>B1 needs no wrap: vCPU0's first token is (0 &lt;&lt; 12) | 0 = 0, the free-slot value.</summary>
    [Theory]
    [InlineData("2")]
    [InlineData("20")]
    public void TokenWrap_ZeroToken_LosesWakeup(string idBits)
    {
        AssertViolates("token-wrap", "kvm-pf-int", "no-lost-wakeup", "host.apf.token_never_zero=false", "host.apf.token_id_bits=" + idBits);
        AssertPasses("token-wrap", "kvm-pf-int", "no-lost-wakeup", "host.apf.token_id_bits=" + idBits);
    }

    /// <summary>
    /// The trace point's nested #PF reads the outer fault's NOT_PRESENT inside the tracepoint probe,
    /// which holds preempt_disable_notrace (__DO_TRACE): 5.7's kvm_async_pf_task_wait halts it in a
    /// loop nothing wakes, with CONFIG_PREEMPT_COUNT (preempt_count() > 1) or without it
    /// (interrupt_kernel). The consumed reason word (fault-info-intact) is a violation either way. 5.7's
    /// own entry (cr2-first: idtentry_part reads CR2, runs TRACE_IRQS_OFF and enter_from_user_mode, then
    /// the handler reads the reason) has the window as the one before a0d14b8909de (trace-first) has;
    /// only 5.8's exc_page_fault (91eeafea1e4b, both-first) closes it.
    /// </summary>
    [Theory]
    [InlineData("guest.config_preempt=true", "trace-first")]
    [InlineData("guest.config_preempt=false", "trace-first")]
    [InlineData("guest.config_preempt=true", "cr2-first")]
    [InlineData("guest.config_preempt=false", "cr2-first")]
    public void KvmPf_TraceWindowNestedFault_HaltsWithOrWithoutPreemptCount(string preempt, string order)
    {
        AssertViolates("trace-window", "kvm-pf", "fault-info-intact", preempt, "guest.pf.read_order=" + order);
        AssertViolates("trace-window", "kvm-pf", "no-deadlock", preempt, "guest.pf.read_order=" + order);
        AssertPasses("trace-window", "kvm-pf", "fault-info-intact", preempt, "guest.pf.read_order=both-first");
    }

    /// <summary>With its default knobs the 5.7 guest (kvm-pf) fails trace-window: 5.3 to 5.7 read the flags after the trace points.</summary>
    [Fact]
    public void KvmPf_TraceWindow_FailsWithDefaults() => AssertViolates("trace-window", "kvm-pf", "fault-info-intact");

    [Theory]
    [InlineData("kvm-pf", "guest.config_preempt=false")]
    [InlineData("kvm-pf-int", "guest.config_preempt=true")]
    public void KernelFault_ReadyWithoutNotPresent(string protocol, string preempt)
    {
        AssertViolates("kernel-fault", protocol, "ready-matches-not-present", preempt, "host.apf.ready_only_if_not_present_delivered=false");
        AssertPasses("kernel-fault", protocol, "ready-matches-not-present", preempt, "host.apf.ready_only_if_not_present_delivered=true");
    }

    [Fact]
    public void PendingEvent_WithoutCheck_DoubleFaults()
    {
        AssertViolates("pending-event", "kvm-pf", "no-protocol-double-fault", "host.apf.require_no_pending_event=false");
        AssertPasses("pending-event", "kvm-pf", "no-protocol-double-fault");
    }

    [Fact]
    public void Reenable_DequeueWithLapicDisabled_LosesWakeup()
    {
        AssertViolates("reenable", "kvm-pf-int", "no-lost-wakeup", "host.apf.dequeue_requires_lapic_enabled=false", "guest.lapic.enabled_at_apf_enable=false");
        AssertPasses("reenable", "kvm-pf-int", "no-lost-wakeup", "guest.lapic.enabled_at_apf_enable=false");
    }

    [Fact]
    public void WorkerCount_DoesNotChangeVerdictsCountsOrTraces()
    {
        foreach (var (model, protocol, knob) in new[] { ("wake-race", "kvm-pf-int", "guest.apf.recheck_before_dummy_insert=false"), ("nmi-window", "kvm-pf", "guest.nmi.save_restore_cr2=true"), ("reenable", "ve", "guest.ve.info_store=args") })
        {
            var request = CheckRequest.Of(model, protocol, knob);
            var one = ModelCheck.Run(request, new CheckerOptions { Workers = 1 });
            var two = ModelCheck.Run(request, new CheckerOptions { Workers = 2 });
            Assert.Equal(one.Result.Verdict, two.Result.Verdict);
            Assert.Equal(one.Result.States, two.Result.States);
            Assert.Equal(one.Result.Transitions, two.Result.Transitions);
            Assert.Equal(one.Violations.Select(v => string.Join(',', v.Violation.Actions)), two.Violations.Select(v => string.Join(',', v.Violation.Actions)));
        }
    }

    [Fact]
    public void TraceSteps_ReadInKernelTerms()
    {
        var outcome = Check("nmi-window", "kvm-pf", "fault-info-intact");
        var steps = Assert.Single(outcome.Violations).Steps;
        Assert.Contains(steps, s => s.Events.Contains("NMI handler entered"));
        Assert.Contains(steps, s => s.Text.Contains("reads CR2=0x", StringComparison.Ordinal));
        Assert.Contains(steps, s => s.Events.Any(e => e.Contains("VIOLATION fault-info-intact", StringComparison.Ordinal)));
    }
}
