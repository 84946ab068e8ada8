using Vexlab.Model.Guest;
using Vexlab.Model.Machine;
using Vexlab.Model.Properties;
using Vexlab.Model.Scripting;
using static Vexlab.Model.Tests.Machine.TestMachines;

namespace Vexlab.Model.Tests.Bugs;

/// <summary>
/// B8, 0547758a6de3 "x86/kvm: Alloc dummy async #PF token outside of raw spinlock":
/// kvm_async_pf_task_wake() drops the bucket lock to allocate the dummy; the first proposed fix
/// inserted it without looking the token up again, so a waiter that queued itself meanwhile
/// ends up next to a dummy for the same token and is never woken. The merged fix re-checks
/// (goto again).
/// </summary>
public sealed class B8RecheckBeforeDummyInsertTests
{
    private static Script WaiterQueuesWhileLockDropped(string recheck)
    {
        var m = Build("kvm-pf-int", [User("a", 0, Touch(0))], vcpus: 2,
            knobs: [("guest.apf.recheck_before_dummy_insert", recheck), ("host.apf.ready_target", "any")]);
        var s = new Script(m);
        s.StepUntil(ModelEventKind.GuestHalted, vcpu: 1);
        s.Do(ActionKind.Step, 0);
        s.StepTo(MicroOp.ApfQueueTask, vcpu: 0);

        // Page-ready on vCPU1: the lookup misses and the lock is dropped for the allocation.
        s.CompleteAny();
        s.Do(ActionKind.Dequeue, vcpu: 1, arg: 0);
        s.Do(ActionKind.DeliverInterrupt, vcpu: 1);
        s.StepTo(MicroOp.ApfAllocDummy, vcpu: 1);
        s.Do(ActionKind.Step, 1);

        // Meanwhile the faulting task hashes its node.
        s.Do(ActionKind.Step, 0);
        Assert.Equal(1, s.Machine.SleepNodeCount());
        Assert.Equal(MicroOp.ApfWakeInsert, s.Machine.NextInstr(1).Op);
        return s;
    }

    [Fact]
    public void BlindInsert_TwoNodesForOneToken_WaiterNeverWoken()
    {
        var s = WaiterQueuesWhileLockDropped("false");
        var insert = s.Do(ActionKind.Step, 1);
        Assert.True(insert.Violated(SafetyProperty.OneNodePerToken));
        Assert.Equal(2, s.Machine.SleepNodeCount());
        s.StepTo(MicroOp.SleepSchedule, vcpu: 0);
        s.Do(ActionKind.Step, 0);
        BugAsserts.AssertSleepsForever(s, s.Machine.WorkloadTask(0));
    }

    [Fact]
    public void Recheck_FindsTheWaiterAndWakesIt()
    {
        var s = WaiterQueuesWhileLockDropped("true");
        var insert = s.Do(ActionKind.Step, 1);
        Assert.Contains(insert, e => e.Kind == ModelEventKind.TaskWoken);
        Assert.Equal(0, s.Machine.SleepNodeCount());
        BugAsserts.AssertFinishedClean(s);
    }
}
