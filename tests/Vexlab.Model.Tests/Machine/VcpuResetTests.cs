using Vexlab.Model.Guest;
using Vexlab.Model.Machine;
using Vexlab.Model.Scripting;
using static Vexlab.Model.Tests.Machine.TestMachines;

namespace Vexlab.Model.Tests.Machine;

/// <summary>
/// INIT to an offline vCPU: kvm_vcpu_reset(init_event=true) (arch/x86/kvm/x86.c) clears
/// apf.msr_en_val, calls kvm_clear_async_pf_completion_queue (virt/kvm/async_pf.c: queued work
/// cancelled, completions freed, nothing notified) and kvm_async_pf_hash_reset, clears
/// apf.halted, and kvm_lapic_reset software-disables the LAPIC; apf.id is not reset. The guest's
/// bring-up then enables the LAPIC and APF, whose kvm_pv_enable_async_pf queues a wake-all.
/// </summary>
public sealed class VcpuResetTests
{
    /// <summary>
    /// vCPU1, its LAPIC software-disabled, holds the migration wake-all on its done list (2f15d027c05f) until its
    /// hotplug thread's kvm_pv_disable_apf frees it unseen (kvm_clear_async_pf_completion_queue); INIT's reset frees
    /// whatever is left. The bring-up's own wake-all follows: dequeued at once by 5.8+ (LAPIC enabled, slot free), at
    /// the next entry by 5.7. INIT needs the offline path first: Linux sends it only to a CPU it took down.
    /// </summary>
    [Theory]
    [InlineData("kvm-pf-int", 0, true)]
    [InlineData("kvm-pf", 1, false)]
    public void KvmVcpuReset_FreesTheDoneList_ThenBringUpQueuesAWakeAll(string protocol, int doneAfter, bool dequeuedAtOnce)
    {
        var m = Build(
            protocol,
            [Kernel("init", 0, Op(MicroOp.LapicEnable)), User("a", 0, Op(MicroOp.Compute)), Kernel("offline", 1, Op(MicroOp.Cli), Op(MicroOp.ApfDisable), Op(MicroOp.Sti))],
            vcpus: 2,
            knobs: [("guest.lapic.enabled_at_apf_enable", "false")],
            bounds: new ExternalBounds(0, 0, 0, 1, Inits: 1));
        var s = new Script(m);
        if (protocol == "kvm-pf-int")
        {
            s.Do(ActionKind.Reenable);
            Assert.Equal(1, m.Vcpu(1).Done);
        }

        Assert.False(s.IsEnabled(ActionKind.Init, 1));
        s.StepUntil(ModelEventKind.TaskExited, vcpu: 1);
        Assert.Equal(0, m.Vcpu(1).Done);
        if (m.Vcpu(1).Run == RunState.InHost)
        {
            // The 5.7 host checks completions on the way back in from the MSR write's exit.
            s.Do(ActionKind.Enter, 1);
        }

        var idBefore = m.Vcpu(1).ApfNextId;
        Assert.True(s.IsEnabled(ActionKind.Init, 1));
        Assert.False(s.IsEnabled(ActionKind.Init, 0));
        var init = s.Do(ActionKind.Init, 1);
        ref readonly var cpu = ref m.Vcpu(1);
        Assert.Equal(1, cpu.LapicEnabled);
        Assert.Equal(1, cpu.ApfEnabled);
        Assert.Equal(0, cpu.ApfHalted);
        Assert.Equal(idBefore, cpu.ApfNextId);
        Assert.Equal(doneAfter, cpu.Done);
        var dequeued = init.Where(e => e.Kind == ModelEventKind.ReadyDequeued).ToList();
        if (dequeuedAtOnce)
        {
            // One broadcast only: the held wake-all was freed, the bring-up's was delivered.
            var d = Assert.Single(dequeued);
            Assert.Equal(Model.Machine.Machine.BroadcastToken, d.Token);
            Assert.Contains(init, e => e.Kind == ModelEventKind.InterruptRaised && e.Aux == (byte)ModelVector.Callback);
        }
        else
        {
            Assert.Empty(dequeued);
        }

        Assert.False(s.IsEnabled(ActionKind.Init, 1));
    }

    /// <summary>A vCPU with a task that has not ended is online: Linux sends it no INIT.</summary>
    [Fact]
    public void Init_OnlyForAnOfflineVcpu()
    {
        var m = Build("kvm-pf-int", [User("a", 0, Touch(0))], bounds: new ExternalBounds(0, 0, 0, 0, Inits: 1));
        var s = new Script(m);
        Assert.False(s.IsEnabled(ActionKind.Init, 0));
        s.RunToEnd();
        Assert.Equal(GuestOutcome.Finished, m.Outcome);
    }

    /// <summary>
    /// Token ids continue after the reset (apf.id is not reset): no token of before can be handed out again. a faults
    /// on vCPU0 and sleeps; vCPU0's hotplug thread takes the CPU down, its apf_task_wake_all wakes a onto vCPU1 (the
    /// lowest active vCPU), where a ends; spinner b on vCPU2 keeps the guest running.
    /// </summary>
    [Fact]
    public void KvmVcpuReset_KeepsApfId()
    {
        var m = Build(
            "kvm-pf-int",
            [User("a", 0, Touch(0)), Kernel("offline", 0, Op(MicroOp.Cli), Op(MicroOp.ApfDisable), Op(MicroOp.Sti)), Spinner("b", TaskMode.User, 2)],
            vcpus: 3,
            bounds: new ExternalBounds(0, 0, 0, 0, Inits: 1));
        var s = new Script(m);
        s.StepUntil(ModelEventKind.TaskSlept);
        s.CompleteAny();
        for (var i = 0; i < 200 && m.Task(m.WorkloadTask(0)).Status != TaskPhase.Exited; i++)
        {
            // vCPU0 and vCPU1, with the smoke tests' preference: dequeue and deliver before stepping.
            var best = s.Enabled().ToArray().Where(a => a.Vcpu < 2 && Script.Preference(a.Kind) < Script.NotPreferred).MinBy(a => Script.Preference(a.Kind));
            s.Do(best.Kind, best.Vcpu, best.Arg);
        }

        Assert.Equal(TaskPhase.Exited, m.Task(m.WorkloadTask(0)).Status);
        s.StepUntil(ModelEventKind.TaskExited, vcpu: 0);
        var id = m.Vcpu(0).ApfNextId;
        Assert.Equal(2u, id);
        Assert.True(s.IsEnabled(ActionKind.Init, 0));
        Assert.False(s.IsEnabled(ActionKind.Init, 1));
        s.Do(ActionKind.Init, 0);
        Assert.Equal(id, m.Vcpu(0).ApfNextId);
        Assert.Equal(1, m.Vcpu(0).ApfEnabled);
    }
}

/// <summary>The load balancer's migration (detach_task, attach_task): runnable user tasks only; the sleep table stays.</summary>
public sealed class MigrateTests
{
    /// <summary>
    /// attach_task's check_preempt_curr: the checker's sink answers yes, as for a wakeup, so a task moved
    /// onto a busy vCPU raises the reschedule there and the next pick may run it before the interrupted
    /// task goes on (the pick offers both). Without that it waited for the destination's next tick or block.
    /// </summary>
    [Fact]
    public void Migrate_OntoABusyVcpu_ReschedulesIt()
    {
        var m = Build("kvm-pf-int", [User("a", 0, Op(MicroOp.Compute)), User("b", 0, Op(MicroOp.Compute)), User("c", 1, Op(MicroOp.Compute), Op(MicroOp.Compute))], vcpus: 2, bounds: new ExternalBounds(0, 0, 0, 0, Migrations: 1));
        var s = new Script(m);
        var b = m.WorkloadTask(1);
        var c = m.WorkloadTask(2);
        s.Do(ActionKind.Step, 1);
        Assert.Equal(c, m.Vcpu(1).CurrentTask);
        var move = s.Do(ActionKind.Migrate, 1, b);
        Assert.Equal(1, m.Vcpu(1).NeedResched);
        Assert.Contains(move, e => e.Kind == ModelEventKind.InterruptRaised && e.Vcpu == 1 && e.Aux == (byte)ModelVector.Reschedule);
    }

    [Fact]
    public void Migrate_MovesARunnableUserTask_AndItsNextFaultUsesTheNewVcpusToken()
    {
        var m = Build("kvm-pf-int", [User("a", 0, Op(MicroOp.Compute)), User("b", 0, Touch(0)), Kernel("k", 0, Op(MicroOp.Compute))], vcpus: 2, bounds: new ExternalBounds(0, 0, 0, 0, Migrations: 1));
        var s = new Script(m);
        var b = m.WorkloadTask(1);
        var k = m.WorkloadTask(2);
        Assert.False(s.IsEnabled(ActionKind.Migrate, 1, m.WorkloadTask(0)));
        Assert.False(s.IsEnabled(ActionKind.Migrate, 1, k));
        Assert.False(s.IsEnabled(ActionKind.Migrate, 0, b));
        var move = s.Do(ActionKind.Migrate, 1, b);
        Assert.Equal(1, m.Task(b).Vcpu);

        // vCPU1's idle loop polls at its top (boot): need_resched with no IPI (set_nr_and_not_polling).
        Assert.Equal(1, m.Vcpu(1).NeedResched);
        Assert.DoesNotContain(move, e => e.Kind == ModelEventKind.InterruptRaised);
        Assert.False(s.IsEnabled(ActionKind.Migrate, 1, k));
        for (var i = 0; i < 32 && m.Vcpu(1).CurrentTask != b; i++)
        {
            // vCPU1's idle loop schedules the pulled task (the kick, or its own schedule()).
            s.Do(s.IsEnabled(ActionKind.DeliverInterrupt, 1) ? ActionKind.DeliverInterrupt : ActionKind.Step, 1);
        }

        Assert.Equal(b, m.Vcpu(1).CurrentTask);
        var fault = new List<ModelEvent>();
        for (var i = 0; i < 32 && !fault.Exists(e => e.Kind == ModelEventKind.AsyncStarted); i++)
        {
            fault.AddRange(s.Do(s.IsEnabled(ActionKind.DeliverInterrupt, 1) ? ActionKind.DeliverInterrupt : ActionKind.Step, 1));
        }

        var started = Assert.Single(fault, e => e.Kind == ModelEventKind.AsyncStarted);
        Assert.Equal(1u, started.Token & 0xFFF);
    }
}
