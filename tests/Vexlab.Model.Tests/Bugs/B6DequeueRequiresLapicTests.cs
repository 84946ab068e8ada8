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

    /// <summary>
    /// 2f15d027c05f also makes enabling the LAPIC (apic_set_spiv, kvm_lapic_set_base) request
    /// KVM_REQ_APF_READY: the held wake-all is dequeued before the guest runs its next instruction.
    /// </summary>
    [Fact]
    public void WakeAllHeldUntilLapicEnabled_ThenDequeuedAtOnce()
    {
        var s = WakeAllBeforeLapic("true");
        s.Do(ActionKind.Reenable, 0);
        Assert.False(s.IsEnabled(ActionKind.Dequeue, 0, 0));
        var enable = s.Do(ActionKind.Step, 0);
        Assert.Equal(1, s.Machine.Vcpu(0).LapicEnabled);
        Assert.Contains(enable, e => e.Kind == ModelEventKind.ReadyDequeued && e.Token == Model.Machine.Machine.BroadcastToken);
        Assert.Contains(enable, e => e.Kind == ModelEventKind.InterruptRaised);
        Assert.Equal(0, s.Machine.Vcpu(0).Done);
        BugAsserts.AssertFinishedClean(s);
    }

    /// <summary>
    /// The symptom of the bug: the guest's idle HLT exits, kvm_vcpu_has_events sees the stuck done
    /// list, the HLT ends at once and the idle loop halts again, forever (a 100% CPU spin).
    /// </summary>
    [Fact]
    public void StuckDoneList_WakesTheIdleHltForever()
    {
        var s = WakeAllBeforeLapic("false");
        s.Do(ActionKind.Reenable, 0);
        s.StepUntil(ModelEventKind.TaskSlept, vcpu: 0);
        s.CompleteAny();
        for (var round = 0; round < 3; round++)
        {
            s.StepUntil(ModelEventKind.GuestHalted, vcpu: 0);
            Assert.False(s.IsEnabled(ActionKind.Dequeue, 0, 0));
            var wake = s.Do(ActionKind.Unblock, 0);
            Assert.Contains(wake, e => e.Kind == ModelEventKind.Unhalted && e.Aux == 3);
            Assert.Equal(RunState.InGuest, s.Machine.Vcpu(0).Run);
            Assert.Equal(1, s.Machine.Vcpu(0).WokenByCompletion);
        }
    }
}
