using Vexlab.Model.Guest;
using Vexlab.Model.Machine;
using Vexlab.Model.Scripting;
using static Vexlab.Model.Tests.Machine.TestMachines;

namespace Vexlab.Model.Tests.Machine;

/// <summary>
/// 5.7's apf_task_wake_one (arch/x86/kernel/kvm.c) breaks a halted waiter's HLT with smp_send_reschedule(n->cpu),
/// with no test of which CPU that is: the page-ready #PF that KVM delivers to the faulting vCPU wakes a waiter halted
/// on that same vCPU with a reschedule IPI to itself. Without APICv its ICR write exits, and the IPI, pending while the
/// #PF handler runs with IF=0, opens an interrupt window at the handler's IRET: two exits after which the 5.7 host
/// checks completions. The model woke a same-CPU halted waiter with no IPI.
/// </summary>
public sealed class HaltedWaiterIpiTests
{
    [Fact]
    public void APageReadyForAWaiterHaltedOnItsOwnVcpu_SendsItTheReschedIpi()
    {
        // A kernel task with preemption off cannot schedule: its not-present #PF waits in the halt loop (n.halted).
        var m = Build("kvm-pf", [Kernel("k", 0, Op(MicroOp.PreemptOff), KTouch(0), Op(MicroOp.PreemptOn))], absentCount: 1);
        var s = new Script(m);
        GuestRunsUntil(s, ModelEventKind.GuestHalted);
        Assert.Equal(m.WorkloadTask(0), m.Vcpu(0).CurrentTask);
        s.CompleteAny();

        List<ModelEvent>? woke = null;
        for (var i = 0; i < 64 && woke is null; i++)
        {
            var kind = new[] { ActionKind.Dequeue, ActionKind.Enter, ActionKind.DeliverInterrupt, ActionKind.Step }.First(k => s.IsEnabled(k));
            var events = s.Do(kind);
            if (events.Exists(e => e.Kind == ModelEventKind.TaskWoken))
            {
                woke = events;
            }
        }

        Assert.NotNull(woke);
        Assert.Contains(woke, e => e.Kind == ModelEventKind.InterruptRaised && e.Vcpu == 0 && e.Aux == (byte)ModelVector.Reschedule);
    }
}
