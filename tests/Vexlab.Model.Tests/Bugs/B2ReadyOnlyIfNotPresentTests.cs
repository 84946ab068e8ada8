using Vexlab.Model.Guest;
using Vexlab.Model.Machine;
using Vexlab.Model.Properties;
using Vexlab.Model.Scripting;
using static Vexlab.Model.Tests.Machine.TestMachines;

namespace Vexlab.Model.Tests.Bugs;

/// <summary>
/// B2, 2a18b7e7cd88 "KVM: async_pf: Inject 'page ready' event only if 'page not present' was
/// previously injected": kvm_arch_async_page_present() notified the guest for a kernel-mode fault
/// the host had handled with the artificial halt; kvm_async_pf_task_wake() found no waiter and
/// left a dummy nobody consumes.
/// </summary>
public sealed class B2ReadyOnlyIfNotPresentTests
{
    private static Script KernelFaultCompleted(string onlyIfDelivered)
    {
        var m = Build("kvm-pf-int", [Kernel("k", 0, KTouch(0))],
            knobs: [("host.apf.ready_only_if_not_present_delivered", onlyIfDelivered)]);
        var s = new Script(m);
        var fault = s.Do(ActionKind.Step, 0);
        Assert.Contains(fault, e => e.Kind == ModelEventKind.AsyncStarted && e.Aux == 0);
        Assert.Contains(fault, e => e.Kind == ModelEventKind.ArtificialHalt);
        s.CompleteAny();
        return s;
    }

    [Fact]
    public void ReadyForUntoldFault_LeavesAStaleDummy()
    {
        var s = KernelFaultCompleted("false");
        var dequeue = s.Do(ActionKind.Dequeue, 0, 0);
        Assert.True(dequeue.Violated(SafetyProperty.ReadyMatchesNotPresent));
        s.Do(ActionKind.DeliverInterrupt, 0);
        s.StepTo(MicroOp.Iret, vcpu: 0);
        Assert.Equal(1, s.Machine.SleepNodeCount());
        s.RunToEnd();
        Assert.Equal(GuestOutcome.Finished, s.Machine.Outcome);
        Assert.True(s.Violated(SafetyProperty.NoStaleDummies));
    }

    [Fact]
    public void NoReadyForUntoldFault_OnlyUnhalts()
    {
        var s = KernelFaultCompleted("true");
        var dequeue = s.Do(ActionKind.Dequeue, 0, 0);
        Assert.Contains(dequeue, e => e.Kind == ModelEventKind.ReadyDequeued && e.Aux == 0);
        Assert.Contains(dequeue, e => e.Kind == ModelEventKind.Unhalted);
        Assert.False(s.IsEnabled(ActionKind.DeliverInterrupt, 0));
        BugAsserts.AssertFinishedClean(s);
    }
}
