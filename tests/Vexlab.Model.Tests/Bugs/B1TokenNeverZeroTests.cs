using Vexlab.Model.Guest;
using Vexlab.Model.Machine;
using Vexlab.Model.Scripting;
using static Vexlab.Model.Tests.Machine.TestMachines;

namespace Vexlab.Model.Tests.Bugs;

/// <summary>
/// B1, 6f3c1fc53d86 "KVM: x86/mmu: make apf token non-zero to fix bug": kvm_arch_setup_async_pf()
/// builds token = (apf.id++ &lt;&lt; 12) | vcpu_id, which is 0 for vCPU 0 when the id wraps. Page-ready
/// writes 0 into the slot, so kvm_arch_can_dequeue_async_page_present() (slot == 0) lets the next
/// completion overwrite it before sysvec_kvm_asyncpf_interrupt() read it. alloc_apf_token() skips 0.
/// </summary>
public sealed class B1TokenNeverZeroTests
{
    private static Script TwoWaiters(string neverZero)
    {
        var m = Build("kvm-pf-int", [User("a", 0, Touch(0)), User("b", 0, Touch(1))],
            knobs: [("host.apf.token_never_zero", neverZero), ("host.apf.token_id_bits", "2")]);
        var s = new Script(m);

        // a faults on page 0 and sleeps; b runs, faults on page 1 and sleeps.
        s.StepUntil(ModelEventKind.TaskSlept, vcpu: 0);
        s.StepUntil(ModelEventKind.TaskSlept, vcpu: 0);
        s.StepUntil(ModelEventKind.GuestHalted, vcpu: 0);
        s.Do(ActionKind.Complete, 0, FindWork(s, 0));
        s.Do(ActionKind.Complete, 0, FindWork(s, 1));
        return s;
    }

    private static int FindWork(Script s, int page)
    {
        for (var i = 0; i < s.Machine.WorkCapacity; i++)
        {
            if (s.Machine.Work(i).Kind == Host.WorkKind.Async && s.Machine.Work(i).Page == page)
            {
                return i;
            }
        }

        throw new InvalidOperationException("no work for the page");
    }

    [Fact]
    public void TokenZero_SlotLooksFree_SecondReadyOverwritesIt()
    {
        var s = TwoWaiters("false");
        var a = s.Machine.WorkloadTask(0);
        Assert.Equal(0u, s.Machine.Task(a).WaitToken);

        // ready(0) goes into the slot, which still reads as empty, so kvm_check_async_pf_completion's loop goes on
        // in the same call and the next ready overwrites it before the guest runs.
        var check = s.Do(ActionKind.Dequeue, 0, 0);
        Assert.Equal(2, check.FindAll(e => e.Kind == ModelEventKind.ReadyDequeued).Count);
        Assert.Equal(0x1000u, s.Machine.Vcpu(0).ApfToken);

        // The interrupt reads only 0x1000: b is woken, a sleeps on token 0 forever.
        s.Do(ActionKind.DeliverInterrupt, 0);
        BugAsserts.AssertSleepsForever(s, a);
        Assert.Equal(1u, s.Machine.Task(s.Machine.WorkloadTask(1)).Iterations);
    }

    [Fact]
    public void TokenNeverZero_SlotStaysFullUntilTheGuestAcks()
    {
        var s = TwoWaiters("true");
        Assert.NotEqual(0u, s.Machine.Task(s.Machine.WorkloadTask(0)).WaitToken);
        s.Do(ActionKind.Dequeue, 0, 0);
        Assert.NotEqual(0u, s.Machine.Vcpu(0).ApfToken);
        Assert.False(s.IsEnabled(ActionKind.Dequeue, 0, 0));
        s.Do(ActionKind.DeliverInterrupt, 0);
        s.StepTo(MicroOp.WrmsrApfAck, vcpu: 0);

        // MSR_KVM_ASYNC_PF_ACK runs kvm_check_async_pf_completion: the next ready goes out at once.
        var ack = s.Do(ActionKind.Step, 0);
        Assert.Contains(ack, e => e.Kind == ModelEventKind.ReadyDequeued);
        BugAsserts.AssertFinishedClean(s);
    }
}
