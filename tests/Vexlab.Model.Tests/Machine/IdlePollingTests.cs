using Vexlab.Model.Guest;
using Vexlab.Model.Machine;
using Vexlab.Model.Scripting;
using static Vexlab.Model.Tests.Machine.TestMachines;

namespace Vexlab.Model.Tests.Machine;

/// <summary>
/// A task moved or woken onto an idle CPU whose idle loop polls gets no reschedule IPI: resched_curr() calls
/// set_nr_and_not_polling(), and the wake list's send_call_function_single_ipi() set_nr_if_polling(), both of
/// which set TIF_NEED_RESCHED and send nothing while TIF_POLLING_NRFLAG is set. do_idle() sets the flag at its
/// start and again at cpuidle_idle_call()'s exit, and default_idle_call() clears it
/// (current_clr_polling_and_test()) before the HLT. Under the 5.7 host the IPI's exit decides when a waiting
/// page-ready goes in, so an IPI the guest never sends must not be modelled.
/// </summary>
public sealed class IdlePollingTests
{
    /// <summary>
    /// vCPU1 (idle, no task of its own) is driven <paramref name="steps"/> actions, then task b1 is moved onto it
    /// (Migrate, attach_task); with <paramref name="twice"/> b1's move is the IPI that wakes vCPU1 from HLT, and
    /// <paramref name="after"/> more actions later b2 is moved. <paramref name="place"/> is vCPU1's next step at the
    /// last move, where its idle loop <paramref name="polls"/> or not. The move sends the IPI only where the loop does
    /// not poll and need_resched was clear (resched_curr returns at once when it is set: b2 after b1 sends none).
    /// </summary>
    [Theory]
    [InlineData("do_idle's top, as at boot: polls", 0, false, 0, "swapper/1: do_idle: Cli", true)]
    [InlineData("the need_resched test, IRQs off (cpuidle_idle_call's, then current_clr_polling_and_test()): polls", 1, false, 0, "swapper/1: do_idle: SafeHaltSti", true)]
    [InlineData("default_idle_call() cleared the flag: safe_halt's STI is done", 2, false, 0, "swapper/1: do_idle: Hlt", false)]
    [InlineData("halted in HLT, flag clear", 3, false, 0, null, false)]
    [InlineData("the interrupt that ended the HLT is handled: still clear", 3, true, 1, "swapper/1: sysvec_reschedule_ipi: Eoi", false)]
    [InlineData("back from it, before cpuidle_idle_call()'s exit sets the flag", 3, true, 4, "swapper/1: do_idle: SetPolling", false)]
    [InlineData("after cpuidle_idle_call()'s exit, b1 queued: do_idle's while test leaves, IRQs on, polling", 3, true, 5, "swapper/1: do_idle: ClearPolling", true)]
    [InlineData("polling cleared, schedule_idle() next", 3, true, 6, "swapper/1: do_idle: Schedule", false)]
    public void AMoveOntoAnIdleVcpu_SendsTheReschedIpiOnlyWhereItsIdleLoopDoesNotPoll(string rule, int steps, bool twice, int after, string? place, bool polls)
    {
        var m = Build("kvm-pf-int", [Spinner("a", TaskMode.User, 0), Spinner("b1", TaskMode.User, 0), Spinner("b2", TaskMode.User, 0)], absentCount: 0, vcpus: 2, bounds: new ExternalBounds(0, 0, 0, 0, Migrations: 2));
        var s = new Script(m);
        Drive(s, steps);
        if (twice)
        {
            var first = s.Do(ActionKind.Migrate, 1, m.WorkloadTask(1));
            Assert.Contains(first, e => e.Kind == ModelEventKind.InterruptRaised && e.Vcpu == 1);
            Drive(s, after);
        }

        if (place is not null)
        {
            Assert.Equal(place, m.DescribeNext(1));
        }
        else
        {
            Assert.Equal(RunState.GuestHalt, m.Vcpu(1).Run);
        }

        Assert.True(polls == m.IdlePolls(1), rule);
        var needReschedBefore = m.Vcpu(1).NeedResched == 1;
        var move = s.Do(ActionKind.Migrate, 1, m.WorkloadTask(twice ? 2 : 1));
        Assert.Equal(1, m.Vcpu(1).NeedResched);
        var ipi = move.Exists(e => e.Kind == ModelEventKind.InterruptRaised && e.Vcpu == 1 && e.Aux == (byte)ModelVector.Reschedule);
        Assert.True(ipi == (!polls && !needReschedBefore), rule);
    }

    /// <summary>
    /// schedule_idle() returns to do_idle()'s end, which cleared the flag before it; the next do_idle() sets it first.
    /// The idle loop that ran a task starts again there, not at the HLT it would have gone on to.
    /// </summary>
    [Fact]
    public void TheIdleLoopSwitchedBackIn_StartsAtDoIdlesTop()
    {
        var m = Build("kvm-pf-int", [User("c", 0, Op(MicroOp.Compute))], absentCount: 0);
        var s = new Script(m);
        s.StepUntil(ModelEventKind.TaskExited);
        Assert.Equal(0, m.Vcpu(0).CurrentTask);
        Assert.Equal("swapper/0: do_idle: SetPolling", m.DescribeNext(0));
    }

    /// <summary>
    /// A CPU brought up (INIT, then kvm_cpu_online's MSR_KVM_ASYNC_PF_EN write with interrupts off, whose exit the
    /// 5.7 host checks completions at with IF=0) enables interrupts before do_idle, which then sets polling: the
    /// model used to start its idle loop with IF=0 through the first SetPolling and Cli.
    /// </summary>
    [Theory]
    [InlineData("kvm-pf")]
    [InlineData("kvm-pf-int")]
    public void ACpuBroughtUp_EnablesInterruptsBeforeItsIdleLoopPolls(string protocol)
    {
        var m = Build(protocol, [Kernel("offline", 1, Op(MicroOp.Cli), Op(MicroOp.ApfDisable), Op(MicroOp.Sti)), Spinner("b", TaskMode.User, 0)], absentCount: 0, vcpus: 2, bounds: ExternalBounds.None with { Inits = 1 });
        var s = new Script(m);
        s.StepUntil(ModelEventKind.TaskExited, vcpu: 1);
        s.Do(ActionKind.Init, 1);
        if (s.IsEnabled(ActionKind.Enter, 1))
        {
            s.Do(ActionKind.Enter, 1);
        }

        Assert.Equal("swapper/1: do_idle: IrqEnable", m.DescribeNext(1));
        Assert.Equal(0, m.Vcpu(1).If);
        Assert.False(m.IdlePolls(1));
        s.Do(ActionKind.Step, 1);
        Assert.Equal(1, m.Vcpu(1).If);
        Assert.Equal("swapper/1: do_idle: SetPolling", m.DescribeNext(1));
        Assert.False(m.IdlePolls(1));
        if (protocol == "kvm-pf-int")
        {
            // The bring-up's wake-all page-ready interrupt comes in here, before the loop's cli; it used to wait for
            // the STI before the HLT.
            Assert.True(s.IsEnabled(ActionKind.DeliverInterrupt, 1));
            return;
        }

        s.Do(ActionKind.Step, 1);
        Assert.True(m.IdlePolls(1));
    }

    /// <summary>
    /// The loop that finds a task runnable leaves with interrupts on: do_idle()'s while test, with them on, when
    /// need_resched was set before the loop's cli; cpuidle_idle_call()'s, which enables them and returns, when it came
    /// after. Then do_idle() clears polling and calls schedule_idle(). An interrupt (here the tick) is handled on the idle
    /// task in between, and the switch comes after its IRET. The model used to switch at the test itself, with
    /// interrupts off, and before that to disable them for the while test too.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TheIdleLoopLeavingForATask_TakesAnInterruptBeforeItSwitches(bool movedAfterCli)
    {
        var m = Build("kvm-pf-int", [Spinner("a", TaskMode.User, 0), Spinner("b", TaskMode.User, 0)], absentCount: 0, vcpus: 2, bounds: new ExternalBounds(0, 1, 0, 0, Migrations: 1));
        var s = new Script(m);
        Assert.Equal(1, m.Vcpu(1).If);
        if (movedAfterCli)
        {
            s.Do(ActionKind.Step, 1);
            Assert.Equal(0, m.Vcpu(1).If);
        }

        var move = s.Do(ActionKind.Migrate, 1, m.WorkloadTask(1));
        Assert.DoesNotContain(move, e => e.Kind == ModelEventKind.InterruptRaised);
        if (movedAfterCli)
        {
            Assert.Equal("swapper/1: do_idle: IrqEnable", m.DescribeNext(1));
            s.Do(ActionKind.Step, 1);
        }

        Assert.Equal("swapper/1: do_idle: ClearPolling", m.DescribeNext(1));
        Assert.Equal(1, m.Vcpu(1).If);
        Assert.Equal(1, m.Vcpu(1).CurrentTask);
        s.Do(ActionKind.Tick, 1);
        Assert.True(s.IsEnabled(ActionKind.DeliverInterrupt, 1));
        s.Do(ActionKind.DeliverInterrupt, 1);
        Assert.Equal(1, m.Vcpu(1).CurrentTask);
        Assert.StartsWith("swapper/1: sysvec_apic_timer_interrupt", m.DescribeNext(1), StringComparison.Ordinal);
        s.StepTo(MicroOp.Schedule, vcpu: 1);
        Assert.Equal("swapper/1: do_idle: Schedule", m.DescribeNext(1));
        s.Do(ActionKind.Step, 1);
        Assert.Equal(m.WorkloadTask(1), m.Vcpu(1).CurrentTask);
    }

    /// <summary>
    /// A task queued on the polling idle vCPU1 sets need_resched with no IPI, and the balancer takes it back before the
    /// loop schedules: the loop's test still sees need_resched, and schedule_idle() clears it as it picks the idle task
    /// again, so the next task moved there, once vCPU1 halts, sends its IPI. The model's test read only the runqueue,
    /// and the flag stayed set through the HLT: resched_curr() then sent nothing and vCPU1 slept with a task queued.
    /// </summary>
    [Fact]
    public void ATaskTakenAwayBeforeTheIdleLoopSchedules_LeavesNeedReschedClear()
    {
        var m = Build("kvm-pf", [Spinner("a", TaskMode.User, 0), Spinner("b", TaskMode.User, 0)], absentCount: 0, vcpus: 2, bounds: new ExternalBounds(0, 0, 0, 0, Migrations: 3));
        var s = new Script(m);
        var b = m.WorkloadTask(1);
        Assert.DoesNotContain(s.Do(ActionKind.Migrate, 1, b), e => e.Kind == ModelEventKind.InterruptRaised);
        s.Do(ActionKind.Step, 1);
        s.Do(ActionKind.Migrate, 0, b);
        Assert.Equal(1, m.Vcpu(1).NeedResched);
        Assert.Equal("swapper/1: do_idle: Schedule", m.DescribeNext(1));
        s.StepTo(MicroOp.SetPolling, vcpu: 1);
        Assert.Equal(0, m.Vcpu(1).NeedResched);
        s.StepTo(MicroOp.Hlt, vcpu: 1);
        s.Do(ActionKind.Step, 1);
        Assert.Equal(RunState.GuestHalt, m.Vcpu(1).Run);
        var move = s.Do(ActionKind.Migrate, 1, b);
        Assert.Contains(move, e => e.Kind == ModelEventKind.InterruptRaised && e.Vcpu == 1 && e.Aux == (byte)ModelVector.Reschedule);
    }

    /// <summary>
    /// kick_ilb's IPI to the idle load balancer: the 5.7 guest (kvm-pf) sends smp_send_reschedule() whether or not the
    /// idle loop polls; since 90b5363acd47 the kick is the CPU's nohz_csd, smp_call_function_single_async(), whose
    /// send_call_function_single_ipi() sets need_resched on a polling idle loop instead (set_nr_if_polling). Neither sets
    /// need_resched where it sends the IPI.
    /// </summary>
    [Theory]
    [InlineData("kvm-pf", 0, true)]
    [InlineData("kvm-pf-int", 0, false)]
    [InlineData("ve", 0, false)]
    [InlineData("kvm-pf", 3, true)]
    [InlineData("kvm-pf-int", 3, true)]
    public void TheNohzKick_SendsItsIpiAsTheGuestsKickIlbDoes(string protocol, int steps, bool ipi)
    {
        var m = Build(protocol, [Spinner("a", TaskMode.User, 0)], absentCount: 0, vcpus: 2);
        var s = new Script(m);
        Drive(s, steps);
        var polls = m.IdlePolls(1);
        Assert.Equal(steps == 0, polls);
        // The timed driver's action: enabled on an idle vCPU only, and never listed for the checker.
        Assert.False(m.IsEnabled(new MachineAction(ActionKind.KickIlb, 0, 0)));
        var action = new MachineAction(ActionKind.KickIlb, 1, 0);
        Assert.True(m.IsEnabled(action));
        Assert.False(s.IsEnabled(ActionKind.KickIlb, 1));
        var log = default(EventLog);
        m.Apply(action, ref log);
        var kick = log.Events;
        Assert.True(ipi == kick.Exists(e => e.Kind == ModelEventKind.InterruptRaised && e.Vcpu == 1 && e.Aux == (byte)ModelVector.Reschedule), protocol);
        Assert.Equal(ipi ? 0 : 1, m.Vcpu(1).NeedResched);
    }

    private static void Drive(Script s, int actions)
    {
        for (var i = 0; i < actions; i++)
        {
            s.Do(s.IsEnabled(ActionKind.DeliverInterrupt, 1) ? ActionKind.DeliverInterrupt : s.IsEnabled(ActionKind.Enter, 1) ? ActionKind.Enter : ActionKind.Step, 1);
        }
    }
}
