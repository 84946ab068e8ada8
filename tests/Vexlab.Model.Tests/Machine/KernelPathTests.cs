using Vexlab.Model.Guest;
using Vexlab.Model.Host;
using Vexlab.Model.Machine;
using Vexlab.Model.Scripting;
using static Vexlab.Model.Tests.Machine.TestMachines;

namespace Vexlab.Model.Tests.Machine;

/// <summary>
/// Paths of the async page fault checked line by line against the kernel's code
/// (arch/x86/kvm/mmu/mmu.c, arch/x86/kvm/x86.c, arch/x86/kernel/kvm.c); docs/kvm-facts.md has the sources.
/// </summary>
public sealed class KernelPathTests
{
    /// <summary>
    /// kvm_arch_setup_async_pf: alloc_apf_token() runs before kvm_setup_async_pf(), whose
    /// ASYNC_PF_PER_VCPU test refuses a full queue; the refused (synchronous) fault still uses up
    /// an id, so the next token is the same whether the queue was full or not.
    /// </summary>
    [Theory]
    [InlineData("1", true)]
    [InlineData("64", false)]
    public void AllocApfToken_RunsBeforeTheQueueLimit(string maxPerVcpu, bool synchronous)
    {
        var m = Build("kvm-pf-int", [User("a", 0, Touch(0)), User("b", 0, Touch(1))], knobs: [("host.apf.max_per_vcpu", maxPerVcpu)]);
        var s = new Script(m);
        s.StepUntil(ModelEventKind.TaskSlept);
        Assert.Equal(2u, m.Vcpu(0).ApfNextId);

        // b's fault: refused for the full queue (a synchronous stall), or async work with id 2 (token 0x2000 on vCPU0).
        var fault = s.StepUntil(ModelEventKind.VmExit);
        Assert.Equal(synchronous, fault.Exists(e => e.Kind == ModelEventKind.SyncStall));
        Assert.Equal(!synchronous, fault.Exists(e => e.Kind == ModelEventKind.AsyncStarted && e.Token == 0x2000));
        Assert.Equal(3u, m.Vcpu(0).ApfNextId);
    }

    /// <summary>
    /// sysvec_kvm_asyncpf_interrupt (b1d405751cd5) acknowledges the LAPIC, then reads the token,
    /// wakes, clears the slot and writes MSR_KVM_ASYNC_PF_ACK only if apf_reason.enabled.
    /// kvm_cpu_down_prepare runs kvm_guest_cpu_offline (kvm_pv_disable_apf, apf_task_wake_all)
    /// with interrupts off: a page-ready raised before it is taken after, and is ignored; it
    /// leaves no dummy node for a token whose waiter apf_task_wake_all already woke.
    /// </summary>
    [Theory]
    [InlineData(true, 0, false)]
    [InlineData(false, 0, true)]
    public void PageReadyInterrupt_AfterApfDisable_IsIgnored(bool disableFirst, int nodesAfter, bool acked)
    {
        var offline = disableFirst
            ? Kernel("offline", 0, Op(MicroOp.Cli), Op(MicroOp.ApfDisable), Op(MicroOp.Sti))
            : Kernel("offline", 0, Op(MicroOp.Cli), Op(MicroOp.Compute), Op(MicroOp.Sti));
        var m = Build("kvm-pf-int", [User("a", 0, Touch(0)), offline], absentCount: 1);
        var s = new Script(m);
        s.StepUntil(ModelEventKind.TaskSlept);
        s.StepTo(disableFirst ? MicroOp.ApfDisable : MicroOp.Compute);

        // Interrupts are off: the page comes in and its page-ready is raised but not taken.
        s.CompleteAny();
        s.Do(ActionKind.Dequeue, 0, 0);
        var token = m.Vcpu(0).ApfToken;
        Assert.NotEqual(0u, token);
        s.Do(ActionKind.Step, 0);
        Assert.Equal(disableFirst ? 0 : 1, m.SleepNodeCount());

        // STI, then the instruction its shadow covers; the interrupt comes after both.
        s.Do(ActionKind.Step, 0);
        Assert.False(s.IsEnabled(ActionKind.DeliverInterrupt, 0));
        s.Do(ActionKind.Step, 0);
        Assert.True(s.IsEnabled(ActionKind.DeliverInterrupt, 0));
        s.Do(ActionKind.DeliverInterrupt, 0);
        var handler = s.StepTo(MicroOp.ExitPreempt);
        Assert.Equal(nodesAfter, m.SleepNodeCount());
        Assert.Equal(acked, handler.Exists(e => e.Kind == ModelEventKind.VmExit && e.Aux == (byte)ExitReason.MsrWrite));
        Assert.Equal(acked ? 0u : token, m.Vcpu(0).ApfToken);
    }

    /// <summary>
    /// kvm_cpu_down_prepare (CPUHP_AP_ONLINE_DYN) runs after sched_cpu_deactivate (CPUHP_AP_ACTIVE)
    /// took the CPU out of cpu_active_mask, so apf_task_wake_all wakes its waiters onto an inactive
    /// CPU: try_to_wake_up -> select_task_rq finds is_cpu_allowed() false (cpu_active) for a user
    /// task and select_fallback_rq puts it on vCPU0, the only active one. A per-CPU kernel thread
    /// (is_cpu_allowed: cpu_online) stays. The model used to leave the user task on vCPU1, where it
    /// preempted the offline path and ran.
    /// </summary>
    [Theory]
    [InlineData("kvm-pf-int", true, 0)]
    [InlineData("kvm-pf", false, 1)]
    public void WakeAll_OnACpuGoingDown_PutsAUserTaskOnAnActiveVcpu(string protocol, bool user, int expectedVcpu)
    {
        var sleeper = user ? User("a", 1, Touch(0)) : Kernel("a", 1, KTouch(0));
        var m = Build(
            protocol,
            [sleeper, Kernel("offline", 1, Op(MicroOp.Cli), Op(MicroOp.ApfDisable), Op(MicroOp.Sti))],
            absentCount: 1,
            vcpus: 2,
            knobs: [("guest.config_preempt", "true")]);
        var s = new Script(m);
        const int a = 2;

        // The 5.7 host injects the not-present #PF at the VM entry after the fault's exit.
        while (!(s.IsEnabled(ActionKind.Enter, 1) ? s.Do(ActionKind.Enter, 1) : s.Do(ActionKind.Step, 1)).Exists(e => e.Kind == ModelEventKind.TaskSlept))
        {
        }

        s.StepTo(MicroOp.ApfDisable, vcpu: 1);
        Assert.Equal(1, m.Vcpu(1).Inactive);

        var wake = s.Do(ActionKind.Step, 1);
        Assert.Contains(wake, e => e.Kind == ModelEventKind.TaskWoken && e.Task == a);
        Assert.Equal(expectedVcpu, m.Task(a).Vcpu);
    }

    /// <summary>
    /// The hotplug thread (cpuhp_thread_fun, kernel/cpu.c) runs the teardown states in descending order, and
    /// CPUHP_AP_ACTIVE (sched_cpu_deactivate) is above CPUHP_AP_ONLINE_DYN (kvm_cpu_down_prepare): the thread's first
    /// step takes the CPU out of cpu_active_mask, before its own program (cli; apf-disable; sti) runs. From then on the
    /// load balancer pulls nothing there (its sched domains hold active CPUs only); the bring-up after INIT
    /// (sched_cpu_activate) makes it active again. The model used to mark the CPU inactive only at apf-disable, so a
    /// task could be pulled to a CPU whose hotplug thread already sat after its cli.
    /// </summary>
    [Fact]
    public void SchedCpuDeactivate_IsTheHotplugThreadsFirstStep_AndEndsMigrationToTheVcpu()
    {
        var m = Build(
            "kvm-pf-int",
            [Kernel("offline", 1, Op(MicroOp.Cli), Op(MicroOp.ApfDisable), Op(MicroOp.Sti)), Spinner("b", TaskMode.User, 0), Spinner("c", TaskMode.User, 0)],
            absentCount: 1,
            vcpus: 2,
            bounds: ExternalBounds.None with { Migrations = 1, Inits = 1 });
        var s = new Script(m);
        s.Do(ActionKind.Step, 0);
        const int c = 4;
        Assert.Equal(MicroOp.CpuDeactivate, m.NextInstr(1).Op);
        Assert.True(s.IsEnabled(ActionKind.Migrate, 1, c));

        s.Do(ActionKind.Step, 1);
        Assert.Equal(1, m.Vcpu(1).Inactive);
        Assert.Equal(MicroOp.Cli, m.NextInstr(1).Op);
        Assert.Equal(1, m.Vcpu(1).If);
        Assert.False(s.IsEnabled(ActionKind.Migrate, 1, c));

        s.StepUntil(ModelEventKind.TaskExited, vcpu: 1);
        s.Do(ActionKind.Init, 1);
        Assert.Equal(0, m.Vcpu(1).Inactive);
        Assert.True(s.IsEnabled(ActionKind.Migrate, 1, c));
    }

    /// <summary>
    /// Where a user task queued behind the hotplug thread goes, and when. Since 5.11 sched_cpu_deactivate sets
    /// balance_push (2558aacff858): the CPU runs no task that is not a per-CPU kthread and pushes each to an active CPU
    /// (select_fallback_rq), attached there with need_resched set on the idle vCPU0 (no IPI: its idle loop polls,
    /// set_nr_and_not_polling). The 5.7 guest of kvm-pf has no balance_push:
    /// the task stays queued on vCPU1, and sched_cpu_dying's migrate_tasks moves it only after the hotplug thread's
    /// teardown callbacks returned (the thread's end here), so it cannot run on vCPU0 inside kvm_cpu_down_prepare's
    /// interrupts-off window. Kernel thread k (per-CPU) stays either way.
    /// </summary>
    [Theory]
    [InlineData("kvm-pf-int", 0)]
    [InlineData("kvm-pf", 1)]
    public void QueuedUserTask_LeavesTheGoingDownVcpu_AtBalancePushOrMigrateTasks(string protocol, int vcpuAfterDeactivate)
    {
        var m = Build(
            protocol,
            [Kernel("offline", 1, Op(MicroOp.Cli), Op(MicroOp.ApfDisable), Op(MicroOp.Sti)), Spinner("b", TaskMode.User, 1), Spinner("k", TaskMode.Kernel, 1)],
            absentCount: 1,
            vcpus: 2);
        var s = new Script(m);
        const int offline = 2, b = 3, k = 4;
        Assert.Equal(offline, m.Vcpu(1).CurrentTask);

        var deactivate = s.Do(ActionKind.Step, 1);
        Assert.Equal(1, m.Vcpu(1).Inactive);
        Assert.Equal(vcpuAfterDeactivate, m.Task(b).Vcpu);
        Assert.Equal(vcpuAfterDeactivate == 0, m.Vcpu(0).NeedResched == 1);
        Assert.DoesNotContain(deactivate, e => e.Kind == ModelEventKind.InterruptRaised && e.Vcpu == 0);

        // Through the interrupts-off window: b is still where the deactivation left it.
        s.StepTo(MicroOp.Sti, vcpu: 1);
        s.Do(ActionKind.Step, 1);
        Assert.Equal(vcpuAfterDeactivate, m.Task(b).Vcpu);

        var exit = s.StepUntil(ModelEventKind.TaskExited, vcpu: 1);
        Assert.Equal(0, m.Task(b).Vcpu);
        Assert.Equal(1, m.Task(k).Vcpu);
        Assert.Equal(1, m.Vcpu(0).NeedResched);
        Assert.DoesNotContain(exit, e => e.Kind == ModelEventKind.InterruptRaised && e.Vcpu == 0);
    }

    /// <summary>
    /// Linux sends INIT (then SIPI) only to bring up a CPU it took down (native_cpu_up -> wakeup_secondary_cpu_via_init
    /// after cpu_down): the vCPU's hotplug thread ran sched_cpu_deactivate and its path to the end, and its idle task
    /// runs. A vCPU whose tasks all ended but that never went through the offline path is idle, not offline, and gets
    /// no INIT. The model used to offer INIT to any vCPU with no live task. (Spinner k on vCPU2 keeps the guest running.)
    /// </summary>
    [Theory]
    [InlineData(0, false)]
    [InlineData(1, true)]
    public void Init_GoesOnlyToAVcpuThatWentThroughTheOfflinePath(int vcpu, bool offered)
    {
        var m = Build(
            "kvm-pf-int",
            [User("a", 0, Op(MicroOp.Compute)), Kernel("offline", 1, Op(MicroOp.Cli), Op(MicroOp.ApfDisable), Op(MicroOp.Sti)), Spinner("k", TaskMode.Kernel, 2)],
            absentCount: 1,
            vcpus: 3,
            bounds: ExternalBounds.None with { Inits = 1 });
        var s = new Script(m);
        s.StepUntil(ModelEventKind.TaskExited, vcpu: 0);
        s.StepUntil(ModelEventKind.TaskExited, vcpu: 1);
        Assert.Equal(0, m.Vcpu(0).CurrentTask);
        Assert.Equal(1, m.Vcpu(1).CurrentTask);
        Assert.Equal(offered, s.IsEnabled(ActionKind.Init, vcpu));
    }

    /// <summary>
    /// kvm_async_pf_task_wait (5.7, arch/x86/kernel/kvm.c; replaced by 6bca69ada4bc) halts when
    /// <c>is_idle_task(current) || (IS_ENABLED(CONFIG_PREEMPT_COUNT) ? preempt_count() > 1 ||
    /// rcu_preempt_depth() : interrupt_kernel)</c>, with the bucket's raw spinlock the one count it
    /// holds itself; the interrupted context's IF is not read. A nested #PF in the #PF entry's trace
    /// point (guest.pf.read_order=cr2-first, 5.7's own entry: the flags are read after it) reads the outer fault's NOT_PRESENT inside the
    /// probe, which __DO_TRACE runs under preempt_disable_notrace: it halts with or without
    /// CONFIG_PREEMPT (it used to halt for its IF=0, a test 5.7 does not make).
    /// </summary>
    [Theory]
    [InlineData("user", true, "sleep")]
    [InlineData("user", false, "sleep")]
    [InlineData("kernel-preempt-off", true, "halt")]
    [InlineData("nested-irqs-off", true, "halt")]
    [InlineData("nested-irqs-off", false, "halt")]
    public void KvmAsyncPfTaskWait_HaltsOnlyWhenTheContextCannotSchedule(string context, bool configPreempt, string expected)
    {
        (string, string)[] knobs = context == "nested-irqs-off"
            ? [("guest.config_preempt", configPreempt ? "true" : "false"), ("guest.pf.read_order", "cr2-first")]
            : [("guest.config_preempt", configPreempt ? "true" : "false")];
        var task = context == "kernel-preempt-off"
            ? Kernel("k", 0, Op(MicroOp.PreemptOff), KTouch(0), Op(MicroOp.PreemptOn))
            : User("a", 0, Touch(0));
        var m = context == "nested-irqs-off"
            ? Build("kvm-pf", [task], pages: 2, absentCount: 1, knobs: knobs,
                groups: [new PageGroupSpec(1, 1, HostPage.Resident, false, 0, false)], tracePage: 1)
            : Build("kvm-pf", [task], pages: 2, absentCount: 1, knobs: knobs);
        var s = new Script(m);
        string? seen = null;
        for (var i = 0; i < 64 && seen is null; i++)
        {
            var events = s.Do(s.IsEnabled(ActionKind.Enter) ? ActionKind.Enter : ActionKind.Step);
            seen = events.Exists(e => e.Kind == ModelEventKind.TaskSlept) ? "sleep"
                : events.Exists(e => e.Kind == ModelEventKind.GuestHalted) ? "halt"
                : null;
        }

        Assert.Equal(expected, seen);
        if (context == "nested-irqs-off")
        {
            // The wait is the nested fault's: two #PF frames above the user task.
            Assert.Equal(3, m.Task(m.WorkloadTask(0)).Depth);
        }
    }

    /// <summary>
    /// do_user_addr_fault: <c>if (unlikely(faulthandler_disabled() || !mm))</c> goes to bad_area_nosemaphore and
    /// the exception-table fixup; faulthandler_disabled() is <c>pagefault_disabled() || in_atomic()</c>. A kernel
    /// access in a preempt_disable() (or spin_lock()) section is in_atomic() only with CONFIG_PREEMPT_COUNT:
    /// without it preempt_disable() is barrier() and handle_mm_fault maps the page. copy_from_user_nmi() in the
    /// NMI handler runs under pagefault_disable() and nmi_enter()'s count, so it takes the fixup either way. The
    /// model used to take the fixup in a preempt-off section whatever guest.config_preempt said.
    /// </summary>
    [Theory]
    [InlineData("sync", "task", true, "map")]
    [InlineData("sync", "task", false, "map")]
    [InlineData("sync", "preempt-off", true, "fixup")]
    [InlineData("sync", "preempt-off", false, "map")]
    [InlineData("kvm-pf", "preempt-off", false, "map")]
    [InlineData("kvm-pf-int", "preempt-off", false, "map")]
    [InlineData("sync", "nmi", true, "fixup")]
    [InlineData("sync", "nmi", false, "fixup")]
    public void DoUserAddrFault_FaultHandlerDisabled_CountsPreemptDisableOnlyWithPreemptCount(
        string protocol, string context, bool configPreempt, string expected)
    {
        // Page 1 is resident in the host and not mapped by the guest: the access is a guest #PF that
        // do_user_addr_fault either maps (a minor fault) or sends to the fixup.
        var task = context switch
        {
            "preempt-off" => Kernel("k", 0, Op(MicroOp.PreemptOff), KTouch(1), Op(MicroOp.PreemptOn)),
            "task" => Kernel("k", 0, KTouch(1)),
            _ => Spinner("k", TaskMode.Kernel, 0),
        };
        var nmi = context == "nmi";
        var m = Build(protocol, [task], pages: 2, absentCount: 0,
            knobs: [("guest.config_preempt", configPreempt ? "true" : "false")],
            groups: [new PageGroupSpec(1, 1, HostPage.Resident, false, 0, false)],
            bounds: nmi ? new ExternalBounds(1, 0, 0, 0) : null, nmiTouchPage: nmi ? 1 : -1);
        var s = new Script(m);
        if (nmi)
        {
            s.Do(ActionKind.RaiseNmi);
        }

        string? seen = null;
        for (var i = 0; i < 64 && seen is null; i++)
        {
            var events = s.Do(ActionKind.Step);
            seen = events.Exists(e => e.Kind == ModelEventKind.Fixup) ? "fixup"
                : events.Exists(e => e.Kind == ModelEventKind.GuestMinorFault) ? "map"
                : null;
        }

        Assert.Equal(expected, seen);
        Assert.Equal(expected == "map" ? PageFlags.GuestPresent : 0, m.Page(1).Flags & PageFlags.GuestPresent);
    }

    /// <summary>
    /// A trace point's own #PF (the #PF entry's trace point, before a0d14b8909de, on a page the guest
    /// has not mapped): the probe holds preempt_disable_notrace()'s count and reads through a
    /// *_nofault helper, so faulthandler_disabled() is true. do_user_addr_fault maps nothing and the
    /// access takes its exception-table fixup; the model used to map the trace page, after which no
    /// trace point faulted again.
    /// </summary>
    [Theory]
    [InlineData("kvm-pf")]
    [InlineData("kvm-pf-int")]
    public void ATracePointsFault_TakesTheFixup_AndMapsNothing(string protocol)
    {
        var m = Build(protocol, [User("a", 0, Touch(2))], pages: 4, absentCount: 1,
            knobs: [("guest.pf.read_order", "trace-first")],
            groups: [new PageGroupSpec(2, 2, HostPage.Resident, false, 0, false)], tracePage: 3);
        var s = new Script(m);
        var fixup = s.StepUntil(ModelEventKind.Fixup);
        Assert.DoesNotContain(fixup, e => e.Kind == ModelEventKind.GuestMinorFault);
        Assert.Equal((PageFlags)0, m.Page(3).Flags & PageFlags.GuestPresent);

        // The fixup resumed the outer handler past its trace point; the nested #PF's IRET is next.
        Assert.Equal(3, m.Task(m.WorkloadTask(0)).Depth);
        Assert.Equal(MicroOp.Iret, m.NextInstr(0).Op);
    }

    /// <summary>
    /// The return from an interrupt to kernel code (5.7's retint_kernel, irqentry_exit_cond_resched since
    /// 5.8) preempts only with <c>preempt_count() == 0</c>. A fault in a trace point's probe runs under
    /// __DO_TRACE's preempt_disable_notrace() until the probe returns, so a timer tick that ends the
    /// halt loop of 5.7's kvm_async_pf_task_wait in that nested fault (trace-window) returns to it and
    /// does not switch; the same tick in a kernel thread with IF=1 and no count does. The model used to
    /// count only the task's own preempt count there and switched to the other task inside the probe.
    /// An RCU read-side section is no count under CONFIG_PREEMPTION, which selects PREEMPT_RCU:
    /// rcu_read_lock() only raises current->rcu_read_lock_nesting (__rcu_read_lock), and a reader
    /// preempted is tracked on the rcu_node's blocked list (rcu_note_context_switch), so the tick switches
    /// there too. The model used to keep such a reader on the CPU.
    /// </summary>
    [Theory]
    [InlineData("trace-probe-halt", false)]
    [InlineData("kernel-thread", true)]
    [InlineData("kernel-thread-rcu-reader", true)]
    public void TimerTick_PreemptsKernelCodeOnlyOutsideATracePointsProbe(string context, bool switches)
    {
        var ticks = ExternalBounds.None with { Ticks = 1 };
        var m = context == "trace-probe-halt"
            ? Build("kvm-pf", [User("a", 0, Touch(0)), Spinner("b", TaskMode.User, 0)], pages: 2, absentCount: 1,
                knobs: [("guest.pf.read_order", "cr2-first")],
                groups: [new PageGroupSpec(1, 1, HostPage.Resident, false, 0, false)], tracePage: 1, bounds: ticks)
            : Build("kvm-pf", [Spinner("a", TaskMode.Kernel, 0, context == "kernel-thread-rcu-reader" ? [new Instr(MicroOp.RcuLock)] : []), Spinner("b", TaskMode.User, 0)], pages: 2, absentCount: 0, bounds: ticks);
        var s = new Script(m);
        var a = m.WorkloadTask(0);
        if (context == "trace-probe-halt")
        {
            // a's async #PF; its entry's trace point faults, and the nested fault reads the stale
            // NOT_PRESENT and halts (preempt_count() > 1 in the probe): sti; hlt with IF=1.
            for (var i = 0; i < 64 && m.Vcpu(0).Run != RunState.GuestHalt; i++)
            {
                s.Do(s.IsEnabled(ActionKind.Enter) ? ActionKind.Enter : ActionKind.Step);
            }

            Assert.Equal(RunState.GuestHalt, m.Vcpu(0).Run);
            Assert.Equal(3, m.Task(a).Depth);
        }
        else
        {
            s.Do(ActionKind.Step);
            Assert.Equal(context == "kernel-thread-rcu-reader" ? 1 : 0, m.Task(a).RcuDepth);
        }

        Assert.Equal(a, m.Vcpu(0).CurrentTask);
        s.Do(ActionKind.Tick);
        if (s.IsEnabled(ActionKind.Enter))
        {
            // Under kvm-pf the tick of a vCPU in guest mode is a PREEMPTION_TIMER exit; the entry injects it.
            s.Do(ActionKind.Enter);
        }

        var handler = s.Do(ActionKind.DeliverInterrupt);
        var below = context == "trace-probe-halt" ? 3 : 1;
        for (var i = 0; i < 8 && m.Vcpu(0).CurrentTask == a && m.Task(a).Depth > below; i++)
        {
            handler.AddRange(s.Do(ActionKind.Step));
        }

        Assert.Equal(switches, handler.Exists(e => e.Kind == ModelEventKind.ContextSwitch));
        Assert.Equal(switches ? m.WorkloadTask(1) : a, m.Vcpu(0).CurrentTask);
    }
}
