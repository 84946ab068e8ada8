using Vexlab.Model.Guest;
using Vexlab.Model.Host;
using Vexlab.Model.Properties;
using Vexlab.Model.Protocols;

namespace Vexlab.Model.Machine;

/// <summary>
/// Lifecycle events around async page faults: SMM (B4), a vCPU's INIT and bring-up, and the
/// VM's teardown (B7). Each is one external step; none lets guest code run in the middle.
/// </summary>
public sealed partial class Machine
{
    /// <summary>
    /// An SMI taken at an instruction boundary: enter_smm saves the state and loads CR0 with PE
    /// and PG clear through the vendor hook (no kvm_post_set_cr0); the SMM handler runs with
    /// IF=0; RSM restores CR0 through kvm_set_cr0, so kvm_post_set_cr0 sees CR0.PG change.
    /// Before ab4e41eb9fab that called kvm_clear_async_pf_completion_queue and
    /// kvm_async_pf_hash_reset: queued work cancelled and completions freed, the guest never told,
    /// so a task waiting for one of those tokens sleeps forever. Since the fix it raises
    /// KVM_REQ_APF_READY once paging is back (PV delivery by interrupt enabled), as a LAPIC enable does.
    /// </summary>
    private void Smi<TSink>(int v, ref TSink sink)
        where TSink : IModelEventSink
    {
        Spend(ref GlobalsRef.SmiBudget);
        ref var cpu = ref VcpuRef(v);
        var before = cpu.Run;
        sink.On(new ModelEvent(ModelEventKind.External, (byte)v, cpu.CurrentTask, (byte)ActionKind.Smi, 0, -1));
        if (before != RunState.InGuest)
        {
            // kvm_vcpu_has_events: a pending SMI ends a halt (KVM_REQ_SMI, smi_pending); vcpu_block clears
            // apf.halted. KVM resumes after RSM where the halt left off, with no HLT restart: past the guest's HLT
            // (kvm_emulate_halt skipped it), or at the access the APF halt was waiting to retry.
            cpu.ApfHalted = 0;
            cpu.Run = RunState.InGuest;
            sink.On(new ModelEvent(ModelEventKind.Unhalted, (byte)v, cpu.CurrentTask, 4, 0, -1));
        }

        if (!_host.AsyncPf)
        {
            return;
        }

        if (_host.FlushOnCr0Pg)
        {
            ClearCompletionQueue(v);
        }
        else if (_host.PvApf && _host.Ready == ReadyDelivery.Interrupt && (cpu.ApfEnabled == 1 || ReadyRequested(v)))
        {
            // kvm_post_set_cr0 (ab4e41eb9fab): KVM_REQ_APF_READY when kvm_pv_async_pf_enabled, which
            // vcpu_enter_guest serves before RSM's re-entry with kvm_check_async_pf_completion's loop; a request
            // already pending is served at the SMI's own entry (process_smi) or that one.
            ServeReadyRequest(v, ref sink);
        }

        if (_host.DequeueOnlyAtEntry)
        {
            // RSM is emulated in the host: the vCPU re-enters through vcpu_run (5.7 checks completions there).
            cpu.Run = RunState.InHost;
        }
    }

    /// <summary>
    /// Whether an SMI is taken: by a vCPU running guest code (at an instruction boundary) or halted, in the guest's
    /// HLT or KVM's APF halt, which the SMI ends (kvm_vcpu_has_events). Not by a vCPU stalled in the host on a
    /// synchronous fault: its thread is blocked in the host's page fault until the page is in.
    /// </summary>
    private static bool SmiCanEnter(RunState run) => run is RunState.InGuest or RunState.GuestHalt or RunState.HostHalted;

    /// <summary>
    /// Whether task <paramref name="t"/>'s next step on vCPU <paramref name="v"/> is sched_cpu_deactivate: it is the
    /// CPU's hotplug thread (its program runs kvm_cpu_down_prepare), in its own code, and the CPU is still active.
    /// The thread runs the teardown states in descending order (cpuhp_thread_fun, kernel/cpu.c), and CPUHP_AP_ACTIVE
    /// is above CPUHP_AP_ONLINE_DYN, so the CPU leaves cpu_active_mask before any of the thread's program runs.
    /// </summary>
    private bool DeactivationDue(int v, int t)
    {
        ref var task = ref TaskRef(t);
        return VcpuRef(v).Inactive == 0 && task.Depth == 1 && _takesCpuDown[FrameRef(t, 0).Program];
    }

    /// <summary>
    /// sched_cpu_deactivate (kernel/sched/core.c): set_cpu_active(cpu, false), so from here the load balancer pulls
    /// nothing to the CPU (its sched domains are rebuilt without it) and try_to_wake_up places no user task on it
    /// (is_cpu_allowed). Since 5.11 it also sets balance_push (<see cref="PushFromInactive"/>); the 5.7 guest leaves
    /// the queued tasks where they are until the hotplug thread is done (<see cref="CpuDying"/>).
    /// </summary>
    private void CpuDeactivate<TSink>(int v, ref TSink sink)
        where TSink : IModelEventSink
    {
        VcpuRef(v).Inactive = 1;
        if (_guest.BalancePush)
        {
            PushFromInactive(v, ref sink);
        }
    }

    /// <summary>
    /// The hotplug thread of inactive vCPU <paramref name="v"/> has run its teardown callbacks: takedown_cpu's
    /// stop_machine runs take_cpu_down there, and sched_cpu_dying (CPUHP_AP_SCHED_STARTING) moves every task still
    /// queued on it to an active CPU (migrate_tasks before 5.11; since then balance_push has already emptied the
    /// runqueue and sched_cpu_wait_empty waited for it, so nothing is left to move).
    /// </summary>
    private void CpuDying<TSink>(int v, ref TSink sink)
        where TSink : IModelEventSink => PushFromInactive(v, ref sink);

    /// <summary>
    /// A vCPU the guest has taken offline: it went through the offline path (its hotplug thread ran
    /// sched_cpu_deactivate, <see cref="VcpuState.Inactive"/>), every workload task pinned to it has ended
    /// and its idle task runs. Linux sends INIT only to such a CPU (CPU online: INIT, SIPI, SIPI); a CPU
    /// that merely has nothing to run is idle, not offline.
    /// </summary>
    private bool IsOffline(int v)
    {
        ref var cpu = ref VcpuRef(v);
        if (cpu.Inactive == 0 || cpu.CurrentTask != v || cpu.Run is not (RunState.InGuest or RunState.GuestHalt))
        {
            return false;
        }

        for (var t = _vcpus; t < _tasks; t++)
        {
            ref var task = ref TaskRef(t);
            if (task.Vcpu == v && task.Status is not (TaskPhase.Exited or TaskPhase.Killed))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// INIT to an offline vCPU, then its bring-up. kvm_vcpu_reset(init_event=true):
    /// kvm_lapic_reset (SPIV = 0xff: software-disabled, IRR and ISR cleared), pending NMI and
    /// exception dropped, apf.msr_en_val = 0, kvm_clear_async_pf_completion_queue (queued work
    /// cancelled, completions freed without notifying), kvm_async_pf_hash_reset and
    /// apf.halted = false; apf.id is not reset, so tokens after the reset continue the sequence.
    /// Then start_secondary: setup_local_APIC enables the LAPIC, and kvm_guest_cpu_init writes
    /// MSR_KVM_ASYNC_PF_EN, whose kvm_pv_enable_async_pf queues a wake-all (kvm_async_pf_wakeup_all).
    /// </summary>
    private void Init<TSink>(int v, ref TSink sink)
        where TSink : IModelEventSink
    {
        Spend(ref GlobalsRef.InitBudget);
        ref var cpu = ref VcpuRef(v);
        sink.On(new ModelEvent(ModelEventKind.External, (byte)v, cpu.CurrentTask, (byte)ActionKind.Init, 0, -1));
        cpu.LapicEnabled = 0;
        cpu.Irr = 0;
        cpu.Isr = 0;
        cpu.NmiPending = 0;
        cpu.NmiIrqWindow = 0;
        cpu.NmiBlocked = 0;
        cpu.NmiState = 0;
        cpu.Pending = PendingEvent.None;
        cpu.PendingToken = 0;
        cpu.Cr2 = 0;
        cpu.ApfEnabled = 0;
        ClearCompletionQueue(v);
        cpu.ApfHalted = 0;
        cpu.Shadow = Arch.InterruptShadow.None;

        // The idle task starts its loop again with interrupts off, as at boot.
        ref var idle = ref TaskRef(v);
        for (var d = 0; d < idle.Depth; d++)
        {
            FrameRef(v, d) = default;
        }

        idle.Depth = 1;
        idle.Status = TaskPhase.Running;
        idle.Uninterruptible = 0;
        // The bring-up below writes MSR_KVM_ASYNC_PF_EN with interrupts off (kvm_cpu_online), and the 5.7 host checks
        // completions at that exit with IF=0; the guest then enables interrupts and reaches do_idle, whose first act
        // sets polling: until then a wake sends the IPI.
        FrameRef(v, 0) = new Frame { Program = HandlerProgram.Idle, User = 0, Event = FrameEvent.Task, Pc = _idleOnlinePc };
        cpu.If = 0;
        cpu.Run = RunState.InGuest;

        // Bring-up: the LAPIC first (setup_local_APIC), then APF (kvm_guest_cpu_init, CPUHP_AP_ONLINE_DYN),
        // then sched_cpu_activate (CPUHP_AP_ACTIVE) puts the CPU back in cpu_active_mask.
        cpu.LapicEnabled = 1;
        cpu.Inactive = 0;
        if (_host.PvApf)
        {
            // apf_reason is guest memory, which neither INIT nor kvm_pv_disable_apf touches: a token the
            // host wrote in kvm_cpu_down_prepare's interrupts-off window, before MSR_KVM_ASYNC_PF_EN was
            // cleared, is still there, and sysvec_kvm_asyncpf_interrupt skipped it (apf_reason.enabled was
            // false). kvm_guest_cpu_init does not clear it, so apf_pageready_slot_free() stays false and
            // kvm_arch_can_dequeue_async_page_present() holds back the wake-all and every later page-ready.
            if (_guest.ClearTokenAtInit)
            {
                cpu.ApfToken = 0;
            }

            // The MSR write is an exit: the 5.7 host checks completions on the way back in.
            cpu.ApfEnabled = 1;
            if (_host.DequeueOnlyAtEntry)
            {
                cpu.Run = RunState.InHost;
            }

            QueueWakeAll(v, ref sink);
        }
    }

    /// <summary>kvm_async_pf_wakeup_all: a broadcast completion, only when the done list is empty.</summary>
    private void QueueWakeAll<TSink>(int v, ref TSink sink)
        where TSink : IModelEventSink
    {
        ref var cpu = ref VcpuRef(v);
        if (cpu.Done != 0)
        {
            return;
        }

        var item = NewWork(WorkKind.WakeAll, v, -1, BroadcastToken);
        ref var w = ref WorkRef(item);
        w.Status = WorkStatus.Done;
        w.DoneOrder = 1;
        cpu.Done = 1;
        cpu.ApfQueued++;
        if (CanDequeue(v, v))
        {
            Dequeue(v, v, ref sink);
        }
    }

    /// <summary>
    /// The VMM closes the VM. With 3d75b8aa5c29 kvm_destroy_vm runs now: each vCPU's
    /// kvm_clear_async_pf_completion_queue cancels queued work and flushes running work, so no
    /// async_pf_execute outlives the vCPUs, the VM or the module reference the VM holds. Before
    /// it, each work item held a VM reference (kvm_get_kvm in kvm_setup_async_pf): with work in
    /// flight the VM outlives the file descriptors, and the last worker's kvm_put_kvm destroys it.
    /// </summary>
    private void Teardown<TSink>(ref TSink sink)
        where TSink : IModelEventSink
    {
        ref var g = ref GlobalsRef;
        Spend(ref g.TeardownBudget);
        sink.On(new ModelEvent(ModelEventKind.External, 0, 0, (byte)ActionKind.Teardown, 0, -1));
        var heldByWork = false;
        for (var i = 0; i < _workCapacity; i++)
        {
            ref var w = ref WorkRef(i);
            if (w.Kind == WorkKind.Async && w.Status == WorkStatus.InFlight && !_host.FlushWorkOnDestroy)
            {
                heldByWork = true;
                continue;
            }

            if (w.Kind != WorkKind.Free && w.Page >= 0 && w.Status == WorkStatus.InFlight)
            {
                PageRef(w.Page).InFlight--;
            }

            // The vCPU threads are gone: synchronous faults end with them, the rest is freed.
            w = default;
        }

        if (heldByWork)
        {
            g.TornDown = 1;
            return;
        }

        g.Outcome = GuestOutcome.Destroyed;
    }

    /// <summary>
    /// async_pf_execute after the VMM closed the VM (before 3d75b8aa5c29): its kvm_put_kvm drops
    /// a reference; the last one runs kvm_destroy_vm, whose module_put (5f6de5cbebee) may let
    /// the module go while this function still has to return through module text.
    /// </summary>
    private void WorkerAfterClose<TSink>(int v, ref TSink sink)
        where TSink : IModelEventSink
    {
        for (var i = 0; i < _workCapacity; i++)
        {
            ref var w = ref WorkRef(i);
            if (w.Kind == WorkKind.Async && w.Status == WorkStatus.InFlight)
            {
                return;
            }
        }

        Violated(SafetyProperty.NoWorkAfterDestroy, v, VcpuRef(v).CurrentTask, ref sink);
        GlobalsRef.Outcome = GuestOutcome.Destroyed;
    }
}
