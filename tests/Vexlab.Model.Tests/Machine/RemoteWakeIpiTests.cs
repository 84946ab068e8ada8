using Vexlab.Model.Guest;
using Vexlab.Model.Machine;
using Vexlab.Model.Scripting;
using static Vexlab.Model.Tests.Machine.TestMachines;

namespace Vexlab.Model.Tests.Machine;

/// <summary>
/// Which remote wakes send an IPI (kernel/sched/core.c). try_to_wake_up places the task (select_task_rq), then
/// ttwu_queue: a CPU in another LLC gets the task on its wake list, and the list's IPI unless its idle loop polls
/// (ttwu_queue_remote in 5.7, __ttwu_queue_wakelist and set_nr_if_polling since 5.8), whether or not the task
/// will preempt there. A CPU that shares the waker's LLC (cpus_share_cache, 518cd6234178) gets no wake list: the
/// waker enqueues the task (ttwu_do_activate), and only check_preempt_curr's resched_curr may send the reschedule
/// IPI, which it does not when the task does not preempt, when need_resched is set already
/// (test_tsk_need_resched), or when the idle loop polls (set_nr_and_not_polling). guest.sched.shared_llc picks
/// the topology; under the 5.7 host each IPI is an exit after which vcpu_run checks completions, so an IPI the
/// guest never sends must not be modelled.
/// </summary>
public sealed class RemoteWakeIpiTests
{
    /// <summary>
    /// Sleepers s1 and s2 block on vCPU0; vCPU1 runs spinner c. s1 is woken onto vCPU1 first when
    /// <paramref name="needReschedSet"/> (it preempts, and its IPI is left pending), then s2, which preempts c or not
    /// as <paramref name="preempts"/> says. The IPI s2's wake raises on vCPU1 is <paramref name="ipi"/>.
    /// </summary>
    [Theory]
    [InlineData("shared LLC, resched_curr: a wake that preempts sends the IPI", true, true, false, true)]
    [InlineData("shared LLC, check_preempt_curr: a wake that does not preempt sends none", true, false, false, false)]
    [InlineData("shared LLC, resched_curr's test_tsk_need_resched: need_resched already set, no second IPI", true, true, true, false)]
    [InlineData("other LLC, the wake list: a wake that preempts sends its IPI", false, true, false, true)]
    [InlineData("other LLC, the wake list: a wake that does not preempt sends its IPI too", false, false, false, true)]
    [InlineData("other LLC, the wake list: the first wake's IPI still pending, the list not drained (llist_add finds it non-empty), no second", false, true, true, false)]
    public void ARemoteWakeOntoABusyVcpu_SendsAnIpiAsTtwuQueueDoes(string rule, bool sharedLlc, bool preempts, bool needReschedSet, bool ipi)
    {
        var (m, s1, s2) = TwoSleepersAndASpinner(sharedLlc);
        Assert.Equal(m.WorkloadTask(2), m.Vcpu(1).CurrentTask);
        if (needReschedSet)
        {
            var first = Wake(m, s1, preempts: true);
            Assert.Contains(first, e => e.Kind == ModelEventKind.InterruptRaised && e.Vcpu == 1);
            Assert.Equal(1, m.Vcpu(1).NeedResched);
        }

        var events = Wake(m, s2, preempts);
        Assert.Equal(1, m.Task(s2).Vcpu);
        Assert.True(ipi == events.Exists(e => e.Kind == ModelEventKind.InterruptRaised && e.Vcpu == 1), rule);
        Assert.True((preempts || needReschedSet) == (m.Vcpu(1).NeedResched == 1), rule);
    }

    /// <summary>An idle vCPU1 halted in HLT (its loop does not poll there) gets the IPI under either topology: the idle task always yields.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ARemoteWakeOntoAHaltedIdleVcpu_SendsTheIpi(bool sharedLlc)
    {
        var m = Build("sync", [Sleeper("s", 0)], absentCount: 0, vcpus: 2, knobs: [("guest.sched.shared_llc", sharedLlc ? "true" : "false")], bounds: new ExternalBounds(0, 0, 0, 0, Migrations: 1));
        var s = new Script(m);
        s.StepUntil(ModelEventKind.TaskBlocked);
        s.StepTo(MicroOp.Hlt, vcpu: 1);
        s.Do(ActionKind.Step, 1);
        Assert.Equal(RunState.GuestHalt, m.Vcpu(1).Run);
        var events = Wake(m, m.WorkloadTask(0), preempts: false);
        Assert.Contains(events, e => e.Kind == ModelEventKind.InterruptRaised && e.Vcpu == 1 && e.Aux == (byte)ModelVector.Reschedule);
    }

    /// <summary>
    /// attach_task's resched_curr on the CPU that runs the balance: a vCPU's own pull (its tick's periodic balance, or
    /// newidle_balance in its schedule) only sets need_resched there; a move by another CPU's balance (the nohz idle
    /// load balancer's) sends the IPI. A halted vCPU runs no balance, so a pull to it is always another's.
    /// </summary>
    [Theory]
    [InlineData(ActionKind.Pull, 0, false)]
    [InlineData(ActionKind.Migrate, 0, true)]
    [InlineData(ActionKind.Pull, 3, true)]
    public void AVcpusOwnPull_SetsNeedReschedWithoutAnIpi(ActionKind kind, int idleSteps, bool ipi)
    {
        // vCPU 1 runs spinner c, or (idleSteps > 0) only its idle loop, stepped to the HLT.
        TaskSpec[] busy = [Spinner("a", TaskMode.User, 0), Spinner("b", TaskMode.User, 0), Spinner("c", TaskMode.User, 1)];
        var m = Build("kvm-pf-int", idleSteps > 0 ? busy[..2] : busy, absentCount: 0, vcpus: 2, bounds: new ExternalBounds(0, 0, 0, 0, Migrations: 1));
        var s = new Script(m);
        for (var i = 0; i < idleSteps; i++)
        {
            s.Do(ActionKind.Step, 1);
        }

        Assert.Equal(idleSteps > 0 ? RunState.GuestHalt : RunState.InGuest, m.Vcpu(1).Run);

        var b = m.WorkloadTask(1);
        var action = new MachineAction(kind, 1, (ushort)b);
        Assert.True(m.IsEnabled(action));
        var log = default(EventLog);
        m.Apply(action, ref log);
        Assert.Equal(1, (int)m.Task(b).Vcpu);
        Assert.Equal(1, m.Vcpu(1).NeedResched);
        Assert.True(ipi == log.Events.Exists(e => e.Kind == ModelEventKind.InterruptRaised && e.Vcpu == 1), kind.ToString());
    }

    private static (Model.Machine.Machine M, int S1, int S2) TwoSleepersAndASpinner(bool sharedLlc)
    {
        var m = Build(
            "sync",
            [Sleeper("s1", 0), Sleeper("s2", 0), Spinner("c", TaskMode.User, 1)],
            absentCount: 0,
            vcpus: 2,
            knobs: [("guest.sched.shared_llc", sharedLlc ? "true" : "false")],
            bounds: new ExternalBounds(0, 0, 0, 0, Migrations: 2));
        var s = new Script(m);
        s.StepUntil(ModelEventKind.TaskBlocked, vcpu: 0);
        s.StepUntil(ModelEventKind.TaskBlocked, vcpu: 0);
        var s1 = m.WorkloadTask(0);
        var s2 = m.WorkloadTask(1);
        Assert.Equal(TaskPhase.Sleeping, m.Task(s1).Status);
        Assert.Equal(TaskPhase.Sleeping, m.Task(s2).Status);
        return (m, s1, s2);
    }

    private static TaskSpec Sleeper(string name, int vcpu) =>
        User(name, vcpu, new Instr(MicroOp.Block, (byte)BlockKind.Timer, 1), Op(MicroOp.Compute));

    /// <summary>The external wake of <paramref name="t"/> from vCPU0, select_task_rq placing it on vCPU1.</summary>
    private static List<ModelEvent> Wake(Model.Machine.Machine m, int t, bool preempts)
    {
        var sink = new PlacingSink(to: 1, preempts);
        m.Apply(new MachineAction(ActionKind.Wake, 0, (ushort)t), ref sink);
        return sink.Events;
    }

    private struct PlacingSink(int to, bool preempts) : IModelEventSink
    {
        public List<ModelEvent> Events { get; } = [];

        public readonly void On(in ModelEvent e) => Events.Add(e);

        public readonly int PickNextTask(int vcpu, int current, int fallback) => fallback;

        public readonly bool PreemptOnTick(int vcpu, int current) => true;

        public readonly bool PreemptOnWakeup(int vcpu, int woken) => preempts;

        public readonly bool PreemptOnAttach(int vcpu, int moved) => true;

        public readonly int SelectTaskRq(int vcpu, int woken) => to;
    }
}
