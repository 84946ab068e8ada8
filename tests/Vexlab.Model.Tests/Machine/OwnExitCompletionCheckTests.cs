using Vexlab.Model.Arch;
using Vexlab.Model.Guest;
using Vexlab.Model.Machine;
using Vexlab.Model.Scripting;
using static Vexlab.Model.Tests.Machine.TestMachines;

namespace Vexlab.Model.Tests.Machine;

/// <summary>
/// The 5.7 host (kvm-pf) checks completions after every exit it handles: vcpu_run calls kvm_check_async_pf_completion
/// after each vcpu_enter_guest that returns 1, before the next entry, and 5.7's async_pf_execute only adds to the done
/// list (KVM_REQ_APF_READY and the kick came with 557a961abbe0, 5.8). An interrupt or NMI raised for a vCPU in guest
/// mode exits it (__apic_accept_irq: kvm_vcpu_kick; a vPMU NMI is a host NMI's EXCEPTION_NMI exit), and one the guest
/// could not take gets in only through an exit (without APICv: the interrupt or NMI window KVM asked for). So where a
/// completion waits and kvm_arch_can_inject_async_page_present (kvm_can_do_async_pf: IF=1, no shadow, nothing pending)
/// holds, the page-ready #PF is queued after that exit and inject_pending_event injects it first: the interrupt then
/// waits for IF=1 (enable_irq_window), the NMI for the NMI window (vmx_enable_nmi_window), which opens at the #PF
/// handler's first instruction since #PF delivery does not block NMIs. The model used to deliver the interrupt or NMI
/// first, with the completion still on the done list.
/// </summary>
public sealed class OwnExitCompletionCheckTests
{
    public enum Exit
    {
        /// <summary>An NMI raised for the vCPU while a user task computes (RaiseNmi).</summary>
        NmiKick,

        /// <summary>A reschedule interrupt raised for the vCPU while a user task computes (a blocked task's wake).</summary>
        InterruptKick,

        /// <summary>cli; the reschedule interrupt is raised; sti; the instruction after it ends the shadow.</summary>
        InterruptWindow,

        /// <summary>A second NMI raised inside the first one's handler; the handler's IRET ends NMI blocking.</summary>
        NmiWindow,
    }

    [Theory]
    [InlineData("__apic_accept_irq(APIC_DM_NMI): kvm_inject_nmi, kvm_vcpu_kick; vcpu_run checks completions after the exit", Exit.NmiKick, "ExceptionNmi")]
    [InlineData("__apic_accept_irq: kvm_lapic_set_irr, KVM_REQ_EVENT, kvm_vcpu_kick; vcpu_run checks completions after the exit", Exit.InterruptKick, "ExternalInterrupt")]
    [InlineData("enable_irq_window, handle_interrupt_window; vcpu_run checks completions after the exit", Exit.InterruptWindow, "InterruptWindow")]
    [InlineData("vmx_enable_nmi_window, handle_nmi_window; vcpu_run checks completions after the exit", Exit.NmiWindow, "NmiWindow")]
    public void PageReadyGoesFirst_WhereTheExitsCheckInjectsIt(string rule, Exit exit, string reason)
    {
        var (s, exitEvents) = Run(exit, completionWaits: true);
        var m = s.Machine;
        Assert.True(exitEvents.Exists(e => e.Kind == ModelEventKind.VmExit && ((ExitReason)e.Aux).ToString() == reason), rule);
        Assert.Contains(exitEvents, e => e.Kind == ModelEventKind.ReadyDequeued && e.Aux == 1);
        Assert.DoesNotContain(exitEvents, e => e.Kind is ModelEventKind.NmiDelivered or ModelEventKind.InterruptDelivered);
        if (exit == Exit.InterruptKick)
        {
            // The kick is the host's RESCHEDULE_VECTOR IPI (kvm_vcpu_kick -> smp_send_reschedule): the exit carries it.
            Assert.Contains(exitEvents, e => e.Kind == ModelEventKind.VmExit && e.Token == 0xFD);
        }

        // The vCPU is in the host with the page-ready #PF queued, the raised event still pending.
        Assert.Equal(RunState.InHost, m.Vcpu(0).Run);
        Assert.Equal(PendingEvent.PfReady, m.Vcpu(0).Pending);
        Assert.Equal(0, m.Vcpu(0).Done);
        var nmi = exit is Exit.NmiKick or Exit.NmiWindow;
        Assert.True(nmi ? m.Vcpu(0).NmiPending == 1 : (m.Vcpu(0).Irr & (1 << (int)ModelVector.Reschedule)) != 0);

        // inject_pending_event injects the exception, and the event waits: the NMI for its window at the #PF handler's
        // first instruction, the interrupt for IF=1.
        var entry = s.Do(ActionKind.Enter, 0);
        Assert.Contains(entry, e => e.Kind == ModelEventKind.ExceptionDelivered && e.Aux == Vectors.PF);
        Assert.Equal(FrameEvent.AsyncPfReady, m.TopFrame(m.Vcpu(0).CurrentTask).Event);
        Assert.Equal(nmi, s.IsEnabled(ActionKind.DeliverNmi, 0));
        Assert.False(s.IsEnabled(ActionKind.DeliverInterrupt, 0));
        Assert.Equal(!nmi, s.IsEnabled(ActionKind.Step, 0));
    }

    /// <summary>
    /// With nothing on the done list the same exit changes nothing the guest sees: the model leaves it out, and the
    /// event goes in as before (the NMI at once, the interrupt at the vCPU's next boundary).
    /// </summary>
    [Theory]
    [InlineData(Exit.NmiKick)]
    [InlineData(Exit.InterruptKick)]
    [InlineData(Exit.InterruptWindow)]
    [InlineData(Exit.NmiWindow)]
    public void WithNothingToDequeue_TheEventGoesInAsBefore(Exit exit)
    {
        var (s, exitEvents) = Run(exit, completionWaits: false);
        Assert.DoesNotContain(exitEvents, e => e.Kind == ModelEventKind.VmExit);
        Assert.Equal(RunState.InGuest, s.Machine.Vcpu(0).Run);
        if (exit == Exit.NmiKick)
        {
            Assert.Contains(exitEvents, e => e.Kind == ModelEventKind.NmiDelivered);
        }
        else
        {
            Assert.True(s.IsEnabled(exit == Exit.NmiWindow ? ActionKind.DeliverNmi : ActionKind.DeliverInterrupt, 0));
        }
    }

    /// <summary>
    /// Under the 5.8+ host (kvm-pf-int) the same steps change nothing: the completion made KVM_REQ_APF_READY and kicked
    /// the vCPU itself, and its Dequeue step is that exit.
    /// </summary>
    [Theory]
    [InlineData(Exit.NmiKick)]
    [InlineData(Exit.InterruptKick)]
    [InlineData(Exit.InterruptWindow)]
    [InlineData(Exit.NmiWindow)]
    public void The58Host_TakesNoSuchExit(Exit exit)
    {
        var (_, exitEvents) = Run(exit, completionWaits: true, protocol: "kvm-pf-int");
        Assert.DoesNotContain(exitEvents, e => e.Kind == ModelEventKind.VmExit);
    }

    /// <summary>
    /// Brings vCPU 0 to the step the case is about and takes it: task a sleeps on a told not-present #PF for page 0 and
    /// another task runs; with <paramref name="completionWaits"/> a's page comes in first, so its completion waits on
    /// the done list. Returns the script and the events of the step that exits.
    /// </summary>
    private static (Script Script, List<ModelEvent> ExitEvents) Run(Exit exit, bool completionWaits, string protocol = "kvm-pf")
    {
        TaskSpec[] tasks = exit switch
        {
            Exit.InterruptKick => [User("s", 0, new Instr(MicroOp.Block, (byte)BlockKind.Timer, 1)), User("a", 0, Touch(0)), Spinner("c", TaskMode.User, 0)],
            Exit.InterruptWindow => [User("s", 0, new Instr(MicroOp.Block, (byte)BlockKind.Timer, 1)), User("a", 0, Touch(0)),
                Spinner("k", TaskMode.Kernel, 0, Op(MicroOp.Cli), Op(MicroOp.Compute), Op(MicroOp.Sti))],
            _ => [User("a", 0, Touch(0)), Spinner("c", TaskMode.User, 0)],
        };
        var m = Build(protocol, tasks, absentCount: 1, bounds: new ExternalBounds(exit == Exit.NmiWindow ? 2 : 1, 0, 0, 0));
        var s = new Script(m);
        var blocker = exit is Exit.InterruptKick or Exit.InterruptWindow ? m.WorkloadTask(0) : -1;
        var a = m.WorkloadTask(blocker < 0 ? 0 : 1);
        for (var i = 0; i < 64 && m.Task(a).Status != TaskPhase.Sleeping; i++)
        {
            s.Do(s.IsEnabled(ActionKind.Enter) ? ActionKind.Enter : ActionKind.Step);
        }

        Assert.Equal(TaskPhase.Sleeping, m.Task(a).Status);
        Assert.NotEqual(a, m.Vcpu(0).CurrentTask);
        switch (exit)
        {
            case Exit.NmiKick:
                Complete(s, completionWaits);
                return (s, s.Do(ActionKind.RaiseNmi, 0));
            case Exit.InterruptKick:
                Complete(s, completionWaits);
                return (s, s.Do(ActionKind.Wake, 0, blocker));
            case Exit.InterruptWindow:
                s.StepTo(MicroOp.Compute);
                Assert.Equal(0, m.Vcpu(0).If);
                s.Do(ActionKind.Wake, 0, blocker);
                Assert.NotEqual(0, m.Vcpu(0).Irr);
                Complete(s, completionWaits);
                s.Do(ActionKind.Step, 0);
                var sti = s.Do(ActionKind.Step, 0);
                Assert.DoesNotContain(sti, e => e.Kind == ModelEventKind.VmExit);
                Assert.Equal(InterruptShadow.Sti, m.Vcpu(0).Shadow);
                return (s, s.Do(ActionKind.Step, 0));
            default:
                s.Do(ActionKind.RaiseNmi, 0);
                Assert.Equal(1, m.Vcpu(0).NmiBlocked);
                s.Do(ActionKind.RaiseNmi, 0);
                Assert.Equal(1, m.Vcpu(0).NmiPending);
                Complete(s, completionWaits);
                s.StepTo(MicroOp.Iret);
                return (s, s.Do(ActionKind.Step, 0));
        }
    }

    private static void Complete(Script s, bool completionWaits)
    {
        if (completionWaits)
        {
            s.CompleteAny();
            Assert.Equal(1, s.Machine.Vcpu(0).Done);
        }
    }
}
