using Vexlab.Model.Guest;
using Vexlab.Model.Machine;
using Vexlab.Model.Scripting;
using static Vexlab.Model.Tests.Machine.TestMachines;

namespace Vexlab.Model.Tests.Machine;

/// <summary>
/// kvm_check_async_pf_completion (virt/kvm/async_pf.c, 5.8+) loops while kvm_arch_can_dequeue_async_page_present
/// holds. A completion of a fault the guest was not told of (a kernel fault's artificial halt: no
/// KVM_ASYNC_PF_SEND_ALWAYS since 3a7c8fafd1b4) sends no page-ready and leaves the token slot free, so one call
/// dequeues it and the told fault's completion behind it. Each row is a host path that reaches the loop with that
/// done list, directly or through KVM_REQ_APF_READY, which vcpu_enter_guest serves before the guest runs again.
/// </summary>
public sealed class CompletionLoopTests
{
    public enum HostPath
    {
        AckMsr,
        LapicEnable,
        Rsm,
        ApfReadyRequest,
    }

    [Theory]
    [InlineData("kvm_set_msr_common(MSR_KVM_ASYNC_PF_ACK) calls kvm_check_async_pf_completion (557a961abbe0)", HostPath.AckMsr)]
    [InlineData("apic_set_spiv makes KVM_REQ_APF_READY (2f15d027c05f); vcpu_enter_guest calls kvm_check_async_pf_completion", HostPath.LapicEnable)]
    [InlineData("kvm_post_set_cr0 at RSM makes KVM_REQ_APF_READY (ab4e41eb9fab); vcpu_enter_guest calls kvm_check_async_pf_completion", HostPath.Rsm)]
    [InlineData("kvm_arch_async_page_present_queued makes KVM_REQ_APF_READY and kicks (557a961abbe0); vcpu_enter_guest calls kvm_check_async_pf_completion", HostPath.ApfReadyRequest)]
    public void OneCheck_DequeuesPastACompletionWithoutPageReady(string rule, HostPath path)
    {
        var (s, told) = path switch
        {
            HostPath.AckMsr => BeforeAck(),
            HostPath.LapicEnable => BeforeLapicEnable(),
            HostPath.ApfReadyRequest => BeforeRequest(),
            _ => BeforeSmi(),
        };
        var m = s.Machine;
        Assert.Equal(2, m.Vcpu(0).Done);
        Assert.Equal(0u, m.Vcpu(0).ApfToken);

        var events = path switch
        {
            HostPath.Rsm => s.Do(ActionKind.Smi, 0),
            HostPath.ApfReadyRequest => s.Do(ActionKind.Dequeue, 0, 0),
            _ => s.Do(ActionKind.Step, 0),
        };

        var dequeued = events.FindAll(e => e.Kind == ModelEventKind.ReadyDequeued);
        Assert.True(dequeued.Count == 2, rule);
        Assert.Equal(0, dequeued[0].Aux);
        Assert.Equal(1, dequeued[1].Aux);
        Assert.Equal(0, m.Vcpu(0).Done);
        Assert.Equal(told, m.Vcpu(0).ApfToken);
    }

    /// <summary>
    /// u sleeps on a told fault; k's kernel fault halts the vCPU; k's page completes first, then u's. The LAPIC is
    /// disabled, so nothing is dequeued: the halt ends on the undequeuable done list (kvm_vcpu_has_events), k's retry
    /// maps its page (a minor EPT exit) and e's next step enables the LAPIC.
    /// </summary>
    private static (Script, uint) BeforeLapicEnable()
    {
        var m = Build("kvm-pf-int", [User("u", 0, Touch(1)), Kernel("k", 0, KTouch(0)), Kernel("e", 0, Op(MicroOp.LapicEnable))],
            knobs: [("guest.lapic.enabled_at_apf_enable", "false")]);
        var s = new Script(m);
        var told = CompleteHaltThenTold(s, SleepThenHalt(s));
        s.Do(ActionKind.Unblock, 0);
        s.StepTo(MicroOp.LapicEnable, 0);
        return (s, told);
    }

    /// <summary>As <see cref="BeforeLapicEnable"/> with the LAPIC on; the SMI comes while the vCPU is halted.</summary>
    private static (Script, uint) BeforeSmi()
    {
        var m = Build("kvm-pf-int", [User("u", 0, Touch(1)), Kernel("k", 0, KTouch(0))], bounds: new ExternalBounds(0, 0, 0, 0, Smis: 1));
        var s = new Script(m);
        return (s, CompleteHaltThenTold(s, SleepThenHalt(s)));
    }

    /// <summary>
    /// As <see cref="BeforeSmi"/> with no SMI: the two completions' requests are served at once, by the checker's
    /// standalone dequeue step (the vCPU kicked out of its halt, then vcpu_enter_guest).
    /// </summary>
    private static (Script, uint) BeforeRequest()
    {
        var m = Build("kvm-pf-int", [User("u", 0, Touch(1)), Kernel("k", 0, KTouch(0))]);
        var s = new Script(m);
        return (s, CompleteHaltThenTold(s, SleepThenHalt(s)));
    }

    /// <summary>
    /// u1 and u2 sleep on told faults and k's kernel fault halts the vCPU. u1's page-ready is dequeued (it ends the
    /// halt); the guest's sysvec_kvm_asyncpf_interrupt runs up to its MSR_KVM_ASYNC_PF_ACK write, the token slot
    /// cleared, while k's page and then u2's complete.
    /// </summary>
    private static (Script, uint) BeforeAck()
    {
        var m = Build("kvm-pf-int", [User("u1", 0, Touch(1)), User("u2", 0, Touch(2)), Kernel("k", 0, KTouch(0))], absentCount: 3);
        var s = new Script(m);
        s.StepUntil(ModelEventKind.TaskSlept, 0);
        var told = SleepThenHalt(s);
        s.Do(ActionKind.Complete, 0, FindWork(m, page: 1));
        s.Do(ActionKind.Dequeue, 0, 0);
        s.Do(ActionKind.DeliverInterrupt, 0);
        s.StepTo(MicroOp.WrmsrApfAck, 0);
        CompleteHaltThenTold(s, told);
        return (s, told.Token);
    }

    /// <summary>
    /// The next user task's access takes a told not-present #PF and it sleeps; k's kernel access then halts the
    /// vCPU (not told). Returns the told fault's token and page.
    /// </summary>
    private static (uint Token, int Page) SleepThenHalt(Script s)
    {
        var fault = s.StepUntil(ModelEventKind.AsyncStarted, 0).Find(e => e.Kind == ModelEventKind.AsyncStarted);
        Assert.Equal(1, fault.Aux);
        s.StepUntil(ModelEventKind.TaskSlept, 0);
        s.StepUntil(ModelEventKind.ArtificialHalt, 0);
        Assert.Equal(RunState.HostHalted, s.Machine.Vcpu(0).Run);
        return (fault.Token, fault.Page);
    }

    /// <summary>k's page completes (page 0), then the told fault's: the done list the loop meets.</summary>
    private static uint CompleteHaltThenTold(Script s, (uint Token, int Page) told)
    {
        s.Do(ActionKind.Complete, 0, FindWork(s.Machine, page: 0));
        s.Do(ActionKind.Complete, 0, FindWork(s.Machine, told.Page));
        return told.Token;
    }
}
