using Vexlab.Model.Machine;
using Vexlab.Model.Scripting;
using static Vexlab.Model.Tests.Machine.TestMachines;

namespace Vexlab.Model.Tests.Machine;

/// <summary>
/// A vCPU blocked in the host (KVM's artificial halt, or a guest HLT that exits) with its tick pending and a
/// completion it can take: the woken thread checks completions before it injects anything. 5.7's vcpu_run calls
/// kvm_check_async_pf_completion after vcpu_block returns, before the next vcpu_enter_guest; 5.8+'s
/// vcpu_enter_guest serves KVM_REQ_APF_READY (557a961abbe0) before kvm_check_and_inject_events. The model used to
/// let the timer end the halt first, a schedule none of those paths runs. A vCPU halted in the guest
/// (host.hlt_in_guest, KVM_X86_DISABLE_EXITS_HLT) takes the interrupt in guest mode: no check comes first.
/// </summary>
public sealed class HaltWakeCompletionCheckTests
{
    [Theory]
    [InlineData("kvm-halt: the artificial halt (guest without APF), vcpu_block returns, vcpu_run checks first", "kvm-halt", true, false)]
    [InlineData("kvm-pf: the artificial halt of a repeated fault, vcpu_run checks first", "kvm-pf", true, false)]
    [InlineData("kvm-pf: the idle task's HLT exits, vcpu_run checks first", "kvm-pf", false, false)]
    [InlineData("kvm-pf-int: the artificial halt, vcpu_enter_guest serves KVM_REQ_APF_READY first", "kvm-pf-int", true, false)]
    [InlineData("kvm-pf-int: the idle task's HLT exits, vcpu_enter_guest serves KVM_REQ_APF_READY first", "kvm-pf-int", false, false)]
    [InlineData("kvm-pf-int with host.hlt_in_guest: HLT is in guest mode, the interrupt is taken there", "kvm-pf-int", false, true)]
    public void TheTimerDoesNotEndAHaltInTheHost_BeforeTheCompletionCheck(string rule, string protocol, bool artificialHalt, bool hltInGuest)
    {
        // kvm-halt's guest knows no APF: its one task's access halts the vCPU in the host. Under the PV protocols a
        // second access to the gfn a sleeping task waits on is the repeated fault that halts it (KVM_REQ_APF_HALT);
        // with one task, the idle task's HLT.
        TaskSpec[] tasks = protocol == "kvm-halt" || !artificialHalt
            ? [User("a", 0, Touch(0))]
            : [User("a", 0, Touch(0)), User("b", 0, Touch(0))];
        var m = Build(protocol, tasks, knobs: [("host.hlt_in_guest", hltInGuest ? "true" : "false")], bounds: new ExternalBounds(0, 1, 0, 0));
        var s = new Script(m);
        if (protocol != "kvm-halt")
        {
            GuestRunsUntil(s, ModelEventKind.TaskSlept);
        }

        GuestRunsUntil(s, artificialHalt ? ModelEventKind.ArtificialHalt : ModelEventKind.GuestHalted);
        s.Do(ActionKind.Tick, 0);
        s.CompleteAny();
        Assert.Equal(1, m.Vcpu(0).Done);

        if (hltInGuest)
        {
            Assert.Equal(RunState.GuestHalt, m.Vcpu(0).Run);
            Assert.True(s.IsEnabled(ActionKind.DeliverInterrupt, 0), rule);
            return;
        }

        Assert.True(s.IsEnabled(ActionKind.Dequeue, 0, 0), rule);
        Assert.False(s.IsEnabled(ActionKind.DeliverInterrupt, 0), rule);

        // Once the check has run, the tick is taken as before: at the entry, or at once in guest mode.
        s.Do(ActionKind.Dequeue, 0, 0);
        if (s.IsEnabled(ActionKind.Enter, 0))
        {
            s.Do(ActionKind.Enter, 0);
        }

        Assert.NotEqual(0, m.Vcpu(0).Irr & (1 << (int)ModelVector.Timer));
    }
}
