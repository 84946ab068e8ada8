using Vexlab.Model.Guest;
using Vexlab.Model.Host;
using Vexlab.Model.Machine;
using Vexlab.Model.Protocols;
using Vexlab.Model.Scripting;
using static Vexlab.Model.Tests.Machine.TestMachines;

namespace Vexlab.Model.Tests.Machine;

/// <summary>
/// The interrupt flag while the #PF handler zeroes a fresh page. do_user_addr_fault
/// (arch/x86/mm/fault.c) runs local_irq_enable() before handle_mm_fault() for a fault from user
/// mode, and from kernel mode when the interrupted context had IF=1, so the EPT violation of
/// clear_page() on a host-absent page meets kvm_can_do_async_pf() with IF=1: the host halts the
/// vCPU (kvm-halt, kvm-pf-int: CPL0 is not deliverable) or, under kvm-pf with SEND_ALWAYS, sends a
/// not-present #PF into the #PF handler. The model used to keep IF=0 from the gate to IRET and
/// stalled the vCPU under every KVM protocol.
/// </summary>
public sealed class FreshPageIrqTests
{
    private static Model.Machine.Machine Fresh(string protocol, TaskSpec[] tasks, (string Key, string Value)[]? knobs = null, ExternalBounds? bounds = null)
    {
        var config = new MachineConfig
        {
            Vcpus = 1,
            Pages = 4,
            Tasks = tasks,
            Regions = [new RegionSpec("heap", 0, 2)],
            Protocol = ProtocolCatalog.Create(protocol, knobs?.Select(k => new KeyValuePair<string, string>(k.Key, k.Value))),
            PageGroups = [new PageGroupSpec(0, 2, HostPage.AbsentIo, true, 0, false)],
            Bounds = bounds ?? ExternalBounds.None,
        };
        return new Model.Machine.Machine(config);
    }

    private static TaskSpec[] AllocTouchAndASpinner() =>
        [User("a", 0, new Instr(MicroOp.Alloc, 0, 0), Touch(0)), User("b", 0, Op(MicroOp.Compute))];

    [Theory]
    [InlineData("kvm-halt")]
    [InlineData("kvm-pf-int")]
    public void ZeroingAHostAbsentPage_HaltsTheVcpuWithInterruptsOn(string protocol)
    {
        var m = Fresh(protocol, AllocTouchAndASpinner());
        var s = new Script(m);
        var a = m.WorkloadTask(0);
        var halt = s.StepUntil(ModelEventKind.ArtificialHalt);
        Assert.Contains(halt, e => e.Kind == ModelEventKind.AccessFault && e.Aux == 0 && e.Page == 0);
        Assert.Contains(halt, e => e.Kind == ModelEventKind.AsyncStarted && e.Aux == 0);
        Assert.DoesNotContain(halt, e => e.Kind == ModelEventKind.SyncStall);
        Assert.Equal(1, m.Vcpu(0).If);
        Assert.Equal(2, m.Task(a).Depth);
        Assert.Equal(FrameEvent.PageFault, m.TopFrame(a).Event);

        s.RunToEnd();
        Assert.Equal(GuestOutcome.Finished, m.Outcome);
        Assert.DoesNotContain(s.Events, e => e.Kind == ModelEventKind.SyncStall);
        Assert.Equal(PageFlags.GuestPresent, m.Page(0).Flags & (PageFlags.Fresh | PageFlags.GuestPresent));
    }

    /// <summary>
    /// The halted vCPU takes a tick; the tick's return preempts the task inside its #PF handler
    /// (irqentry_exit with IF=1 and no count), and the other task runs.
    /// </summary>
    [Fact]
    public void KvmPfInt_ATickDuringTheHalt_PreemptsTheTaskInsideItsFaultHandler()
    {
        var m = Fresh("kvm-pf-int", AllocTouchAndASpinner(), bounds: new ExternalBounds(0, 1, 0, 0));
        var s = new Script(m);
        var a = m.WorkloadTask(0);
        var b = m.WorkloadTask(1);
        s.StepUntil(ModelEventKind.ArtificialHalt);
        s.Do(ActionKind.Tick);
        var switched = false;
        for (var i = 0; i < 32 && !switched; i++)
        {
            var next = ActionKind.Step;
            foreach (var kind in new[] { ActionKind.DeliverInterrupt, ActionKind.Enter, ActionKind.Dequeue, ActionKind.Unblock })
            {
                if (s.IsEnabled(kind))
                {
                    next = kind;
                    break;
                }
            }

            switched = s.Do(next).Exists(e => e.Kind == ModelEventKind.ContextSwitch && e.Task == b);
        }

        // preempt_schedule_irq() from the tick's exit: the tick's frame sits on the #PF handler's.
        Assert.True(switched);
        Assert.Equal(3, m.Task(a).Depth);
        Assert.Equal(FrameEvent.PageFault, m.FrameAt(a, 1).Event);
        Assert.Equal(FrameEvent.Interrupt, m.FrameAt(a, 2).Event);
        Assert.Equal(TaskPhase.Runnable, m.Task(a).Status);
    }

    /// <summary>
    /// kvm-pf (5.7, SEND_ALWAYS under CONFIG_PREEMPTION): the not-present #PF lands inside the
    /// #PF handler. clear_highpage() holds kmap_atomic()'s preempt count, so 5.7's
    /// kvm_async_pf_task_wait() sets n.halted (preempt_count() > 1 with the bucket lock) and
    /// halts in native_safe_halt() until the page-ready #PF; nothing else runs meanwhile.
    /// </summary>
    [Fact]
    public void KvmPf_ZeroingAHostAbsentPage_TakesANotPresentPfInsideThePfHandler_AndHalts()
    {
        var m = Fresh("kvm-pf", AllocTouchAndASpinner());
        var s = new Script(m);
        var a = m.WorkloadTask(0);
        var started = s.StepUntil(ModelEventKind.AsyncStarted);
        Assert.Contains(started, e => e.Kind == ModelEventKind.AsyncStarted && e.Aux == 1);
        Assert.DoesNotContain(started, e => e.Kind == ModelEventKind.SyncStall);
        Assert.Equal(1, m.Task(a).PreemptCount);
        s.Do(ActionKind.Enter);
        Assert.Equal(3, m.Task(a).Depth);
        Assert.Equal(FrameEvent.PageFault, m.FrameAt(a, 1).Event);
        Assert.Equal(FrameEvent.AsyncPfNotPresent, m.FrameAt(a, 2).Event);

        var waited = s.StepTo(MicroOp.Hlt);
        Assert.DoesNotContain(waited, e => e.Kind is ModelEventKind.TaskSlept or ModelEventKind.ContextSwitch);
        Assert.Equal(FrameEvent.AsyncPfNotPresent, m.TopFrame(a).Event);

        s.RunToEnd();
        Assert.Equal(GuestOutcome.Finished, m.Outcome);
        Assert.Equal(0, m.Task(a).PreemptCount);
        Assert.Equal(PageFlags.GuestPresent, m.Page(0).Flags & (PageFlags.Fresh | PageFlags.GuestPresent));
        Assert.DoesNotContain(s.Events, e => e.Kind is ModelEventKind.SyncStall or ModelEventKind.PropertyViolated);
    }

    /// <summary>Without CONFIG_PREEMPTION the 5.7 guest does not ask for SEND_ALWAYS: the host halts the vCPU.</summary>
    [Fact]
    public void KvmPf_WithoutPreemption_HaltsTheVcpuInstead()
    {
        var m = Fresh("kvm-pf", AllocTouchAndASpinner(), [("guest.config_preempt", "false")]);
        var s = new Script(m);
        var halt = s.StepUntil(ModelEventKind.ArtificialHalt);
        Assert.Contains(halt, e => e.Kind == ModelEventKind.AsyncStarted && e.Aux == 0);
        s.RunToEnd();
        Assert.Equal(GuestOutcome.Finished, m.Outcome);
        Assert.DoesNotContain(s.Events, e => e.Kind == ModelEventKind.SyncStall);
    }

    /// <summary>A kernel touch with interrupts off keeps them off: the zeroing's fault is still synchronous.</summary>
    [Fact]
    public void KvmPfInt_AKernelTouchWithInterruptsOff_StillStalls()
    {
        var m = Fresh("kvm-pf-int", [Kernel("k", 0, new Instr(MicroOp.Alloc, 0, 0), Op(MicroOp.Cli), KTouch(0, fixup: false), Op(MicroOp.Sti))]);
        var s = new Script(m);
        var stall = s.StepUntil(ModelEventKind.SyncStall);
        Assert.Contains(stall, e => e.Kind == ModelEventKind.AccessFault && e.Aux == 0 && e.Page == 0);
        Assert.Equal(0, m.Vcpu(0).If);
        s.RunToEnd();
        Assert.Equal(GuestOutcome.Finished, m.Outcome);
    }
}
