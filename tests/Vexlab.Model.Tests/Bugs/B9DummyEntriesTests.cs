using Vexlab.Model.Guest;
using Vexlab.Model.Machine;
using Vexlab.Model.Properties;
using Vexlab.Model.Scripting;
using static Vexlab.Model.Tests.Machine.TestMachines;

namespace Vexlab.Model.Tests.Bugs;

/// <summary>
/// B9: the dummy-entry design of arch/x86/kernel/kvm.c (v2.6.38, lkml.org/lkml/2010/1/5/175):
/// kvm_async_pf_task_wake() leaves a dummy when the waiter has not queued itself yet, and
/// kvm_async_pf_queue_task() consumes it. Without dummies a wake that overtakes the wait is lost.
/// </summary>
public sealed class B9DummyEntriesTests
{
    private static Script WakeBeforeWait(string dummies)
    {
        var m = Build("kvm-pf-int", [User("a", 0, Touch(0))], vcpus: 2,
            knobs: [("guest.apf.dummy_entries", dummies), ("host.apf.ready_target", "any")]);
        var s = new Script(m);

        // vCPU1 idles into HLT with interrupts on.
        s.StepUntil(ModelEventKind.GuestHalted, vcpu: 1);

        // vCPU0: the task's access is a not-present #PF; its handler is about to queue itself.
        var fault = s.Do(ActionKind.Step, 0);
        Assert.Contains(fault, e => e.Kind == ModelEventKind.AsyncStarted && e.Aux == 1);
        s.StepTo(MicroOp.ApfQueueTask, vcpu: 0);

        // The page comes in and page-ready is raised on vCPU1 (the ABI allows any vCPU).
        s.CompleteAny();
        s.Do(ActionKind.Dequeue, vcpu: 1, arg: 0);
        s.Do(ActionKind.DeliverInterrupt, vcpu: 1);
        s.StepTo(MicroOp.WrmsrApfAck, vcpu: 1);
        return s;
    }

    [Fact]
    public void WithoutDummies_WakeBeforeWait_IsLost()
    {
        var s = WakeBeforeWait("false");
        Assert.Equal(0, s.Machine.SleepNodeCount());

        // The task queues its node after the wake and sleeps; nothing will wake it.
        s.StepTo(MicroOp.SleepSchedule, vcpu: 0);
        s.Do(ActionKind.Step, 0);
        BugAsserts.AssertSleepsForever(s, s.Machine.WorkloadTask(0));
    }

    [Fact]
    public void WithDummies_WaitConsumesTheDummy()
    {
        var s = WakeBeforeWait("true");
        Assert.Equal(1, s.Machine.SleepNodeCount());

        // kvm_async_pf_queue_task finds the dummy, frees it and returns without sleeping.
        s.Do(ActionKind.Step, 0);
        Assert.Equal(0, s.Machine.SleepNodeCount());
        Assert.Equal(MicroOp.Iret, s.Machine.NextInstr(0).Op);
        BugAsserts.AssertFinishedClean(s);
        Assert.False(s.Violated(SafetyProperty.NoStaleDummies));
    }
}
