using Vexlab.Model.Guest;
using Vexlab.Model.Properties;
using Vexlab.Model.Protocols;

namespace Vexlab.Model.Machine;

/// <summary>The guest scheduler, the APF sleep table and the #VE design's completions.</summary>
public sealed partial class Machine
{
    /// <summary>A runnable workload task on vCPU v other than t (round robin after t), or -1.</summary>
    private int OtherRunnable(int v, int t)
    {
        var workload = _tasks - _vcpus;
        if (workload == 0)
        {
            return -1;
        }

        var start = t >= _vcpus ? t - _vcpus : workload - 1;
        for (var k = 1; k <= workload; k++)
        {
            var candidate = _vcpus + ((start + k) % workload);
            if (candidate == t)
            {
                continue;
            }

            ref var task = ref TaskRef(candidate);
            if (task.Vcpu == v && task.Status == TaskPhase.Runnable)
            {
                return candidate;
            }
        }

        return -1;
    }

    /// <summary>schedule(): the current task sleeps if it set TASK_UNINTERRUPTIBLE and no wake came; pick the next.</summary>
    private void Schedule<TSink>(int v, bool sleeping, ref TSink sink)
        where TSink : IModelEventSink
    {
        ref var cpu = ref VcpuRef(v);
        var t = (int)cpu.CurrentTask;
        ref var task = ref TaskRef(t);
        if (sleeping && task.Uninterruptible == 1)
        {
            task.Status = TaskPhase.Sleeping;
            sink.On(new ModelEvent(ModelEventKind.TaskSlept, (byte)v, (byte)t, 0, 0, -1));
        }
        else if (task.Status == TaskPhase.Running)
        {
            task.Status = TaskPhase.Runnable;
        }

        var next = OtherRunnable(v, t);
        if (next < 0)
        {
            next = task.Status == TaskPhase.Runnable ? t : v;
        }

        // pick_next_task is the driver's policy; only a runnable task of this vCPU may be picked.
        var picked = sink.PickNextTask(v, t, next);
        if (picked != next && picked >= _vcpus && picked < _tasks
            && TaskRef(picked).Vcpu == v && TaskRef(picked).Status == TaskPhase.Runnable)
        {
            next = picked;
        }

        cpu.NeedResched = 0;
        if (next == t)
        {
            task.Status = TaskPhase.Running;
            return;
        }

        task.SavedIf = cpu.If;
        cpu.CurrentTask = (byte)next;
        ref var n = ref TaskRef(next);
        n.Status = TaskPhase.Running;
        cpu.If = n.SavedIf;
        cpu.Shadow = Arch.InterruptShadow.None;
        sink.On(new ModelEvent(ModelEventKind.ContextSwitch, (byte)v, (byte)next, (byte)t, 0, -1));
    }

    private void SleepSchedule<TSink>(int v, int t, ref TSink sink)
        where TSink : IModelEventSink
    {
        ref var task = ref TaskRef(t);
        if (task.Uninterruptible == 1 && (IsIdle(t) || task.PreemptCount > 0 || task.RcuDepth > 0 || !InTaskContext(t, task.Depth - 1)))
        {
            // might_sleep(): sleeping here would hang the CPU or corrupt the interrupted context.
            Violated(SafetyProperty.NoSleepInAtomic, v, t, ref sink);
            Die(v, t, PanicReason.SleepInAtomic, ref sink);
            return;
        }

        Schedule(v, true, ref sink);
    }

    /// <summary>A task ended (exit or fatal signal): run something else, and see if the guest is done.</summary>
    private void EndTask<TSink>(int v, int t, ref TSink sink)
        where TSink : IModelEventSink
    {
        ref var task = ref TaskRef(t);
        for (var d = 0; d < task.Depth; d++)
        {
            FrameRef(t, d) = default;
        }

        task.Depth = 0;
        if (t >= _vcpus && _takesCpuDown[HandlerProgram.Count + t - _vcpus] && VcpuRef(v).Inactive == 1)
        {
            CpuDying(v, ref sink);
        }

        Schedule(v, false, ref sink);
        for (var i = _vcpus; i < _tasks; i++)
        {
            if (TaskRef(i).Status is not (TaskPhase.Exited or TaskPhase.Killed))
            {
                return;
            }
        }

        for (var i = 0; i < _sleepCapacity; i++)
        {
            if (SleepRef(i).Used == 1)
            {
                Violated(SafetyProperty.NoStaleDummies, v, t, ref sink);
                break;
            }
        }

        GlobalsRef.Outcome = GuestOutcome.Finished;
    }

    private int FindNode(uint token)
    {
        for (var i = 0; i < _sleepCapacity; i++)
        {
            ref var n = ref SleepRef(i);
            if (n.Used == 1 && n.Token == token)
            {
                return i;
            }
        }

        return -1;
    }

    private int FindNodeOfTask(int t)
    {
        for (var i = 0; i < _sleepCapacity; i++)
        {
            ref var n = ref SleepRef(i);
            if (n.Used == 1 && n.Dummy == 0 && n.Task == t)
            {
                return i;
            }
        }

        return -1;
    }

    private void RemoveNodesOfTask(int t)
    {
        var i = FindNodeOfTask(t);
        if (i >= 0)
        {
            SleepRef(i) = default;
        }
    }

    /// <summary>
    /// apf_task_wake_one's hlist_del_init of a dummy, which nothing frees: the node leaves the table (it is never
    /// found again) and the leak is counted, up to <see cref="LeakedDummiesCounted"/>.
    /// </summary>
    private void LeakDummy(int index)
    {
        SleepRef(index) = default;
        ref var g = ref GlobalsRef;
        if (g.LeakedDummies < LeakedDummiesCounted)
        {
            g.LeakedDummies++;
        }
    }

    private void InsertNode(SleepNode node)
    {
        for (var i = 0; i < _sleepCapacity; i++)
        {
            if (SleepRef(i).Used == 0)
            {
                SleepRef(i) = node;
                return;
            }
        }

        throw new InvalidOperationException("APF sleep table full");
    }

    /// <summary>kvm_async_pf_queue_task: consume the dummy of a wake that came first, or hash our node.</summary>
    private void ApfQueueTask<TSink>(int v, int t, ref Frame f, ref TSink sink)
        where TSink : IModelEventSink
    {
        var token = f.R0;
        var existing = FindNode(token);
        if (existing >= 0 && SleepRef(existing).Dummy == 1)
        {
            TaskRef(t).CompletionStatus = SleepRef(existing).Task;
            SleepRef(existing) = default;
            f.Aux = 1;
            f.R1 = TaskRef(t).CompletionStatus != 0 ? ErrorStatus : 0;
            TaskRef(t).CompletionStatus = 0;
            return;
        }

        if (existing >= 0)
        {
            // _find_apf_task matches the token alone, so the kernel takes the other task's node for
            // a dummy: hlist_del, then kfree of an address on that task's stack. That is an oops, not
            // a second node; a search that went on with two nodes would find lassos no kernel runs.
            Violated(SafetyProperty.OneNodePerToken, v, t, ref sink);
            Die(v, t, PanicReason.ApfTokenCollision, ref sink);
            return;
        }

        InsertNode(new SleepNode { Used = 1, Dummy = 0, Task = (byte)t, Cpu = (byte)v, Token = token });
        TaskRef(t).WaitToken = token;
        f.Aux = 0;
    }

    /// <summary>
    /// kvm_async_pf_task_wake, up to the lock drop: wake-all, wake one, or (no dummies) drop it. With
    /// <paramref name="insertUnderLock"/> (the 5.7 guest, before 0547758a6de3) a missing token's dummy is
    /// allocated and hashed under the same lock, in this step.
    /// </summary>
    private void ApfWakeLookup<TSink>(int v, bool insertUnderLock, ref Frame f, ref TSink sink)
        where TSink : IModelEventSink
    {
        var token = f.R0;
        if (token == BroadcastToken)
        {
            // apf_task_wake_all: every node of this CPU, dummies included.
            for (var i = 0; i < _sleepCapacity; i++)
            {
                ref var n = ref SleepRef(i);
                if (n.Used == 1 && n.Cpu == v && n.Dummy == 1)
                {
                    // apf_task_wake_one unhashes without kfree: the dummy leaks.
                    LeakDummy(i);
                }
                else if (n.Used == 1 && n.Cpu == v)
                {
                    WakeNode(v, i, false, ref sink);
                }
            }

            f.Aux = 1;
            return;
        }

        var found = FindNode(token);
        if (found >= 0)
        {
            WakeNode(v, found, f.R1 == 1, ref sink);
            f.Aux = 1;
            return;
        }

        // Without dummy entries (before 2.6.38's design) a wake that comes first is lost.
        f.Aux = _guest.DummyEntries ? (byte)0 : (byte)1;
        if (insertUnderLock && _guest.DummyEntries)
        {
            InsertDummy(v, token, f.R1 == 1);
            f.Aux = 1;
        }
    }

    /// <summary>After the allocation: re-look-up (0547758a6de3's goto again) or insert the dummy blindly.</summary>
    private void ApfWakeInsert<TSink>(int v, ref Frame f, ref TSink sink)
        where TSink : IModelEventSink
    {
        var token = f.R0;
        var found = FindNode(token);
        if (found >= 0 && _guest.RecheckBeforeDummyInsert)
        {
            WakeNode(v, found, f.R1 == 1, ref sink);
            return;
        }

        if (found >= 0)
        {
            Violated(SafetyProperty.OneNodePerToken, v, VcpuRef(v).CurrentTask, ref sink);
        }

        InsertDummy(v, token, f.R1 == 1);
    }

    /// <summary>A dummy node for <paramref name="token"/> (a wake that came before its wait); Task carries the error status.</summary>
    private void InsertDummy(int v, uint token, bool error) =>
        InsertNode(new SleepNode { Used = 1, Dummy = 1, Task = error ? (byte)1 : (byte)0, Cpu = (byte)v, Token = token });

    /// <summary>
    /// The load balancer may move task <paramref name="t"/> to vCPU <paramref name="v"/>: a
    /// workload user task waiting on another vCPU's runqueue (not running, not asleep). Per-CPU
    /// kernel threads stay bound. The APF sleep table is global, so nothing there moves with it.
    /// </summary>
    private bool CanMigrate(int t, int v)
    {
        if (t < _vcpus)
        {
            return false;
        }

        // The load balancer works on sched domains, which hold active CPUs only
        // (sched_cpu_deactivate -> cpuset_cpu_inactive rebuilds them): nothing is pulled to an inactive one.
        ref var task = ref TaskRef(t);
        return task.Status == TaskPhase.Runnable && task.Vcpu != v && VcpuRef(v).Inactive == 0
            && task.Depth > 0 && FrameRef(t, 0).User == 1;
    }

    /// <summary>
    /// select_task_rq may put sleeping task <paramref name="t"/> on vCPU <paramref name="v"/> as it
    /// wakes: a workload user task (per-CPU kernel threads stay bound), within the move budget.
    /// </summary>
    private bool CanPlaceOnWake(int t, int v)
    {
        ref var task = ref TaskRef(t);
        return t >= _vcpus && v >= 0 && v < _vcpus && v != task.Vcpu && GlobalsRef.MigrateBudget > 0
            && task.Depth > 0 && FrameRef(t, 0).User == 1;
    }

    /// <summary>
    /// select_fallback_rq for a user task whose CPU is inactive: the first allowed active CPU of the
    /// node in CPU order (for_each_cpu over cpumask_of_node), so with the model's one node and
    /// unrestricted affinity the lowest-numbered active vCPU; -1 when none is active (Linux never
    /// takes its last CPU down, so only a one-vCPU model that disables APF gets here).
    /// select_task_rq_fair asks first, and for this wake it answers the task's own CPU: the waker is
    /// the going-down CPU's hotplug thread, a per-CPU kthread on the task's previous CPU, which
    /// select_idle_sibling lets the task stack with (52262ee567ad); since 6.10 the inactive CPU has
    /// no sched domain at all (cpuset rebuilds them synchronously, 2125c0034c5d), and
    /// select_idle_sibling returns the target. Only on older kernels, with more tasks runnable on
    /// the going-down CPU, could it pick an idle sibling instead; the model does not take that answer.
    /// </summary>
    private int FallbackVcpu()
    {
        for (var u = 0; u < _vcpus; u++)
        {
            if (VcpuRef(u).Inactive == 0)
            {
                return u;
            }
        }

        return -1;
    }

    /// <summary>
    /// detach_task and attach_task: the task now runs on vCPU v. attach_task's check_preempt_curr
    /// (wakeup_preempt since 6.8) kicks an idle v, and a busy one when the policy says the moved
    /// task preempts (resched_curr: a reschedule IPI to another CPU).
    /// <paramref name="byItself"/>: the move is vCPU <paramref name="v"/>'s own balance (<see cref="ActionKind.Pull"/>),
    /// whose resched_curr on itself only sets need_resched; a halted vCPU runs no balance of its own, so one is kicked
    /// all the same.
    /// </summary>
    private void Migrate<TSink>(int t, int v, ref TSink sink, bool byItself = false)
        where TSink : IModelEventSink
    {
        Spend(ref GlobalsRef.MigrateBudget);
        sink.On(new ModelEvent(ModelEventKind.External, (byte)v, (byte)t, (byte)ActionKind.Migrate, 0, -1));
        var run = VcpuRef(v).Run;
        Attach(t, v, ref sink, byItself && run is not (RunState.GuestHalt or RunState.HostHalted) ? v : -1);
    }

    /// <summary>
    /// Every runnable user task queued on inactive vCPU <paramref name="v"/> moves to an active one (select_fallback_rq).
    /// balance_push (kernel/sched/core.c, 2558aacff858, 5.11+): once sched_cpu_deactivate has set it, every task the CPU
    /// would pick that is not a per-CPU kthread is pushed away instead of running (__balance_push_cpu_stop), so no user
    /// task queued there runs there again before the CPU comes back; the model takes each push at once, when the CPU
    /// goes inactive (<see cref="CpuDeactivate"/>). Before 5.11, sched_cpu_dying's migrate_tasks moves them, after the
    /// hotplug thread is done (<see cref="CpuDying"/>). Neither is a balancing decision, so no move budget is spent. A
    /// task moved keeps what it was doing (a task preempted in the kernel resumes there on its new CPU).
    /// </summary>
    private void PushFromInactive<TSink>(int v, ref TSink sink)
        where TSink : IModelEventSink
    {
        var to = FallbackVcpu();
        if (to < 0)
        {
            return;
        }

        for (var t = _vcpus; t < _tasks; t++)
        {
            ref var task = ref TaskRef(t);
            if (task.Vcpu == v && task.Status == TaskPhase.Runnable && VcpuRef(v).CurrentTask != t
                && task.Depth > 0 && FrameRef(t, 0).User == 1)
            {
                Attach(t, to, ref sink);
            }
        }
    }

    /// <summary>
    /// kick_ilb's IPI to idle vCPU <paramref name="v"/>, the idle load balancer find_new_ilb chose. Before 5.8 it is
    /// smp_send_reschedule(ilb_cpu), sent whether or not the idle loop polls, whose scheduler_ipi sees
    /// got_nohz_idle_kick() and raises the balance softirq; since 90b5363acd47 it is smp_call_function_single_async
    /// of the CPU's nohz_csd, and since b2a02fc43a1f (also 5.8) send_call_function_single_ipi sends nothing to a
    /// polling idle loop and sets need_resched there instead (set_nr_if_polling), so the loop goes round through
    /// schedule_idle(). Neither sets need_resched on a CPU it interrupts. The later kick is the call-function vector;
    /// the model raises the reschedule vector for both.
    /// </summary>
    private void KickIlb<TSink>(int v, ref TSink sink)
        where TSink : IModelEventSink
    {
        ref var cpu = ref VcpuRef(v);
        sink.On(new ModelEvent(ModelEventKind.External, (byte)v, cpu.CurrentTask, (byte)ActionKind.KickIlb, 0, -1));
        if (KickIlbSparesIpi(v))
        {
            cpu.NeedResched = 1;
            return;
        }

        Raise(v, ModelVector.Reschedule, ref sink);
    }

    /// <summary>
    /// A kick of idle vCPU <paramref name="v"/> now would send no IPI and set need_resched instead: a guest since
    /// b2a02fc43a1f whose idle loop there polls. Its nohz_csd_func then finds need_resched set and balances nothing.
    /// </summary>
    public bool KickIlbSparesIpi(int v) => !_guest.KickIlbIgnoresPolling && IdlePolling(v);

    /// <summary>attach_task: task <paramref name="t"/> is queued on vCPU <paramref name="v"/>, and check_preempt_curr weighs it there.</summary>
    private void Attach<TSink>(int t, int v, ref TSink sink, int from = -1)
        where TSink : IModelEventSink
    {
        ref var task = ref TaskRef(t);
        task.Vcpu = (byte)v;
        ref var target = ref VcpuRef(v);
        if (IsIdle(target.CurrentTask) || sink.PreemptOnAttach(v, t))
        {
            ReschedCurr(v, from, ref sink);
        }
    }

    /// <summary>
    /// resched_curr on vCPU <paramref name="v"/>, run by vCPU <paramref name="from"/> (-1: a balancer that is neither):
    /// nothing more if need_resched is set already (test_tsk_need_resched); on the CPU itself it only sets the flag; to
    /// another, set_nr_and_not_polling sets it and sends the reschedule IPI unless the idle loop there polls.
    /// </summary>
    private void ReschedCurr<TSink>(int v, int from, ref TSink sink)
        where TSink : IModelEventSink
    {
        ref var target = ref VcpuRef(v);
        if (target.NeedResched == 1)
        {
            return;
        }

        target.NeedResched = 1;
        if (v != from && !IdlePolling(v))
        {
            Raise(v, ModelVector.Reschedule, ref sink);
        }
    }

    /// <summary>
    /// Idle task <paramref name="idle"/> switched away: schedule_idle() returns to do_idle's end with interrupts on
    /// (finish_task_switch), and the next do_idle sets polling first, so the loop comes back at its SetPolling.
    /// </summary>
    private void IdleSwitchedOut(int idle)
    {
        FrameRef(idle, 0).Pc = _idleResumePc;
        TaskRef(idle).SavedIf = 1;
    }

    /// <summary>
    /// vCPU <paramref name="v"/> runs its idle task, whose loop polls (TIF_POLLING_NRFLAG): from after
    /// <see cref="MicroOp.SetPolling"/> through the need_resched test, and from that test's exit, interrupts on,
    /// through <see cref="MicroOp.ClearPolling"/>, interrupt handlers above it included (the flag is the idle
    /// task's). The HLT is entered with the flag clear (default_idle_call's current_clr_polling_and_test()),
    /// and the loop's place after it is the SetPolling still to run. The place is the frame's own pc, not
    /// resolved: the test is a jump evaluated when the next step runs.
    /// </summary>
    private bool IdlePolling(int v) =>
        VcpuRef(v).CurrentTask == v && ((_idlePollingPcs >> FrameRef(v, 0).Pc) & 1) != 0;

    /// <summary>
    /// apf_task_wake_one: unhash the node (hlist_del_init); wake its task (a reschedule IPI if it is elsewhere).
    /// It never frees: a dummy that a wake of its token finds (_find_apf_task matches any node) is unhashed and
    /// leaked, as apf_task_wake_all leaks the dummies it unhashes.
    /// </summary>
    private void WakeNode<TSink>(int v, int index, bool error, ref TSink sink)
        where TSink : IModelEventSink
    {
        var node = SleepRef(index);
        if (node.Dummy == 1)
        {
            LeakDummy(index);
            return;
        }

        SleepRef(index) = default;

        ref var task = ref TaskRef(node.Task);
        task.CompletionStatus = error ? (byte)1 : (byte)0;
        WakeTask(v, node.Task, ref sink);
    }

    private void WakeTask<TSink>(int v, int t, ref TSink sink)
        where TSink : IModelEventSink
    {
        ref var task = ref TaskRef(t);
        task.Uninterruptible = 0;
        var wasSleeping = task.Status == TaskPhase.Sleeping;
        if (wasSleeping)
        {
            // try_to_wake_up: select_task_rq (select_task_rq_fair) picks the CPU while the task is
            // TASK_WAKING, on no runqueue, and only then does ttwu_queue enqueue it there and
            // check_preempt_curr weigh it against that CPU's current task. A task still on its
            // runqueue (ttwu_runnable) or current is not placed.
            var to = sink.SelectTaskRq(v, t);
            if (CanPlaceOnWake(t, to))
            {
                Spend(ref GlobalsRef.MigrateBudget);
                task.Vcpu = (byte)to;
            }

            // select_task_rq: is_cpu_allowed() is cpu_active() for a task that is not a per-CPU
            // kthread, so a user task whose CPU is going down goes where select_fallback_rq puts it.
            // This is no balancing decision: it spends no move budget.
            if (VcpuRef(task.Vcpu).Inactive == 1 && task.Depth > 0 && FrameRef(t, 0).User == 1)
            {
                var fallback = FallbackVcpu();
                if (fallback >= 0)
                {
                    task.Vcpu = (byte)fallback;
                }
            }

            task.Status = TaskPhase.Runnable;
        }

        sink.On(new ModelEvent(ModelEventKind.TaskWoken, (byte)v, (byte)t, 0, task.WaitToken, -1));
        var u = task.Vcpu;
        ref var target = ref VcpuRef(u);
        if (target.CurrentTask == t)
        {
            // The waiter is the running task. 5.7's apf_task_wake_one breaks a halted waiter's HLT with
            // smp_send_reschedule(n->cpu) wherever it is, this CPU as well; without APICv the ICR write of that self
            // IPI is an MSR_WRITE exit, after which vcpu_run checks completions, and the IPI's interrupt window
            // another exit at the handler's IRET. A waiter about to schedule (5.8+, or 5.7's n.halted clear) is
            // woken here with no IPI (try_to_wake_up on current).
            if (u != v)
            {
                Raise(u, ModelVector.Reschedule, ref sink);
            }
            else if (HaltedWaiter(t))
            {
                Raise(u, ModelVector.Reschedule, ref sink, ExitReason.MsrWrite);
            }

            return;
        }

        // try_to_wake_up + check_preempt_wakeup: the policy decides whether the woken task preempts
        // the current one (the idle task always yields: check_preempt_curr_idle).
        var preempts = IsIdle(target.CurrentTask) || sink.PreemptOnWakeup(u, t);
        if (_guest.SharedLlc || !wasSleeping)
        {
            // ttwu_queue: a CPU that shares the waker's LLC (cpus_share_cache, 518cd6234178) is not sent the wake list;
            // the waker enqueues the task there itself (ttwu_do_activate), and only check_preempt_curr's resched_curr
            // may send an IPI: none for a wake that does not preempt, none where need_resched is set already. A task
            // still on its runqueue never goes through the wake list (ttwu_remote; ttwu_runnable since 5.8).
            if (preempts)
            {
                ReschedCurr(u, v, ref sink);
            }

            return;
        }

        if (preempts)
        {
            target.NeedResched = 1;
        }

        // ttwu_queue_remote (5.7; __ttwu_queue_wakelist since 5.8): the wake list's IPI goes to another LLC whether or
        // not the task preempts there, left out for an idle CPU that polls (set_nr_if_polling), and sent only by the wake
        // that finds the list empty (llist_add): the model takes a reschedule vector still pending for a list not yet
        // drained.
        if (u != v && !IdlePolling(u) && (VcpuRef(u).Irr & (1 << (int)ModelVector.Reschedule)) == 0)
        {
            Raise(u, ModelVector.Reschedule, ref sink);
        }
    }

    /// <summary>Task <paramref name="t"/> waits in the #PF handler's halt-wait loop, under the frames of a handler above it.</summary>
    private bool HaltedWaiter(int t)
    {
        ref var task = ref TaskRef(t);
        for (var d = task.Depth - 2; d >= 0; d--)
        {
            ref var f = ref FrameRef(t, d);
            if (f.Program == HandlerProgram.PageFault)
            {
                var pc = ResolvePc(task.Vcpu, t, ref f);
                return pc >= _haltLoop.Start && pc <= _haltLoop.End;
            }
        }

        return false;
    }

    /// <summary>Task <paramref name="t"/> blocked with <see cref="MicroOp.Block"/> and no wake has come.</summary>
    private bool CanWake(int t)
    {
        ref var task = ref TaskRef(t);
        return task.Blocked != BlockKind.None && task.Status == TaskPhase.Sleeping;
    }

    /// <summary>
    /// The external wake of a blocked task: try_to_wake_up in the interrupt that brought it (the
    /// hrtimer's, the NIC's), raised on the task's vCPU so that a halted idle vCPU wakes and its
    /// exit path runs the preemption check.
    /// </summary>
    private void WakeBlocked<TSink>(int t, ref TSink sink)
        where TSink : IModelEventSink
    {
        ref var task = ref TaskRef(t);
        var u = task.Vcpu;
        task.Blocked = BlockKind.None;
        sink.On(new ModelEvent(ModelEventKind.External, u, (byte)t, (byte)ActionKind.Wake, 0, -1));
        WakeTask(u, t, ref sink);
        Raise(u, ModelVector.Reschedule, ref sink);
    }

    /// <summary>The #VE design's wakeup interrupt body: complete every posted token of this vCPU.</summary>
    private void DrainWakeupRing<TSink>(int v, ref TSink sink)
        where TSink : IModelEventSink
    {
        for (var i = 0; i < _ringCapacity; i++)
        {
            ref var r = ref RingRef(v, i);
            if (r.Used == 0)
            {
                continue;
            }

            for (var t = _vcpus; t < _tasks; t++)
            {
                ref var task = ref TaskRef(t);
                if (task.WaitToken == 0 || task.Completed == 1)
                {
                    continue;
                }

                if (r.Token == task.WaitToken || (r.Token == BroadcastToken && task.Vcpu == v))
                {
                    task.Completed = 1;
                    task.CompletionStatus = r.Error;
                    WakeTask(v, t, ref sink);
                }
            }

            r = default;
        }
    }
}
