using Vexlab.Checking.Engine;
using Vexlab.Checking.Models;
using Vexlab.Model.Guest;
using Vexlab.Model.Machine;
using Vexlab.Model.Protocols;

namespace Vexlab.Checking.Tests.Models;

/// <summary>Verdicts that hang on one kernel path; docs/kvm-facts.md has the sources.</summary>
public sealed class KernelPathVerdictTests
{
    /// <summary>
    /// kvm_cpu_down_prepare runs kvm_guest_cpu_offline with interrupts off, as this model file's
    /// "cli; apf-disable; sti" does. A page-ready raised in that window is taken after
    /// kvm_pv_disable_apf cleared apf_reason.enabled, and sysvec_kvm_asyncpf_interrupt
    /// (b1d405751cd5) then reads no token: no dummy node is left behind under any interleaving.
    /// </summary>
    [Theory]
    [InlineData("cli; apf-disable; sti", "no-stale-dummies")]
    [InlineData("cli; apf-disable; sti", "no-lost-wakeup")]
    [InlineData("apf-disable", "no-stale-dummies")]
    public void CpuOfflineWithInterruptsOff_Passes(string offline, string property)
    {
        var yaml = $"vcpus: 1\npages: 1\nhost_absent: [0]\ntasks:\n  - {{name: a, mode: user, program: \"touch 0\"}}\n  - {{name: offline, mode: kernel, program: \"{offline}\"}}\n";
        var request = CheckRequest.ForFile(ModelFile.Parse(yaml, "offline.yaml"), "kvm-pf-int", [], [property]);
        var outcome = ModelCheck.Run(request, new CheckerOptions { Workers = 1, TimeLimit = TimeSpan.FromSeconds(60) });
        Assert.True(outcome.Result.Verdict == Verdict.Pass, string.Join(", ", outcome.Violations.Select(v => v.Violation.Property)));
    }

    /// <summary>
    /// 5.7's kvm_arch_can_inject_async_page_present is kvm_can_do_async_pf, which with HLT in the guest
    /// (kvm_hlt_in_guest) needs kvm_can_deliver_async_pf: a guest without CONFIG_PREEMPTION does not ask for
    /// KVM_ASYNC_PF_SEND_ALWAYS (kvm_guest_cpu_init), so no page-ready is dequeued while the vCPU is at CPL 0. A user
    /// task's fault is told not-present at CPL 3, the task sleeps, the idle task halts in the guest at CPL 0, and every
    /// exit after (the host's tick, HostExit here) finds the check false: the page-ready never comes. With
    /// SEND_ALWAYS, or with HLT exiting (the vCPU halts in the host, where the dequeue is not held), it comes.
    /// </summary>
    [Theory]
    [InlineData("true", "false", Verdict.Violation)]
    [InlineData("true", "true", Verdict.Pass)]
    [InlineData("false", "false", Verdict.Pass)]
    public void HltInGuest_WithoutSendAlways_NeverDequeuesAtCpl0(string hltInGuest, string configPreempt, Verdict verdict)
    {
        var yaml = $"vcpus: 1\npages: 1\nhost_absent: [0]\nbounds: {{host_exits: 3}}\n" +
            $"knobs: {{host.hlt_in_guest: {hltInGuest}, guest.config_preempt: {configPreempt}}}\n" +
            "tasks:\n  - {name: a, mode: user, program: \"touch 0\"}\n";
        var request = CheckRequest.ForFile(ModelFile.Parse(yaml, "hlt.yaml"), "kvm-pf", [], ["no-lost-wakeup"]);
        var outcome = ModelCheck.Run(request, new CheckerOptions { Workers = 1, TimeLimit = TimeSpan.FromSeconds(60) });
        Assert.Equal(verdict, outcome.Result.Verdict);
    }

    /// <summary>
    /// 5.7's kvm_async_pf_task_wake looks the token up, allocates the dummy (kzalloc(GFP_ATOMIC)) and hashes it
    /// under one raw_spin_lock; only 0547758a6de3 (2022) dropped the lock for the allocation. In reenable's
    /// no-stale-dummies trace under kvm-pf the page-ready that finds no waiter leaves its dummy in one step:
    /// the trace has no allocation step with the lock dropped.
    /// </summary>
    [Fact]
    public void Reenable_Kvmpf_LeavesTheDummyInOneWakeStep_AsIn57()
    {
        var outcome = ModelCheck.Run(CheckRequest.Of("reenable", "kvm-pf", ["no-stale-dummies"]), new CheckerOptions { Workers = 1, TimeLimit = TimeSpan.FromSeconds(60) });
        var steps = Assert.Single(outcome.Violations).Steps;
        Assert.Contains(steps, s => s.Text.Contains("ApfWakeLookup", StringComparison.Ordinal));
        Assert.DoesNotContain(steps, s => s.Text.Contains(nameof(MicroOp.ApfAllocDummy), StringComparison.Ordinal));
        Assert.DoesNotContain(steps, s => s.Text.Contains(nameof(MicroOp.ApfWakeInsert), StringComparison.Ordinal));
    }

    /// <summary>
    /// A counterexample step names the program it runs only when that is a handler's: a task's own program is named
    /// after the task, and "vCPU0 [a]: a: Touch" said the name twice.
    /// </summary>
    [Fact]
    public void CounterexampleSteps_NameAProgramOnlyWhenItIsAHandlers()
    {
        var outcome = ModelCheck.Run(CheckRequest.Of("nmi-window", "kvm-pf", ["fault-info-intact"]), new CheckerOptions { Workers = 1, TimeLimit = TimeSpan.FromSeconds(60) });
        var steps = Assert.Single(outcome.Violations).Steps;
        Assert.Equal("vCPU0 [a]: Touch", steps[0].Text[..16]);
        Assert.Contains(steps, s => s.Text.StartsWith("vCPU0 [a]: do_async_page_fault (5.7): ", StringComparison.Ordinal));
        Assert.DoesNotContain(steps, s => s.Text.StartsWith("vCPU0 [a]: a: ", StringComparison.Ordinal));
    }

    /// <summary>
    /// The built-in cpu-offline model's offline path is kvm_cpu_down_prepare's: interrupts off around
    /// kvm_pv_disable_apf and apf_task_wake_all. Its page-ready interrupt can then arrive with
    /// apf_reason.enabled clear, and only the handler's test of that flag (b1d405751cd5) keeps the
    /// sleep table free of dummies: without it this check finds a violation (58 steps).
    /// </summary>
    [Theory]
    [InlineData("kvm-pf-int")]
    [InlineData("kvm-pf")]
    public void BuiltinCpuOffline_DisablesApfWithInterruptsOff_LeavesNoDummy(string protocol)
    {
        var config = BuiltinModels.Get("cpu-offline").Configure(ProtocolCatalog.Create(protocol), ExternalBounds.None);
        var offline = config.Tasks.Single(t => t.Name == "offline").Program.Code.Select(i => i.Op).ToArray();
        Assert.Equal([MicroOp.Cli, MicroOp.ApfDisable, MicroOp.Sti], offline[..3]);
        var outcome = ModelCheck.Run(CheckRequest.Of("cpu-offline", protocol, ["no-stale-dummies"]), new CheckerOptions { Workers = 1, TimeLimit = TimeSpan.FromSeconds(60) });
        Assert.True(outcome.Result.Verdict == Verdict.Pass, string.Join(", ", outcome.Violations.Select(v => v.Violation.Property)));
    }

    /// <summary>
    /// A token left by CPU offline (docs/examples/cpu-offline-online.yaml): a page-ready written in
    /// kvm_cpu_down_prepare's interrupts-off window stays in apf_reason.token, because
    /// sysvec_kvm_asyncpf_interrupt skips it once apf_reason.enabled is false and neither INIT nor
    /// kvm_guest_cpu_init clears it. After the CPU comes back, apf_pageready_slot_free() is false for
    /// good: kvm_arch_can_dequeue_async_page_present() holds back the wake-all and the page-ready of the
    /// next task to fault there, which waits forever, while kvm_vcpu_has_events() (the done list is not
    /// empty) ends every halt of that vCPU at once. Clearing the slot in kvm_guest_cpu_init fixes both.
    /// The 5.7 host of kvm-pf injects page-ready only with interrupts allowed (kvm_can_do_async_pf), so
    /// nothing is written in the window.
    /// </summary>
    [Theory]
    [InlineData("kvm-pf-int", "false", "no-lost-wakeup", false)]
    [InlineData("kvm-pf-int", "false", "no-halt-livelock", false)]
    [InlineData("kvm-pf-int", "true", "no-lost-wakeup", true)]
    [InlineData("kvm-pf-int", "true", "no-halt-livelock", true)]
    [InlineData("kvm-pf", "false", "no-lost-wakeup", true)]
    public void CpuOfflineThenOnline_StaleTokenHoldsBackEveryPageReady(string protocol, string clearTokenAtInit, string property, bool passes)
    {
        var file = ModelFile.Load(Path.Combine(Spin.SpinModelTests.RepoRoot(), "docs", "examples", "cpu-offline-online.yaml"));
        List<KeyValuePair<string, string>> knobs = protocol == "kvm-pf-int" ? [new("guest.apf.clear_token_at_init", clearTokenAtInit)] : [];
        var outcome = ModelCheck.Run(CheckRequest.ForFile(file, protocol, knobs, [property]), new CheckerOptions { Workers = 1, TimeLimit = TimeSpan.FromSeconds(120) });
        Assert.Equal(passes ? Verdict.Pass : Verdict.Violation, outcome.Result.Verdict);
        if (!passes)
        {
            // The lasso goes through the offline window, the INIT and the move of b to vCPU1.
            var v = outcome.Result.Violations.Single();
            Assert.Equal(ViolationKind.Lasso, v.Kind);
            Assert.Contains(v.Actions, a => MachineAction.Unpack(a) is { Kind: ActionKind.Init, Vcpu: 1 });
            Assert.Contains(v.Actions, a => MachineAction.Unpack(a) is { Kind: ActionKind.Migrate, Vcpu: 1 });
        }
    }

    /// <summary>
    /// Each counterexample of cpu-offline-online goes the kernel's way down and up: vCPU1's hotplug thread first runs
    /// sched_cpu_deactivate (CPUHP_AP_ACTIVE, before kvm_cpu_down_prepare at CPUHP_AP_ONLINE_DYN), after which the
    /// load balancer pulls nothing to vCPU1 until sched_cpu_activate at its bring-up; INIT goes only to vCPU1, the CPU
    /// taken down (vCPU0 never runs an offline path). The 67-step no-stale-dummies trace of kvm-pf broke both: it pulled
    /// b to vCPU1 after the offline path's cli and sent INIT to vCPU0.
    /// </summary>
    [Theory]
    [InlineData("ve", "fault-info-intact")]
    [InlineData("ve", "no-deadlock")]
    [InlineData("kvm-pf", "no-stale-dummies")]
    public void CpuOfflineOnline_Counterexample_TakesOnlyVcpu1DownAndUp(string protocol, string property)
    {
        var file = ModelFile.Load(Path.Combine(Spin.SpinModelTests.RepoRoot(), "docs", "examples", "cpu-offline-online.yaml"));
        var outcome = ModelCheck.Run(CheckRequest.ForFile(file, protocol, [], [property]), new CheckerOptions { Workers = 1, TimeLimit = TimeSpan.FromSeconds(120) });
        Assert.Equal(Verdict.Violation, outcome.Result.Verdict);
        var steps = Assert.Single(outcome.Violations).Steps.Select(s => s.Text).ToList();
        var deactivate = steps.FindIndex(t => t.Contains("[offline]: " + nameof(MicroOp.CpuDeactivate), StringComparison.Ordinal));
        Assert.InRange(deactivate, 0, steps.Count - 1);
        Assert.DoesNotContain(steps, t => t.Contains("INIT to offline vCPU0", StringComparison.Ordinal));
        var init = steps.FindIndex(t => t.Contains("INIT to offline vCPU1", StringComparison.Ordinal));
        var down = steps.Skip(deactivate).Take((init < 0 ? steps.Count : init) - deactivate);
        Assert.DoesNotContain(down, t => t.Contains("moves task", StringComparison.Ordinal) && t.Contains("to vCPU1", StringComparison.Ordinal));
    }

    /// <summary>
    /// Under kvm-pf cpu-offline-online breaks no-stale-dummies through vCPU1's polling idle loop. After the bring-up
    /// (INIT, then kvm_guest_cpu_init's MSR_KVM_ASYNC_PF_EN write, whose kvm_async_pf_wakeup_all puts a wake-all on the
    /// done list with no request) the load balancer moves b to vCPU1 while its idle loop polls (TIF_POLLING_NRFLAG):
    /// resched_curr sends no IPI (set_nr_and_not_polling), so no exit, and with it no 5.7 completion check, comes
    /// before b runs there and faults. The wake-all then wakes b before its page is in, and the page-ready of b's token
    /// finds no sleeper and leaves a dummy. Had the move sent the IPI, KVM would have let it in through an interrupt
    /// window exit, after which vcpu_run's kvm_check_async_pf_completion injects the wake-all first: the model found
    /// no violation while it sent that IPI to every idle vCPU.
    /// </summary>
    [Fact]
    public void CpuOfflineOnline_Under57_BMovedToThePollingIdleLoop_FaultsBeforeTheWakeAll()
    {
        var file = ModelFile.Load(Path.Combine(Spin.SpinModelTests.RepoRoot(), "docs", "examples", "cpu-offline-online.yaml"));
        var outcome = ModelCheck.Run(CheckRequest.ForFile(file, "kvm-pf", [], ["no-stale-dummies"]), new CheckerOptions { Workers = 1, TimeLimit = TimeSpan.FromSeconds(120) });
        Assert.Equal(Verdict.Violation, outcome.Result.Verdict);
        var steps = Assert.Single(outcome.Violations).Steps.Select(s => s.Text + ": " + string.Join("; ", s.Events)).ToList();
        var init = steps.FindIndex(t => t.Contains("INIT to offline vCPU1", StringComparison.Ordinal));
        var move = steps.FindIndex(t => t.Contains("load balancer moves task", StringComparison.Ordinal) && t.Contains("to vCPU1", StringComparison.Ordinal));
        Assert.InRange(init, 0, steps.Count - 1);
        Assert.InRange(move, init + 1, steps.Count - 1);
        Assert.DoesNotContain("interrupt raised", steps[move], StringComparison.Ordinal);

        // From the move to b's fault on vCPU1, vCPU1 takes no exit.
        var fault = steps.FindIndex(move, t => t.Contains("vCPU1 [b]: Touch", StringComparison.Ordinal));
        Assert.InRange(fault, move + 1, steps.Count - 1);
        Assert.DoesNotContain(steps.Skip(move + 1).Take(fault - move - 1), t => t.StartsWith("vCPU1", StringComparison.Ordinal) && t.Contains("VM exit", StringComparison.Ordinal));
        Assert.Contains(steps.Skip(fault), t => t.Contains("completion token 0xffffffff dequeued", StringComparison.Ordinal));
    }

    /// <summary>
    /// The #VE design has no CPU-offline path: the wakeup of a fault resolved in the background goes to the vCPU that
    /// called resolve_ept, and nothing moves it when that vCPU goes offline. Task a, preempted in its #VE handler after the
    /// hypercall, is pushed to vCPU0 as vCPU1 goes inactive (balance_push) and sleeps there; the host raises the wakeup
    /// on vCPU1, which is offline, and INIT (kvm_lapic_reset clears the IRR) drops it, so a sleeps for good. KVM's PV
    /// protocol closed the same hole with kvm_cpu_down_prepare's apf_task_wake_all.
    /// </summary>
    [Fact]
    public void CpuOfflineThenOnline_UnderVe_LosesTheWakeupOfATaskMovedAway()
    {
        var file = ModelFile.Load(Path.Combine(Spin.SpinModelTests.RepoRoot(), "docs", "examples", "cpu-offline-online.yaml"));
        var outcome = ModelCheck.Run(CheckRequest.ForFile(file, "ve", [], ["no-deadlock"]), new CheckerOptions { Workers = 1, TimeLimit = TimeSpan.FromSeconds(120) });
        Assert.Equal(Verdict.Violation, outcome.Result.Verdict);
        var actions = outcome.Result.Violations.Single().Actions.Select(MachineAction.Unpack).ToList();
        var init = actions.FindIndex(a => a is { Kind: ActionKind.Init, Vcpu: 1 });
        var completion = actions.FindIndex(a => a.Kind == ActionKind.Complete);
        Assert.InRange(completion, 0, init - 1);
    }
}
