using Vexlab.Model.Arch;
using Vexlab.Model.Guest;
using Vexlab.Model.Host;
using Vexlab.Model.Protocols;

namespace Vexlab.Model.Machine;

public sealed partial class Machine
{
    /// <summary>An upper bound of <see cref="EnabledActions"/>' count for this configuration.</summary>
    public int MaxActions => (_vcpus * (11 + _vcpus + MaxChoices() + (_config.Bounds.Migrations > 0 ? _tasks : 0))) + _workCapacity + _tasks + 3;

    /// <summary>
    /// Lists every step that may happen next, in a canonical order, without allocating.
    /// Returns the count; nothing is enabled once the guest has finished, oopsed or stopped.
    /// </summary>
    public int EnabledActions(Span<MachineAction> buffer)
    {
        var n = 0;
        ref var g = ref GlobalsRef;
        if (g.Outcome != GuestOutcome.Running)
        {
            return 0;
        }

        // After the VMM closed the VM only the workers that hold it alive run on.
        for (var v = 0; v < _vcpus && g.TornDown == 0; v++)
        {
            n = VcpuActions(v, buffer, n);
        }

        for (var i = 0; i < _workCapacity; i++)
        {
            ref var w = ref WorkRef(i);
            if (w.Kind != WorkKind.Free && w.Status == WorkStatus.InFlight)
            {
                buffer[n++] = new MachineAction(ActionKind.Complete, w.Vcpu, (ushort)i);
            }
        }

        if (g.TruncateBudget > 0 && g.Truncated == 0 && g.TornDown == 0)
        {
            buffer[n++] = new MachineAction(ActionKind.Truncate, 0, 0);
        }

        if (g.ReenableBudget > 0 && g.TornDown == 0)
        {
            buffer[n++] = new MachineAction(ActionKind.Reenable, 0, 0);
        }

        if (g.TeardownBudget > 0 && g.TornDown == 0)
        {
            buffer[n++] = new MachineAction(ActionKind.Teardown, 0, 0);
        }

        for (var t = _vcpus; t < _tasks && g.TornDown == 0; t++)
        {
            if (CanWake(t))
            {
                buffer[n++] = new MachineAction(ActionKind.Wake, TaskRef(t).Vcpu, (ushort)t);
            }
        }

        return n;
    }

    /// <summary>Appends vCPU <paramref name="v"/>'s enabled actions (steps, deliveries, host dequeues).</summary>
    public int VcpuActions(int v, Span<MachineAction> buffer, int n)
    {
        ref var cpu = ref VcpuRef(v);
        ref var g = ref GlobalsRef;
        var vb = (byte)v;
        // SDM Vol. 3A 6.9: an acceptable pending interrupt or NMI is taken at the next instruction
        // boundary, before the vCPU executes anything else.
        // Both are pure functions of the vCPU's state: computed once for the whole listing.
        var canInterrupt = CanDeliverInterrupt(v);
        var canNmi = CanDeliverNmi(v);
        var eventFirst = canInterrupt || canNmi;
        switch (cpu.Run)
        {
            case RunState.InGuest when !eventFirst:
                var choices = _config.EnumerateChoices ? ChoiceCount(v) : 0;
                if (choices == 0)
                {
                    buffer[n++] = new MachineAction(ActionKind.Step, vb, 0);
                }
                else
                {
                    for (var c = 1; c <= choices; c++)
                    {
                        buffer[n++] = new MachineAction(ActionKind.Step, vb, (ushort)c);
                    }
                }

                break;
            case RunState.InHost when EntryDue(v):
                buffer[n++] = new MachineAction(ActionKind.Enter, vb, 0);
                break;
        }

        if (canInterrupt)
        {
            buffer[n++] = new MachineAction(ActionKind.DeliverInterrupt, vb, 0);
        }

        if (canNmi)
        {
            buffer[n++] = new MachineAction(ActionKind.DeliverNmi, vb, 0);
        }

        for (var s = 0; s < _vcpus; s++)
        {
            if (DequeueDue(v, s))
            {
                buffer[n++] = new MachineAction(ActionKind.Dequeue, vb, (ushort)s);
            }
        }

        if (WokenByUndequeuable(v))
        {
            buffer[n++] = new MachineAction(ActionKind.Unblock, vb, 0);
        }

        if (g.NmiBudget > 0 && cpu.NmiPending < NmiLimit(v) && (_config.NmiVcpu < 0 || _config.NmiVcpu == v))
        {
            buffer[n++] = new MachineAction(ActionKind.RaiseNmi, vb, 0);
        }

        if (g.TickBudget > 0 && (cpu.Irr & (1 << (int)ModelVector.Timer)) == 0)
        {
            buffer[n++] = new MachineAction(ActionKind.Tick, vb, 0);
        }

        if (g.SmiBudget > 0 && SmiCanEnter(cpu.Run))
        {
            buffer[n++] = new MachineAction(ActionKind.Smi, vb, 0);
        }

        if (g.InitBudget > 0 && IsOffline(v))
        {
            buffer[n++] = new MachineAction(ActionKind.Init, vb, 0);
        }

        // 255: the driver's load balancer owns migration and applies it itself; listing every
        // runnable task per vCPU on each of its steps would cost it O(tasks) per event.
        if (g.MigrateBudget is > 0 and < 255)
        {
            for (var t = _vcpus; t < _tasks; t++)
            {
                if (CanMigrate(t, v))
                {
                    buffer[n++] = new MachineAction(ActionKind.Migrate, vb, (ushort)t);
                }
            }
        }

        if (CompletionCheckInjects(v) || ExitUsesUpRequest(v))
        {
            buffer[n++] = new MachineAction(ActionKind.HostExit, vb, 0);
        }

        return n;
    }

    /// <summary>True when <paramref name="action"/> is enabled now.</summary>
    public bool IsEnabled(MachineAction action)
    {
        if (GlobalsRef.Outcome != GuestOutcome.Running)
        {
            return false;
        }

        var v = action.Vcpu;
        if (GlobalsRef.TornDown == 1 && action.Kind != ActionKind.Complete)
        {
            return false;
        }

        return action.Kind switch
        {
            ActionKind.Step => VcpuRef(v).Run == RunState.InGuest && !CanDeliverInterrupt(v) && !CanDeliverNmi(v) && ChoiceIsOffered(v, action.Arg),
            ActionKind.Enter => VcpuRef(v).Run == RunState.InHost && EntryDue(v),
            ActionKind.DeliverInterrupt => CanDeliverInterrupt(v),
            ActionKind.DeliverNmi => CanDeliverNmi(v),
            ActionKind.Dequeue => DequeueDue(v, action.Arg),
            ActionKind.Complete => action.Arg < _workCapacity && WorkRef(action.Arg).Kind != WorkKind.Free && WorkRef(action.Arg).Status == WorkStatus.InFlight,
            ActionKind.RaiseNmi => GlobalsRef.NmiBudget > 0 && VcpuRef(v).NmiPending < NmiLimit(v) && (_config.NmiVcpu < 0 || _config.NmiVcpu == v),
            ActionKind.Tick => GlobalsRef.TickBudget > 0,
            ActionKind.Truncate => GlobalsRef.TruncateBudget > 0 && GlobalsRef.Truncated == 0,
            ActionKind.Reenable => GlobalsRef.ReenableBudget > 0,
            ActionKind.Unblock => WokenByUndequeuable(v),
            ActionKind.Smi => v < _vcpus && GlobalsRef.SmiBudget > 0 && SmiCanEnter(VcpuRef(v).Run),
            ActionKind.Init => v < _vcpus && GlobalsRef.InitBudget > 0 && IsOffline(v),
            ActionKind.Teardown => GlobalsRef.TeardownBudget > 0,
            ActionKind.Migrate or ActionKind.Pull => v < _vcpus && GlobalsRef.MigrateBudget > 0 && action.Arg < _tasks && CanMigrate(action.Arg, v),
            ActionKind.Wake => action.Arg >= _vcpus && action.Arg < _tasks && CanWake(action.Arg),
            ActionKind.HostTick => v < _vcpus && HostTickExits(v),
            ActionKind.HostExit => v < _vcpus && (CompletionCheckInjects(v) || ExitUsesUpRequest(v)),
            ActionKind.KickIlb => v < _vcpus && IsIdle(VcpuRef(v).CurrentTask) && VcpuRef(v).Inactive == 0 && VcpuRef(v).LapicEnabled == 1,
            _ => false,
        };
    }

    /// <summary>Performs one enabled action and reports what it caused to <paramref name="sink"/>.</summary>
    public void Apply<TSink>(MachineAction action, ref TSink sink)
        where TSink : IModelEventSink
    {
        var v = action.Vcpu;
        switch (action.Kind)
        {
            case ActionKind.Step:
                if (_host.DequeueOnlyAtEntry && (VcpuRef(v).Irr | VcpuRef(v).NmiPending) != 0)
                {
                    StepToWindow(v, action.Arg, ref sink);
                }
                else
                {
                    Step(v, action.Arg, ref sink);
                }

                break;
            case ActionKind.DeliverInterrupt:
                DeliverInterrupt(v, ref sink);
                break;
            case ActionKind.DeliverNmi:
                DeliverNmi(v, ref sink);
                break;
            case ActionKind.Complete:
                Complete(action.Arg, ref sink);
                break;
            case ActionKind.Dequeue:
                // The vCPU thread's kvm_check_async_pf_completion: 5.7's vcpu_run after an exit or a halt, 5.8+'s
                // vcpu_enter_guest serving the KVM_REQ_APF_READY a completion made (557a961abbe0). Its loop goes on
                // while its test holds, so a completion that sends no page-ready (a fault the guest was not told of)
                // leaves the next one to the same call, not to a later step with guest steps in between. 5.8+ takes
                // this step only while the request is pending (DequeueDue), and serving it clears it.
                if (action.Arg == v)
                {
                    ServeReadyRequest(v, ref sink);
                }
                else
                {
                    CheckCompletions(v, action.Arg, ref sink);
                }

                break;
            case ActionKind.Enter:
                Enter(v, ref sink);
                break;
            case ActionKind.RaiseNmi:
                RaiseNmi(v, ref sink);
                break;
            case ActionKind.Tick:
                Spend(ref GlobalsRef.TickBudget);
                sink.On(new ModelEvent(ModelEventKind.External, v, 0, (byte)ActionKind.Tick, 0, -1));
                if (_host.DequeueOnlyAtEntry && VcpuRef(v).Run == RunState.InGuest)
                {
                    // The guest's TSC-deadline timer expires as a VMX preemption-timer exit (KVM emulates it with
                    // that timer: start_hv_timer; handle_preemption_timer -> kvm_lapic_expired_hv_timer injects the
                    // tick); the 5.7 host dequeues page-ready at that entry.
                    sink.On(new ModelEvent(ModelEventKind.VmExit, v, 0, (byte)ExitReason.PreemptionTimer, 0, -1));
                    VcpuRef(v).Run = RunState.InHost;
                }

                // The PREEMPTION_TIMER exit is the tick's own, so it serves the request here, before the tick goes
                // in; Raise's kick would serve it too, but not where a disabled LAPIC drops the interrupt. A vCPU halted
                // in the guest (host.hlt_in_guest) is in guest mode too: under 5.7 Raise takes that exit, as
                // PREEMPTION_TIMER, where the check after it injects a page-ready.
                ServeReadyRequestAtOwnExit(v, ref sink);
                Raise(v, ModelVector.Timer, ref sink, ExitReason.PreemptionTimer);
                break;
            case ActionKind.Truncate:
                Truncate(ref sink);
                break;
            case ActionKind.Reenable:
                Reenable(ref sink);
                break;
            case ActionKind.Unblock:
                Unblock(v, ref sink);
                break;
            case ActionKind.Smi:
                Smi(v, ref sink);
                break;
            case ActionKind.Init:
                Init(v, ref sink);
                break;
            case ActionKind.Teardown:
                Teardown(ref sink);
                break;
            case ActionKind.Migrate:
                Migrate(action.Arg, v, ref sink);
                break;
            case ActionKind.Pull:
                Migrate(action.Arg, v, ref sink, byItself: true);
                break;
            case ActionKind.Wake:
                WakeBlocked(action.Arg, ref sink);
                break;
            case ActionKind.HostTick:
                HostTick(v, ref sink);
                break;
            case ActionKind.HostExit:
                HostExit(v, ref sink);
                break;
            case ActionKind.KickIlb:
                KickIlb(v, ref sink);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(action), action, "unknown action");
        }

        InterruptWindowOpens();
    }

    /// <summary>
    /// How many pages the next micro-op of vCPU <paramref name="v"/> may touch by the driver's
    /// choice (a random-pattern region not yet chosen), or 0 when the step needs no choice.
    /// </summary>
    public int ChoiceCount(int v)
    {
        ref var cpu = ref VcpuRef(v);
        var t = cpu.CurrentTask;
        ref var task = ref TaskRef(t);
        if (task.Depth == 0)
        {
            return 0;
        }

        ref var f = ref FrameRef(t, task.Depth - 1);
        var pc = ResolvePc(v, t, ref f);
        var ins = _programs[f.Program].Code[pc];
        if ((ins.Op == MicroOp.Touch || ins.Op == MicroOp.KTouch)
            && (Addressing)(ins.A & TouchFlags.AddressingMask) == Addressing.Random
            && f.R0 == 0)
        {
            return _config.Regions[ins.B].PageCount;
        }

        return 0;
    }

    /// <summary>
    /// Whether a step's choice <paramref name="arg"/> is one <see cref="VcpuActions"/> offers: 1 to
    /// <see cref="ChoiceCount"/> for a random touch (the page), 0 for any other micro-op. Without it a replayed step
    /// naming choice 998 of a two-page region passed as enabled, and the simulator's replay ran on where the checker's
    /// own confirmation (CounterexampleCheck, which compares against the listed actions) refused the step. A driver
    /// that does not enumerate choices may still step a random touch with 0 (the model's default), as it lists it.
    /// </summary>
    private bool ChoiceIsOffered(int v, int arg)
    {
        if (arg == 0)
        {
            return !_config.EnumerateChoices || ChoiceCount(v) == 0;
        }

        return arg <= ChoiceCount(v);
    }

    /// <summary>vCPU <paramref name="v"/>'s idle loop polls (TIF_POLLING_NRFLAG): a move or wake onto it sends no IPI.</summary>
    public bool IdlePolls(int v) => IdlePolling(v);

    /// <summary>The micro-op vCPU <paramref name="v"/> executes on its next step (jumps resolved), for scripts and traces.</summary>
    public Instr NextInstr(int v)
    {
        ref var cpu = ref VcpuRef(v);
        var t = cpu.CurrentTask;
        ref var task = ref TaskRef(t);
        if (task.Depth == 0)
        {
            return new Instr(MicroOp.Exit);
        }

        ref var f = ref FrameRef(t, task.Depth - 1);
        return DeactivationDue(v, t) ? new Instr(MicroOp.CpuDeactivate) : _programs[f.Program].Code[ResolvePc(v, t, ref f)];
    }

    /// <summary>
    /// The micro-op vCPU <paramref name="v"/> executes on its next step, as "task: program: op", or as
    /// "task: op" while the task runs its own program (<see cref="ProgramPrefix"/>).
    /// </summary>
    public string DescribeNext(int v)
    {
        var t = VcpuRef(v).CurrentTask;
        var name = TaskName(t);
        return TaskRef(t).Depth == 0 ? name : $"{name}: {ProgramPrefix(t)}{NextInstr(v)}";
    }

    /// <summary>
    /// "program: " for the program at task <paramref name="t"/>'s top frame (the task must have one) when it is a
    /// handler's or the idle loop's, "" when it is the task's own: a workload task's program carries the task's name,
    /// so "a: a: Touch" would say the name twice.
    /// </summary>
    public string ProgramPrefix(int t)
    {
        var program = _programs[FrameRef(t, TaskRef(t).Depth - 1).Program].Name;
        return program == TaskName(t) ? string.Empty : program + ": ";
    }

    private int MaxChoices()
    {
        var max = 1;
        foreach (var region in _config.Regions)
        {
            max = Math.Max(max, region.PageCount);
        }

        return _config.EnumerateChoices ? max : 1;
    }

    /// <summary>
    /// Whether the host's tick on vCPU <paramref name="v"/>'s pCPU is an exit the model follows:
    /// the vCPU is in guest mode, and the host is the 5.7 one, which checks completions only on
    /// its way back in (vcpu_run calls kvm_check_async_pf_completion after each vcpu_enter_guest).
    /// The 5.8+ and #VE hosts deliver page-ready without waiting for an exit (557a961abbe0's
    /// KVM_REQ_APF_READY and kick), so there the exit changes nothing but its cost, which the
    /// simulator charges without a model step, as it does the guest tick's exits.
    /// </summary>
    private bool HostTickExits(int v) => _host.DequeueOnlyAtEntry && VcpuRef(v).Run == RunState.InGuest;

    /// <summary>
    /// The host's scheduler tick interrupts the pCPU while the vCPU runs: an external-interrupt
    /// exit (VMX's external-interrupt exiting is always on: vmx_vcpu_run returns, and
    /// handle_external_interrupt_irqoff runs the host's timer handler), then 5.7's vcpu_run loop
    /// calls kvm_check_async_pf_completion before the next vcpu_enter_guest. Nothing is
    /// injected for the tick itself: the interrupt is the host's.
    /// </summary>
    private void HostTick<TSink>(int v, ref TSink sink)
        where TSink : IModelEventSink
    {
        if (!HostTickExits(v))
        {
            return;
        }

        ref var cpu = ref VcpuRef(v);
        sink.On(new ModelEvent(ModelEventKind.External, (byte)v, cpu.CurrentTask, (byte)ActionKind.HostTick, 0, -1));
        sink.On(new ModelEvent(ModelEventKind.VmExit, (byte)v, cpu.CurrentTask, (byte)ExitReason.ExternalInterrupt, 0, -1));
        cpu.Run = RunState.InHost;
    }

    /// <summary>
    /// Whether an exit of vCPU <paramref name="v"/> now would deliver a page-ready under the 5.7
    /// host. 5.7's async_pf_execute only wakes a blocked vCPU (swake_up_one); it neither kicks a
    /// running one nor makes a request (KVM_REQ_APF_READY and the kick came with 557a961abbe0), so
    /// a completion waits on the done list for the next exit, whatever its reason: vcpu_run calls
    /// kvm_check_async_pf_completion after every vcpu_enter_guest. A running vCPU exits at any
    /// instruction (the host's tick, IPIs), so the page-ready #PF may land at any instruction
    /// where kvm_arch_can_inject_async_page_present -> kvm_can_do_async_pf holds: interrupts
    /// allowed (kvm_x86_ops->interrupt_allowed), no exception or event to re-inject, and with HLT in the
    /// guest the CPL test (<see cref="CanInjectPageReadyAsPf"/>). An exit
    /// that finds nothing to dequeue changes nothing in the guest, so it is not offered; and the
    /// check it leads to always dequeues one, so exit and entry cannot loop without progress.
    /// Like every external event the checker interleaves, these exits are bounded
    /// (<see cref="Globals.HostExitBudget"/>, a model's <c>bounds.host_exits</c>): one per
    /// completion that waits would multiply the states by every instruction it may land at.
    /// A vCPU halted in the guest (host.hlt_in_guest: HLT does not exit, KVM_X86_DISABLE_EXITS_HLT) is in guest mode
    /// for this: the host's interrupt exits it all the same, and 5.7 wakes no vCPU that is not blocked in the host.
    /// </summary>
    private bool CompletionCheckInjects(int v) => GlobalsRef.HostExitBudget > 0 && CompletionCheckInjectsAtOwnExit(v);

    /// <summary>
    /// <see cref="CompletionCheckInjects"/> for an exit that is not the checker's free choice but the event's own, so it
    /// spends no <see cref="Globals.HostExitBudget"/>: the kick of an interrupt or NMI raised for vCPU
    /// <paramref name="v"/> in guest mode, or the window exit through which a guest instruction lets a held one in
    /// (<see cref="CheckCompletionsAtOwnExit"/>). The 5.7 host only: true when the check after that exit would inject a
    /// page-ready.
    /// </summary>
    private bool CompletionCheckInjectsAtOwnExit(int v)
    {
        ref var cpu = ref VcpuRef(v);
        return _host.DequeueOnlyAtEntry && _host.Ready == ReadyDelivery.PageFault && _host.PvApf
            && InGuestMode(v) && cpu.Done > 0 && cpu.ApfEnabled == 1
            && CanInjectPageReadyAsPf(v);
    }

    /// <summary>
    /// A guest step of vCPU <paramref name="v"/> under the 5.7 host while an interrupt or NMI waits that the guest could
    /// not take (the step is enabled only then: SDM Vol. 3A 6.9). Where the step lets it in, KVM without APICv learns so
    /// only from an exit: the interrupt window it asked for (enable_irq_window; vmx_enable_nmi_window for an NMI an STI
    /// shadow held) opens at sti, popf or iret, the NMI window (vmx_enable_nmi_window) at the IRET that ends NMI
    /// blocking, and a lower priority comes with the trapped EOI write or a TPR below the threshold update_cr8_intercept
    /// set. 5.7's vcpu_run calls kvm_check_async_pf_completion after that exit too, before the vcpu_enter_guest whose
    /// inject_pending_event would let the event in; where that check injects a page-ready #PF the exception goes first
    /// (kvm_event_needs_reinjection then returns early), and the interrupt waits for IF=1, the NMI for the NMI window KVM
    /// asks for next, at the #PF handler's first instruction. The model used to deliver the event at once.
    /// An interrupt window opened for an NMI the guest still blocks (its handler has not IRETed) is such an exit too.
    /// </summary>
    private void StepToWindow<TSink>(int v, ushort choice, ref TSink sink)
        where TSink : IModelEventSink
    {
        var masked = !InterruptsAllowed(v);
        var op = NextInstr(v).Op;
        Step(v, choice, ref sink);
        if (GlobalsRef.Outcome != GuestOutcome.Running || !InGuestMode(v))
        {
            // The step left guest mode (an EPT exit, an exiting HLT): that exit's check runs before the entry.
            return;
        }

        ref var cpu = ref VcpuRef(v);
        ExitReason reason;
        if (cpu.NmiIrqWindow == 1 && cpu.If == 1 && cpu.Shadow == InterruptShadow.None)
        {
            reason = ExitReason.InterruptWindow;
        }
        else if (AcceptableVector(v) >= 0)
        {
            // IF and the shadows held it (an irq window), or its priority did (the EOI or TPR write that lowered PPR).
            reason = masked ? ExitReason.InterruptWindow : op == MicroOp.SetTpr ? ExitReason.TprBelowThreshold : ExitReason.EoiWrite;
        }
        else if (CanDeliverNmi(v))
        {
            reason = ExitReason.NmiWindow;
        }
        else
        {
            return;
        }

        CheckCompletionsAtOwnExit(v, reason, 0, ref sink);
    }

    /// <summary>
    /// An external-interrupt exit of vCPU <paramref name="v"/> (the host's interrupt is the host's:
    /// nothing is injected for it), then 5.7's kvm_check_async_pf_completion (virt/kvm/async_pf.c):
    /// <c>while (!list_empty_careful(&amp;vcpu-&gt;async_pf.done) &amp;&amp; kvm_arch_can_inject_async_page_present(vcpu))</c>
    /// dequeues and injects, before vcpu_run's next vcpu_enter_guest. The first page-ready's
    /// kvm_inject_page_fault leaves exception.pending set, so kvm_can_do_async_pf ends the loop there.
    /// </summary>
    private void HostExit<TSink>(int v, ref TSink sink)
        where TSink : IModelEventSink
    {
        var injects = CompletionCheckInjects(v);
        if (!injects && !ExitUsesUpRequest(v))
        {
            return;
        }

        Spend(ref GlobalsRef.HostExitBudget);
        ref var cpu = ref VcpuRef(v);
        sink.On(new ModelEvent(ModelEventKind.External, (byte)v, cpu.CurrentTask, (byte)ActionKind.HostExit, 0, -1));
        sink.On(new ModelEvent(ModelEventKind.VmExit, (byte)v, cpu.CurrentTask, (byte)ExitReason.ExternalInterrupt, 0, -1));
        if (injects)
        {
            CheckCompletionsAfterExit(v, ref sink);
        }
        else
        {
            // 5.8+: the entry after the exit serves KVM_REQ_APF_READY with nothing to dequeue; the vCPU enters at once.
            cpu.ApfReadyRequest = 0;
        }
    }

    /// <summary>
    /// Whether an exit of vCPU <paramref name="v"/> now would use up a pending KVM_REQ_APF_READY under a 5.8+ host
    /// (page-ready by interrupt) without dequeuing: the completion made the request while the token slot was busy or
    /// the LAPIC off (<see cref="CanDequeue"/> false). A host interrupt may exit the vCPU at any instruction, and the
    /// next vcpu_enter_guest clears the request; completions after it, on a list that is not empty, make none, so
    /// what waits is dequeued only at the guest's MSR_KVM_ASYNC_PF_ACK (or a later request). The exits share the
    /// 5.7 host's bound (<see cref="Globals.HostExitBudget"/>); where the check would dequeue, the
    /// <see cref="ActionKind.Dequeue"/> step is that exit (the completion's kick) and needs no budget.
    /// </summary>
    private bool ExitUsesUpRequest(int v)
    {
        ref var cpu = ref VcpuRef(v);
        return GlobalsRef.HostExitBudget > 0 && TracksReadyRequest && cpu.ApfReadyRequest == 1
            && InGuestMode(v) && !CanDequeue(v, v);
    }

    /// <summary>
    /// Whether vCPU <paramref name="v"/>, held in the 5.7 host between an exit and its entry, enters next: 5.7's
    /// vcpu_run calls kvm_check_async_pf_completion after every vcpu_enter_guest or vcpu_block that returns 1, before
    /// the next vcpu_enter_guest, so while that check would dequeue (<see cref="CanDequeue"/>) the
    /// <see cref="ActionKind.Dequeue"/> step comes first. An entry before it would stand for a completion that came
    /// after the check, which the completion's place in the trace contradicts. The same holds for an event that ends
    /// a halt in the host, under every protocol (<see cref="Deliverable"/>).
    /// </summary>
    private bool EntryDue(int v) => !DequeueDue(v, v);

    private static void Spend(ref byte budget)
    {
        // 255 means the driver owns the source: no bound is kept in the state.
        if (budget != 255)
        {
            budget--;
        }
    }

    private bool InterruptsAllowed(int v)
    {
        // KVM's kvm_arch_interrupt_allowed: IF=1 and no STI/MOV SS shadow.
        ref var cpu = ref VcpuRef(v);
        return cpu.If == 1 && cpu.Shadow == InterruptShadow.None;
    }

    private InterruptState ArchState(int v)
    {
        ref var cpu = ref VcpuRef(v);
        return new InterruptState(cpu.If == 1, cpu.Shadow, cpu.NmiBlocked == 1, cpu.Tpr, HighestInService(cpu.Isr));
    }

    private static byte VectorNumber(ModelVector vector) => vector switch
    {
        ModelVector.Timer => 0xEC,
        ModelVector.Callback => 0xF3,
        _ => 0xFD,
    };

    private static byte HighestInService(byte isr)
    {
        for (var bit = 2; bit >= 0; bit--)
        {
            if ((isr & (1 << bit)) != 0)
            {
                return VectorNumber((ModelVector)bit);
            }
        }

        return 0;
    }

    /// <summary>The highest-priority requested vector the vCPU accepts now, or -1.</summary>
    private int AcceptableVector(int v)
    {
        ref var cpu = ref VcpuRef(v);
        if (cpu.Irr == 0)
        {
            return -1;
        }

        var state = ArchState(v);
        for (var bit = 2; bit >= 0; bit--)
        {
            if ((cpu.Irr & (1 << bit)) != 0 && EventBlocking.CanAcceptInterrupt(state, VectorNumber((ModelVector)bit)))
            {
                return bit;
            }
        }

        return -1;
    }

    /// <summary>
    /// Whether vCPU <paramref name="v"/> can take an interrupt or NMI now. In guest mode, or halted in the guest
    /// (host.hlt_in_guest), at the next instruction boundary. A vCPU whose thread is blocked in the host (KVM's
    /// artificial halt, or a guest HLT that exits) takes one only through vcpu_enter_guest, and before that the
    /// woken thread checks its completions: 5.7's vcpu_run calls kvm_check_async_pf_completion after vcpu_block
    /// returns, and 5.8+'s vcpu_enter_guest serves KVM_REQ_APF_READY before it injects events (557a961abbe0). So
    /// while that check would dequeue (<see cref="EntryDue"/>), the <see cref="ActionKind.Dequeue"/> step comes first,
    /// as it does before <see cref="ActionKind.Enter"/>.
    /// </summary>
    private bool Deliverable(int v, RunState run) => run switch
    {
        RunState.InGuest => true,
        RunState.GuestHalt => _host.HltInGuest || EntryDue(v),
        RunState.HostHalted => EntryDue(v),
        _ => false,
    };

    private bool CanDeliverInterrupt(int v) => Deliverable(v, VcpuRef(v).Run) && AcceptableVector(v) >= 0;

    private bool CanDeliverNmi(int v)
    {
        ref var cpu = ref VcpuRef(v);
        // An NMI held behind an interrupt window (vmx_enable_nmi_window found STI blocking) is not injected
        // when the shadow ends: KVM waits for that window's exit or for KVM_REQ_EVENT.
        return cpu.NmiPending != 0 && cpu.NmiIrqWindow == 0 && Deliverable(v, cpu.Run)
            && EventBlocking.CanAcceptNmi(ArchState(v), _guest.StiBlocksNmi);
    }
}
