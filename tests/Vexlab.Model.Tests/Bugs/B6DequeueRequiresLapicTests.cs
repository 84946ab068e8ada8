using Vexlab.Model.Guest;
using Vexlab.Model.Machine;
using Vexlab.Model.Scripting;
using static Vexlab.Model.Tests.Machine.TestMachines;

namespace Vexlab.Model.Tests.Bugs;

/// <summary>
/// B6, 2f15d027c05f "KVM: x86: Properly handle APF vs disabled LAPIC situation":
/// kvm_arch_can_dequeue_async_page_present() did not check kvm_lapic_enabled(); the wake-all
/// queued when the guest enabled APF wrote ~0 into the slot, kvm_apic_set_irq() dropped the
/// interrupt on the software-disabled LAPIC, the slot was never cleared and every later
/// page-ready stayed queued.
/// </summary>
public sealed class B6DequeueRequiresLapicTests
{
    private static Script WakeAllBeforeLapic(string requireLapic)
    {
        var m = Build("kvm-pf-int", [User("a", 0, Op(MicroOp.LapicEnable), Touch(0))],
            knobs: [("host.apf.dequeue_requires_lapic_enabled", requireLapic), ("guest.lapic.enabled_at_apf_enable", "false")],
            bounds: new ExternalBounds(0, 0, 0, 1));
        var s = new Script(m);
        Assert.Equal(0, s.Machine.Vcpu(0).LapicEnabled);
        return s;
    }

    [Fact]
    public void WakeAllDequeuedOnDisabledLapic_SlotStuckForever()
    {
        var s = WakeAllBeforeLapic("false");

        // The MSR restore queues the wake-all; it is dequeued at the first entry, LAPIC or not.
        var reenable = s.Do(ActionKind.Reenable, 0);
        Assert.Contains(reenable, e => e.Kind == ModelEventKind.InterruptDropped);
        Assert.Equal(Model.Machine.Machine.BroadcastToken, s.Machine.Vcpu(0).ApfToken);

        // The guest enables its LAPIC, faults and sleeps; its page-ready can never be dequeued.
        s.StepUntil(ModelEventKind.TaskSlept, vcpu: 0);
        s.CompleteAny();
        Assert.False(s.IsEnabled(ActionKind.Dequeue, 0, 0));
        s.RunToEnd();
        Assert.Equal(GuestOutcome.Running, s.Machine.Outcome);
        Assert.Equal(TaskPhase.Sleeping, s.Machine.Task(s.Machine.WorkloadTask(0)).Status);
        Assert.False(s.IsEnabled(ActionKind.Dequeue, 0, 0));
    }

    [Fact]
    public void WakeAllHeldUntilLapicEnabled()
    {
        var s = WakeAllBeforeLapic("true");
        s.Do(ActionKind.Reenable, 0);
        Assert.False(s.IsEnabled(ActionKind.Dequeue, 0, 0));
        s.Do(ActionKind.Step, 0);
        Assert.Equal(1, s.Machine.Vcpu(0).LapicEnabled);
        var dequeue = s.Do(ActionKind.Dequeue, 0, 0);
        Assert.Contains(dequeue, e => e.Kind == ModelEventKind.InterruptRaised);
        BugAsserts.AssertFinishedClean(s);
    }
}
