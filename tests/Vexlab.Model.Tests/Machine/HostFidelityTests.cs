using Vexlab.Model.Guest;
using Vexlab.Model.Host;
using Vexlab.Model.Machine;
using Vexlab.Model.Scripting;
using Vexlab.Model.Tests.Bugs;
using static Vexlab.Model.Tests.Machine.TestMachines;

namespace Vexlab.Model.Tests.Machine;

/// <summary>
/// Host paths checked against KVM's code (arch/x86/kvm/x86.c, mmu/mmu.c, virt/kvm/async_pf.c)
/// and the guest's #PF entry (arch/x86/mm/fault.c); docs/kvm-facts.md has the sources.
/// </summary>
public sealed class HostFidelityTests
{
    /// <summary>
    /// kvm_faultin_pfn: kvm_find_async_pf_gfn (artificial halt) comes before kvm_setup_async_pf's
    /// ASYNC_PF_PER_VCPU limit: a repeated gfn halts even with the queue full.
    /// </summary>
    [Fact]
    public void RepeatedGfn_HaltsBeforeTheQueueLimit()
    {
        var m = Build("kvm-pf-int", [User("a", 0, Touch(0)), Kernel("k", 0, KTouch(0))], knobs: [("host.apf.max_per_vcpu", "1")]);
        var s = new Script(m);
        s.StepUntil(ModelEventKind.TaskSlept);
        Assert.Equal(1, m.Vcpu(0).ApfQueued);
        var again = s.StepUntil(ModelEventKind.ArtificialHalt);
        Assert.DoesNotContain(again, e => e.Kind == ModelEventKind.SyncStall);
        Assert.Equal(RunState.HostHalted, m.Vcpu(0).Run);
    }

    /// <summary>
    /// kvm_can_do_async_pf: with HLT exits off, async work only if kvm_can_deliver_async_pf, which
    /// holds the CPL test (send_user_only): a 5.8+ kernel-mode fault is synchronous, no artificial halt.
    /// </summary>
    [Theory]
    [InlineData("true", true)]
    [InlineData("false", false)]
    public void HltInGuest_KernelFaultIsSynchronous(string hltInGuest, bool synchronous)
    {
        var m = Build("kvm-pf-int", [Kernel("k", 0, KTouch(0))], knobs: [("host.hlt_in_guest", hltInGuest)]);
        var s = new Script(m);
        var fault = s.Do(ActionKind.Step, 0);
        Assert.Equal(synchronous, fault.Has(ModelEventKind.SyncStall));
        Assert.Equal(!synchronous, fault.Has(ModelEventKind.ArtificialHalt));
    }

    [Fact]
    public void HltInGuest_UserFaultStillAsync()
    {
        var m = Build("kvm-pf-int", [User("u", 0, Touch(0))], knobs: [("host.hlt_in_guest", "true")]);
        var fault = new Script(m).Do(ActionKind.Step, 0);
        Assert.Contains(fault, e => e.Kind == ModelEventKind.AsyncStarted && e.Aux == 1);
    }

    /// <summary>
    /// kvm_vcpu_has_events is true when async_pf.done is not empty, so vcpu_block returns for a
    /// completion the vCPU cannot dequeue (here: the LAPIC is disabled); apf.halted is cleared and
    /// the access is retried, halting again while its gfn is in flight.
    /// </summary>
    [Fact]
    public void ArtificialHalt_WokenByAnyCompletion_RetriesAndHaltsAgain()
    {
        var m = Build("kvm-pf-int", [User("u", 0, Touch(1)), Kernel("k", 0, KTouch(0))],
            knobs: [("guest.lapic.enabled_at_apf_enable", "false")]);
        var s = new Script(m);
        s.StepUntil(ModelEventKind.TaskSlept);
        s.StepUntil(ModelEventKind.ArtificialHalt);
        Assert.False(s.IsEnabled(ActionKind.Unblock, 0));

        // The user task's page comes in first; its page-ready cannot be dequeued (LAPIC disabled).
        var slot = FindWork(m, page: 1);
        s.Do(ActionKind.Complete, 0, slot);
        Assert.False(s.IsEnabled(ActionKind.Dequeue, 0, 0));
        var wake = s.Do(ActionKind.Unblock, 0);
        Assert.Contains(wake, e => e.Kind == ModelEventKind.Unhalted && e.Aux == 3);
        Assert.Equal(RunState.InGuest, m.Vcpu(0).Run);
        var retry = s.Do(ActionKind.Step, 0);
        Assert.True(retry.Has(ModelEventKind.ArtificialHalt));
        Assert.True(s.IsEnabled(ActionKind.Unblock, 0));
    }

    [Fact]
    public void ArtificialHalt_NotWokenByAnEmptyDoneList()
    {
        var m = Build("kvm-pf-int", [Kernel("k", 0, KTouch(0))]);
        var s = new Script(m);
        s.Do(ActionKind.Step, 0);
        Assert.Equal(RunState.HostHalted, m.Vcpu(0).Run);
        Assert.False(s.IsEnabled(ActionKind.Unblock, 0));
    }

    /// <summary>kvm_arch_async_page_present sets mp_state RUNNABLE: a dequeued completion ends a guest HLT that exited.</summary>
    [Theory]
    [InlineData("false", RunState.InGuest)]
    [InlineData("true", RunState.GuestHalt)]
    public void PageReady_EndsGuestHlt(string hltInGuest, RunState after)
    {
        var m = Build("kvm-pf-int", [User("u", 0, Touch(0))], knobs: [("host.hlt_in_guest", hltInGuest)]);
        var s = new Script(m);
        s.StepUntil(ModelEventKind.TaskSlept);
        s.StepUntil(ModelEventKind.GuestHalted);
        s.CompleteAny();
        s.Do(ActionKind.Dequeue, 0, 0);
        Assert.Equal(after, m.Vcpu(0).Run);
    }

    /// <summary>
    /// kvm_arch_async_page_present ends with apf.halted = false and mp_state = KVM_MP_STATE_RUNNABLE
    /// whether it injected the page-ready #PF (5.7) or raised the interrupt (5.8+). Task b's access
    /// to the gfn task a sleeps on is a repeated fault (KVM_REQ_APF_HALT); the completion's dequeue
    /// ends that halt, or the idle task's HLT, and says so (Unhalted: 0 the APF halt, 2 the HLT).
    /// The 5.7 branch used to move the vCPU into the host first, so ApfHalted stayed set and no
    /// Unhalted came.
    /// </summary>
    [Theory]
    [InlineData("kvm-pf", true, RunState.InHost, 0)]
    [InlineData("kvm-pf-int", true, RunState.InGuest, 0)]
    [InlineData("kvm-pf", false, RunState.InHost, 2)]
    [InlineData("kvm-pf-int", false, RunState.InGuest, 2)]
    public void KvmArchAsyncPagePresent_EndsTheHalt(string protocol, bool repeatedFault, RunState after, byte unhalted)
    {
        var tasks = repeatedFault ? new[] { User("a", 0, Touch(0)), User("b", 0, Touch(0)) } : [User("a", 0, Touch(0))];
        var m = Build(protocol, tasks);
        var s = new Script(m);
        GuestRunsUntil(s, ModelEventKind.TaskSlept);
        GuestRunsUntil(s, repeatedFault ? ModelEventKind.ArtificialHalt : ModelEventKind.GuestHalted);
        Assert.Equal(repeatedFault ? 1 : 0, m.Vcpu(0).ApfHalted);

        s.CompleteAny();
        var ready = s.Do(ActionKind.Dequeue, 0, 0);
        Assert.Contains(ready, e => e.Kind == ModelEventKind.Unhalted && e.Aux == unhalted);
        Assert.Equal(0, m.Vcpu(0).ApfHalted);
        Assert.Equal(after, m.Vcpu(0).Run);
    }

    /// <summary>
    /// Migration: QEMU restores MSR_KVM_ASYNC_PF_EN, and kvm_pv_enable_async_pf calls
    /// kvm_async_pf_wakeup_all only when that value enables PV APF; it returns before it for a
    /// guest that never enabled APF (kvm-halt) or disabled it (apf-disable). The destination's vCPU
    /// is new, so the source's APF halt does not follow it (Unhalted 5): it retries the access.
    /// </summary>
    [Theory]
    [InlineData("kvm-halt", false, false)]
    [InlineData("kvm-pf-int", true, false)]
    [InlineData("kvm-pf-int", false, true)]
    public void KvmPvEnableAsyncPf_WakesAllOnlyWhenPvApfIsEnabled(string protocol, bool disabled, bool wakeAll)
    {
        var tasks = disabled ? new[] { Kernel("off", 0, Op(MicroOp.ApfDisable)), User("a", 0, Touch(0)) } : [User("a", 0, Touch(0))];
        var m = Build(protocol, tasks, bounds: new ExternalBounds(0, 0, 0, 1));
        var s = new Script(m);
        var halts = !wakeAll;
        s.StepUntil(halts ? ModelEventKind.ArtificialHalt : ModelEventKind.TaskSlept);
        var migration = s.Do(ActionKind.Reenable);
        Assert.Equal(wakeAll, migration.Exists(e => e.Kind == ModelEventKind.ReadyDequeued && e.Token == Model.Machine.Machine.BroadcastToken));
        Assert.Equal(halts, migration.Exists(e => e.Kind == ModelEventKind.Unhalted && e.Aux == 5));
        Assert.Equal(0, m.Vcpu(0).ApfHalted);
        Assert.Equal(0, m.Vcpu(0).Done);
        Assert.NotEqual(RunState.HostHalted, m.Vcpu(0).Run);
    }

    /// <summary>
    /// When the destination delivers the wake-all that kvm_pv_enable_async_pf queues with
    /// kvm_async_pf_wakeup_all. 5.8+ (kvm-pf-int): kvm_arch_async_page_present_queued makes
    /// KVM_REQ_APF_READY, which vcpu_enter_guest handles before the first entry, so the broadcast is
    /// raised before the guest runs. 5.7 (kvm-pf) has no such request (557a961abbe0 added it):
    /// vcpu_run calls kvm_check_async_pf_completion only after vcpu_enter_guest returns, so the
    /// guest runs first and the wake-all waits for an exit (here the host's tick). The model used to
    /// move the 5.7 vCPU into the host and dequeue inside the migration.
    /// </summary>
    [Theory]
    [InlineData("kvm-pf", false)]
    [InlineData("kvm-pf-int", true)]
    public void KvmAsyncPfWakeupAll_OnTheDestination_ComesBeforeTheGuestRunsOnlyOn58(string protocol, bool beforeGuestRuns)
    {
        var m = Build(protocol, [User("a", 0, Touch(0)), Spinner("s", TaskMode.User, 0)], bounds: new ExternalBounds(0, 1, 0, 1));
        var s = new Script(m);
        GuestRunsUntil(s, ModelEventKind.TaskSlept);
        Assert.Equal(RunState.InGuest, m.Vcpu(0).Run);

        var migration = s.Do(ActionKind.Reenable);
        static bool WakeAll(ModelEvent e) => e.Kind == ModelEventKind.ReadyDequeued && e.Token == Model.Machine.Machine.BroadcastToken;
        Assert.Equal(beforeGuestRuns, migration.Exists(WakeAll));
        Assert.Equal(RunState.InGuest, m.Vcpu(0).Run);
        if (beforeGuestRuns)
        {
            Assert.False(s.IsEnabled(ActionKind.Step));
            return;
        }

        Assert.Equal(1, m.Vcpu(0).Done);
        Assert.False(s.IsEnabled(ActionKind.Dequeue));
        Assert.DoesNotContain(s.Do(ActionKind.Step), WakeAll);
        Assert.False(s.IsEnabled(ActionKind.Dequeue));

        var exit = s.Do(ActionKind.Tick);
        Assert.Contains(exit, e => e.Kind == ModelEventKind.VmExit);
        Assert.Contains(s.Do(ActionKind.Dequeue, 0, 0), WakeAll);
    }

    /// <summary>
    /// A 5.7 vCPU the source held between exit and entry, its not-present #PF pending, enters first
    /// on the destination: vcpu_run calls vcpu_enter_guest, which injects the exception
    /// KVM_SET_VCPU_EVENTS restored; kvm_check_async_pf_completion comes only after the next exit.
    /// One held in the APF halt enters too (kvm_vcpu_running: apf.halted is not migrated).
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void VcpuRun_OnTheDestination_EntersBeforeTheWakeAllOn57(bool apfHalt)
    {
        var tasks = apfHalt ? new[] { User("a", 0, Touch(0)), User("b", 0, Touch(0)) } : [User("a", 0, Touch(0))];
        var m = Build("kvm-pf", tasks, bounds: new ExternalBounds(0, 0, 0, 1));
        var s = new Script(m);
        if (apfHalt)
        {
            GuestRunsUntil(s, ModelEventKind.TaskSlept);
            GuestRunsUntil(s, ModelEventKind.ArtificialHalt);
            Assert.Equal(RunState.HostHalted, m.Vcpu(0).Run);
        }
        else
        {
            s.Do(ActionKind.Step);
            Assert.Equal(RunState.InHost, m.Vcpu(0).Run);
            Assert.Equal(PendingEvent.PfNotPresent, m.Vcpu(0).Pending);
        }

        var migration = s.Do(ActionKind.Reenable);
        Assert.Equal(!apfHalt, migration.Exists(e => e.Kind == ModelEventKind.ExceptionDelivered));
        Assert.DoesNotContain(migration, e => e.Kind == ModelEventKind.ReadyDequeued);
        Assert.Equal(RunState.InGuest, m.Vcpu(0).Run);
        Assert.Equal(1, m.Vcpu(0).Done);
    }

    /// <summary>
    /// alloc_apf_token after a migration: the destination's vCPU is new (kvm_vm_ioctl_create_vcpu
    /// zero-allocates it) and apf.id is in no migrated state (QEMU restores MSR_KVM_ASYNC_PF_EN and
    /// _INT; kvm_pv_enable_async_pf leaves apf.id alone), so its tokens start again at the source's
    /// first: (1 &lt;&lt; 12) | vcpu_id, or vcpu_id itself before 6f3c1fc53d86. Task a's access, retried
    /// after the migration, gets the token it had before.
    /// </summary>
    [Theory]
    [InlineData("kvm-halt", "true", 0x1000u)]
    [InlineData("kvm-halt", "false", 0x0u)]
    [InlineData("kvm-pf", "true", 0x1000u)]
    [InlineData("kvm-pf-int", "true", 0x1000u)]
    public void AllocApfToken_StartsAgainAfterAMigration(string protocol, string neverZero, uint token)
    {
        var m = Build(protocol, [User("a", 0, Touch(0))], knobs: [("host.apf.token_never_zero", neverZero)], bounds: new ExternalBounds(0, 0, 0, 1));
        var s = new Script(m);
        Assert.Equal(token, GuestRunsToAsyncWork(s));
        s.Do(ActionKind.Reenable);
        Assert.Equal(token, GuestRunsToAsyncWork(s));
    }

    /// <summary>
    /// async_pf_execute (virt/kvm/async_pf.c) only faults the page into the host mm with
    /// get_user_pages_remote; the EPT entry comes from kvm_arch_async_page_ready's prefault when
    /// kvm_check_async_pf_completion dequeues the completion. An access before that is an EPT
    /// violation, which try_async_pf / kvm_faultin_pfn maps without blocking (the non-blocking lookup
    /// finds the page, so kvm_find_async_pf_gfn is not reached). The model used to make the page
    /// resident at the completion, and the access completed with no exit.
    /// </summary>
    [Theory]
    [InlineData("kvm-halt")]
    [InlineData("kvm-pf")]
    [InlineData("kvm-pf-int")]
    public void AsyncPfExecute_LeavesTheEptEntryToTheDequeue(string protocol)
    {
        var m = Build(protocol, [User("a", 0, Touch(0)), User("c", 1, Touch(0))], vcpus: 2);
        var s = new Script(m);
        s.StepUntil(ModelEventKind.AsyncStarted, 0);
        s.CompleteAny();
        Assert.Equal(HostPage.NotInEpt, m.Page(0).Host);

        var access = s.Do(ActionKind.Step, 1);
        Assert.Contains(access, e => e.Kind == ModelEventKind.VmExit && e.Aux == (byte)ExitReason.EptViolation);
        Assert.Contains(access, e => e.Kind == ModelEventKind.MinorEptFault && e.Aux == 1);
        Assert.Contains(access, e => e.Kind == ModelEventKind.AccessDone);
        Assert.Equal(HostPage.Resident, m.Page(0).Host);
    }

    /// <summary>
    /// 5.8+ (kvm-pf-int): the completion set KVM_REQ_APF_READY (kvm_arch_async_page_present_queued), and
    /// vcpu_enter_guest serves it before any re-entry. So when another task of the same vCPU touches the page before the
    /// dequeue, the EPT violation's re-entry dequeues first (kvm_check_async_pf_completion) and injects the page-ready
    /// interrupt, which the guest takes before the access is retried. The model let the access finish in that step
    /// and left the dequeue for later, an order the kernel does not take.
    /// </summary>
    [Fact]
    public void AMinorEptExit_ServesAPendingPageReadyRequestFirst_On58()
    {
        var m = Build("kvm-pf-int", [User("a", 0, Touch(0)), User("c", 0, Touch(0))]);
        var s = new Script(m);
        var c = m.WorkloadTask(1);
        GuestRunsUntil(s, ModelEventKind.TaskSlept);
        s.CompleteAny();
        Assert.Equal(HostPage.NotInEpt, m.Page(0).Host);
        for (var i = 0; !(m.Vcpu(0).CurrentTask == c && m.Task(c).Depth == 1 && m.NextInstr(0).Op == MicroOp.Touch); i++)
        {
            Assert.True(i < 64, "c did not get to its access");
            s.Do(s.IsEnabled(ActionKind.Enter) ? ActionKind.Enter : ActionKind.Step);
        }

        var access = s.Do(ActionKind.Step);
        Assert.Contains(access, e => e.Kind == ModelEventKind.MinorEptFault && e.Aux == 1);
        Assert.Contains(access, e => e.Kind == ModelEventKind.ReadyDequeued && e.Aux == 1);
        Assert.DoesNotContain(access, e => e.Kind == ModelEventKind.AccessDone);
        Assert.Equal(HostPage.Resident, m.Page(0).Host);
        Assert.True(s.IsEnabled(ActionKind.DeliverInterrupt));
        Assert.False(s.IsEnabled(ActionKind.Step));
    }

    /// <summary>kvm_arch_async_page_ready: the dequeue's prefault maps the page, so the retried access takes no exit.</summary>
    [Theory]
    [InlineData("kvm-halt")]
    [InlineData("kvm-pf-int")]
    public void KvmArchAsyncPageReady_MapsThePageAtTheDequeue(string protocol)
    {
        var m = Build(protocol, [User("a", 0, Touch(0))]);
        var s = new Script(m);
        s.StepUntil(ModelEventKind.AsyncStarted, 0);
        s.CompleteAny();
        Assert.Equal(HostPage.NotInEpt, m.Page(0).Host);
        s.Do(ActionKind.Dequeue, 0, 0);
        Assert.Equal(HostPage.Resident, m.Page(0).Host);
    }

    /// <summary>
    /// The reenable counterexample under 5.7 (kvm-pf): the migration's wake-all wakes a before its page
    /// is in, its work completes, and a retries. The retry is an EPT violation (the page is not in the
    /// EPT until the dequeue); try_async_pf maps it, and vcpu_run's kvm_check_async_pf_completion after
    /// that exit dequeues token 0x1000 (a at CPL3, IF=1, nothing pending) and injects the page-ready
    /// #PF, which comes before the access: an EPT violation is fault-like. The model used to report
    /// "a access to 0x7f000000 done" with no exit and leave the completion on the done list.
    /// </summary>
    [Fact]
    public void KvmCheckAsyncPfCompletion_RunsAfterTheMinorEptExitOn57()
    {
        var m = Build("kvm-pf", [User("a", 0, Touch(0)), Spinner("s", TaskMode.User, 0)], bounds: new ExternalBounds(0, 0, 0, 1, HostExits: 1));
        var s = new Script(m);
        var a = m.WorkloadTask(0);
        s.Do(ActionKind.Reenable);
        GuestRunsUntil(s, ModelEventKind.TaskSlept);
        Assert.Contains(s.Do(ActionKind.HostExit), e => e.Kind == ModelEventKind.ReadyDequeued && e.Token == Model.Machine.Machine.BroadcastToken);
        for (var i = 0; !(m.Vcpu(0).CurrentTask == a && m.Task(a).Depth == 1 && m.NextInstr(0).Op == MicroOp.Touch); i++)
        {
            Assert.True(i < 64, "a did not get back to its access");
            s.Do(s.IsEnabled(ActionKind.Enter) ? ActionKind.Enter : s.IsEnabled(ActionKind.DeliverInterrupt) ? ActionKind.DeliverInterrupt : ActionKind.Step);
        }

        var done = s.CompleteAny();
        Assert.Contains(done, e => e.Kind == ModelEventKind.WorkCompleted && e.Token == 0x1000);
        var retry = s.Do(ActionKind.Step);
        Assert.Contains(retry, e => e.Kind == ModelEventKind.VmExit && e.Aux == (byte)ExitReason.EptViolation);
        Assert.Contains(retry, e => e.Kind == ModelEventKind.ReadyDequeued && e.Token == 0x1000 && e.Aux == 1);
        Assert.DoesNotContain(retry, e => e.Kind == ModelEventKind.AccessDone);
        Assert.Equal(PendingEvent.PfReady, m.Vcpu(0).Pending);

        Assert.Contains(s.Do(ActionKind.Enter), e => e.Kind == ModelEventKind.ExceptionDelivered);
        Assert.Equal(2, m.Task(a).Depth);
    }

    /// <summary>5.7's vcpu_run calls kvm_check_async_pf_completion after every exit, a minor EPT fault too.</summary>
    [Theory]
    [InlineData("kvm-pf", RunState.InHost)]
    [InlineData("kvm-pf-int", RunState.InGuest)]
    public void MinorEptFault_PassesThroughTheHostOn57(string protocol, RunState after)
    {
        var m = Build(protocol, [User("u", 0, Touch(0))], absent: HostPage.AbsentNoIo);
        var fault = new Script(m).Do(ActionKind.Step, 0);
        Assert.True(fault.Has(ModelEventKind.MinorEptFault));
        Assert.Equal(after, m.Vcpu(0).Run);
    }

    /// <summary>
    /// do_user_addr_fault: faulthandler_disabled() (copy_from_user_nmi's pagefault_disable, NMI and
    /// hard-IRQ context, a preempt count) maps nothing and takes the exception-table fixup.
    /// </summary>
    [Theory]
    [InlineData("sync")]
    [InlineData("kvm-pf-int")]
    [InlineData("ve")]
    public void NmiUserAccess_TakesTheFixup_MapsNothing(string protocol)
    {
        var m = Build(protocol, [Spinner("s", TaskMode.User, 0)], absentCount: 0,
            groups: [new PageGroupSpec(2, 1, HostPage.Resident, false, 0, false)], bounds: new ExternalBounds(1, 0, 0, 0), nmiTouchPage: 2);
        var s = new Script(m);
        s.Do(ActionKind.RaiseNmi, 0);
        var events = s.StepUntil(ModelEventKind.Fixup);
        Assert.DoesNotContain(events, e => e.Kind == ModelEventKind.GuestMinorFault);
        Assert.Equal((PageFlags)0, m.Page(2).Flags & PageFlags.GuestPresent);
    }

    [Fact]
    public void PreemptDisabledKernelAccess_TakesTheFixup()
    {
        var m = Build("sync", [Kernel("k", 0, Op(MicroOp.PreemptOff), KTouch(2), Op(MicroOp.PreemptOn))], absentCount: 0,
            groups: [new PageGroupSpec(2, 1, HostPage.Resident, false, 0, false)]);
        var s = new Script(m);
        var events = s.StepUntil(ModelEventKind.Fixup);
        Assert.DoesNotContain(events, e => e.Kind == ModelEventKind.GuestMinorFault);
    }

    [Fact]
    public void TaskContextUserAccess_MapsThePage()
    {
        var m = Build("sync", [User("u", 0, Touch(2))], absentCount: 0,
            groups: [new PageGroupSpec(2, 1, HostPage.Resident, false, 0, false)]);
        var s = new Script(m);
        var events = s.StepUntil(ModelEventKind.GuestMinorFault);
        Assert.DoesNotContain(events, e => e.Kind == ModelEventKind.Fixup);
        BugAsserts.AssertFinishedClean(s);
    }

    /// <summary>Runs the guest (no host completion, no external event) until the host starts async work; its token.</summary>
    private static uint GuestRunsToAsyncWork(Script s)
    {
        for (var i = 0; i < 64; i++)
        {
            var best = default(MachineAction);
            var rank = Script.NotPreferred;
            foreach (var a in s.Enabled())
            {
                if (Script.Preference(a.Kind) < Math.Min(rank, Script.Preference(ActionKind.Complete)))
                {
                    best = a;
                    rank = Script.Preference(a.Kind);
                }
            }

            Assert.NotEqual(Script.NotPreferred, rank);
            var started = s.Do(best.Kind, best.Vcpu, best.Arg).FindLast(e => e.Kind == ModelEventKind.AsyncStarted);
            if (started.Kind == ModelEventKind.AsyncStarted)
            {
                return started.Token;
            }
        }

        throw new InvalidOperationException("no async work within 64 actions");
    }
}

/// <summary>apf_task_wake_all unhashes dummies with apf_task_wake_one, which never frees them.</summary>
public sealed class WakeAllLeakTests
{
    [Fact]
    public void WakeAll_LeavesTheDummyLeakedNotFreed()
    {
        // vCPU0's page-ready goes to vCPU1 (ready_target=any) before the task queues: vCPU1 inserts a dummy.
        var m = Build("kvm-pf-int", [User("a", 0, Touch(0)), Spinner("s", TaskMode.User, 1)], vcpus: 2,
            knobs: [("host.apf.ready_target", "any")], bounds: new ExternalBounds(0, 0, 0, 1));
        var s = new Script(m);
        s.Do(ActionKind.Step, 0);
        s.CompleteAny();
        s.Do(ActionKind.Dequeue, 1, 0);
        s.Do(ActionKind.DeliverInterrupt, 1);
        s.StepUntil(ModelEventKind.KernelStep, vcpu: 1);
        s.Do(ActionKind.Step, 1);
        Assert.Contains(Enumerable.Range(0, m.SleepCapacity), i => m.SleepNodeAt(i).Used == SleepNode.Hashed && m.SleepNodeAt(i).Dummy == 1);
        s.StepTo(MicroOp.Iret, vcpu: 1);
        s.Do(ActionKind.Step, 1);

        // Migration: the wake-all reaches vCPU1 and unhashes its dummy without freeing it.
        s.Do(ActionKind.Reenable, 0);
        s.Do(ActionKind.DeliverInterrupt, 1);
        s.StepTo(MicroOp.ClearApfToken, vcpu: 1);
        Assert.Equal(1, m.LeakedDummies);
        Assert.DoesNotContain(Enumerable.Range(0, m.SleepCapacity), i => m.SleepNodeAt(i).Used == SleepNode.Hashed && m.SleepNodeAt(i).Dummy == 1);
        Assert.Equal(0, m.SleepNodeCount());
    }
}

/// <summary>
/// kvm_async_pf_task_wake for a token that has a dummy hashed already: _find_apf_task matches the dummy and
/// apf_task_wake_one unhashes it (hlist_del_init) without freeing it, as apf_task_wake_all does.
/// </summary>
public sealed class WakeOneDummyLeakTests
{
    // Every second wake leaks. Had leaked dummies kept their slots, the table (5 for one task) would have been full
    // at the eleventh wake; the state counts leaks up to Machine.LeakedDummiesCounted.
    [Theory]
    [InlineData(1, 1, 0)]
    [InlineData(2, 0, 1)]
    [InlineData(5, 1, 2)]
    [InlineData(6, 0, 3)]
    [InlineData(12, 0, Model.Machine.Machine.LeakedDummiesCounted)]
    public void WakeOne_OnADummy_LeavesItLeakedNotFreed(int wakes, int hashedDummies, int leaked)
    {
        // A kernel thread's faults take the artificial halt (CPL 0, no SEND_ALWAYS); with page-ready sent for
        // them anyway (B2's host) each wake finds no waiter, and with 1-bit ids every fault gets token 0x1000.
        var m = Build("kvm-pf-int", [Kernel("k", 0, [.. Enumerable.Range(0, wakes).Select(p => KTouch(p))])], pages: wakes, absentCount: wakes,
            knobs: [("host.apf.ready_only_if_not_present_delivered", "false"), ("host.apf.token_id_bits", "1")]);
        var s = new Script(m);
        for (var i = 0; i < wakes; i++)
        {
            s.StepUntil(ModelEventKind.ArtificialHalt);
            s.CompleteAny();
            s.Do(ActionKind.Dequeue, 0, 0);
            Assert.Equal(0x1000u, m.Vcpu(0).ApfToken);
            s.Do(ActionKind.DeliverInterrupt);
            s.StepTo(MicroOp.ClearApfToken);
        }

        var nodes = Enumerable.Range(0, m.SleepCapacity).Select(i => m.SleepNodeAt(i)).ToArray();
        Assert.Equal(hashedDummies, nodes.Count(n => n.Used == SleepNode.Hashed && n.Dummy == 1));
        Assert.Equal(leaked, m.LeakedDummies);
    }
}

/// <summary>kvm_guest_cpu_offline: kvm_pv_disable_apf, the host's kvm_clear_async_pf_completion_queue, then apf_task_wake_all.</summary>
public sealed class ApfDisableTests
{
    [Fact]
    public void Disable_FreesCompletionsWithoutNotifying_AndWakesTheSleeper()
    {
        var m = Build("kvm-pf-int", [User("a", 0, Touch(0)), Kernel("offline", 0, Op(MicroOp.ApfDisable))]);
        var s = new Script(m);
        s.StepUntil(ModelEventKind.TaskSlept);
        s.CompleteAny();
        Assert.Equal(1, m.Vcpu(0).Done);
        var disable = s.StepUntil(ModelEventKind.TaskWoken);
        Assert.Contains(disable, e => e.Kind == ModelEventKind.VmExit && e.Aux == (byte)ExitReason.MsrWrite);
        Assert.DoesNotContain(disable, e => e.Kind is ModelEventKind.ReadyDequeued or ModelEventKind.InterruptRaised && e.Aux != (byte)ModelVector.Reschedule);
        Assert.Equal(0, m.Vcpu(0).ApfEnabled);
        Assert.Equal(0, m.Vcpu(0).Done);
        Assert.Equal(0, m.Vcpu(0).ApfQueued);
        BugAsserts.AssertFinishedClean(s);
    }
}
