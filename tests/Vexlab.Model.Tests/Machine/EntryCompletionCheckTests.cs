using Vexlab.Model.Guest;
using Vexlab.Model.Machine;
using Vexlab.Model.Scripting;
using static Vexlab.Model.Tests.Machine.TestMachines;

namespace Vexlab.Model.Tests.Machine;

/// <summary>
/// The vCPU thread checks completions on its way back into the guest: 5.7's vcpu_run calls
/// kvm_check_async_pf_completion after every vcpu_enter_guest that returns 1, before the next one; 5.8+'s
/// vcpu_enter_guest serves the KVM_REQ_APF_READY that kvm_arch_async_page_present_queued made (557a961abbe0) before
/// it injects anything. So a vCPU that left the guest with a completion it can take on its done list does not run
/// guest code, nor enter, before that check. Each row is an exit the model used to end with the completion still
/// waiting and the guest free to run: the checker printed schedules where the guest ran first.
/// </summary>
public sealed class EntryCompletionCheckTests
{
    public enum HostPath
    {
        SyncFaultReturns,
        NotPresentInjected,
        PreemptionTimerExit57,
    }

    [Theory]
    [InlineData("5.8+: the synchronous fault's kvm_mmu_page_fault returns; vcpu_enter_guest serves KVM_REQ_APF_READY with kvm_check_async_pf_completion before the entry", HostPath.SyncFaultReturns)]
    [InlineData("5.8+: kvm_arch_async_page_not_present queues the #PF; vcpu_enter_guest serves KVM_REQ_APF_READY with kvm_check_async_pf_completion before kvm_check_and_inject_events injects it", HostPath.NotPresentInjected)]
    [InlineData("5.7: handle_preemption_timer returns 1; vcpu_run calls kvm_check_async_pf_completion before the next vcpu_enter_guest", HostPath.PreemptionTimerExit57)]
    public void NoGuestCodeNorEntry_BeforeTheCompletionCheck(string rule, HostPath path)
    {
        var (s, told) = path switch
        {
            HostPath.SyncFaultReturns => SyncFaultReturns(),
            HostPath.NotPresentInjected => NotPresentInjected(),
            _ => PreemptionTimerExit57(),
        };
        var m = s.Machine;

        var guestMayRun = s.IsEnabled(ActionKind.Step, 0) || s.IsEnabled(ActionKind.Enter, 0);
        Assert.False(m.Vcpu(0).Done > 0 && guestMayRun, rule);
        if (path != HostPath.PreemptionTimerExit57)
        {
            // The page-ready of the told fault went out in that check: its token is in the slot.
            Assert.Equal(told, m.Vcpu(0).ApfToken);
        }
    }

    /// <summary>
    /// kvm_check_async_pf_completion runs on the vCPU's own thread, which the synchronous fault holds in get_user_pages:
    /// no check while the vCPU is stalled, whatever completes meanwhile; the fault's return checks.
    /// </summary>
    [Fact]
    public void NoCompletionCheck_WhileTheVcpuThreadIsBlockedInTheFault()
    {
        var m = Build("kvm-pf-int", [User("u", 0, Touch(0)), Kernel("k", 0, Op(MicroOp.Cli), KTouch(1))]);
        var s = new Script(m);
        SleepOnToldFault(s);
        s.StepUntil(ModelEventKind.SyncStall, 0);
        s.Do(ActionKind.Complete, 0, FindWork(m, page: 0));

        Assert.Equal(RunState.HostStalled, m.Vcpu(0).Run);
        Assert.Equal(1, m.Vcpu(0).Done);
        Assert.False(s.IsEnabled(ActionKind.Dequeue, 0));
    }

    /// <summary>
    /// u sleeps on a told fault (page 0); k's access with IF=0 (kvm_can_do_async_pf false) stalls the vCPU in the host
    /// on page 1. u's page completes while the vCPU is stalled, then k's.
    /// </summary>
    private static (Script, uint) SyncFaultReturns()
    {
        var m = Build("kvm-pf-int", [User("u", 0, Touch(0)), Kernel("k", 0, Op(MicroOp.Cli), KTouch(1))]);
        var s = new Script(m);
        var told = SleepOnToldFault(s);
        s.StepUntil(ModelEventKind.SyncStall, 0);
        Assert.Equal(RunState.HostStalled, m.Vcpu(0).Run);
        s.Do(ActionKind.Complete, 0, FindWork(m, page: 0));
        s.Do(ActionKind.Complete, 0, FindWork(m, page: 1));
        return (s, told);
    }

    /// <summary>u1 sleeps on a told fault (page 0), whose page completes; u2's access to page 1 then takes a told fault.</summary>
    private static (Script, uint) NotPresentInjected()
    {
        var m = Build("kvm-pf-int", [User("u1", 0, Touch(0)), User("u2", 0, Touch(1))]);
        var s = new Script(m);
        var told = SleepOnToldFault(s);
        s.Do(ActionKind.Complete, 0, FindWork(m, page: 0));
        Assert.Equal(1, m.Vcpu(0).Done);
        s.StepUntil(ModelEventKind.AsyncStarted, 0);
        return (s, told);
    }

    /// <summary>
    /// 5.7: u sleeps on a told fault (page 0), whose page completes while k computes with IF=1; the guest's timer
    /// tick then exits (PREEMPTION_TIMER), and the check would inject the page-ready #PF.
    /// </summary>
    private static (Script, uint) PreemptionTimerExit57()
    {
        var m = Build("kvm-pf", [User("u", 0, Touch(0)), Spinner("k", TaskMode.Kernel, 0)], bounds: new ExternalBounds(0, 1, 0, 0));
        var s = new Script(m);
        var told = SleepOnToldFault(s);
        s.StepTo(MicroOp.Compute, 0);
        s.Do(ActionKind.Complete, 0, FindWork(m, page: 0));
        s.Do(ActionKind.Tick, 0);
        Assert.Equal(RunState.InHost, m.Vcpu(0).Run);
        return (s, told);
    }

    /// <summary>The next user task's access takes a told not-present #PF and it sleeps; returns the fault's token.</summary>
    private static uint SleepOnToldFault(Script s)
    {
        var fault = s.StepUntil(ModelEventKind.AsyncStarted, 0).Find(e => e.Kind == ModelEventKind.AsyncStarted);
        Assert.Equal(1, fault.Aux);
        if (s.Machine.Vcpu(0).Run == RunState.InHost)
        {
            s.Do(ActionKind.Enter, 0);
        }

        s.StepUntil(ModelEventKind.TaskSlept, 0);
        return fault.Token;
    }
}
