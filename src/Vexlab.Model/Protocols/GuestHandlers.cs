using Vexlab.Model.Guest;

namespace Vexlab.Model.Protocols;

/// <summary>
/// The guest kernel's handler programs, micro-op by micro-op. Each names the kernel function it
/// models; a knob adds, removes or moves one step, never changes the interpreter.
/// </summary>
public static class GuestHandlers
{
    /// <summary>exc_page_fault of a guest without async PF: read CR2, then an ordinary fault.</summary>
    public static GuestProgram PageFaultPlain() => new ProgramBuilder("exc_page_fault")
        .Op(MicroOp.ReadCr2)
        .Op(MicroOp.MinorFault)
        .Op(MicroOp.Iret)
        .Build();

    /// <summary>
    /// exc_page_fault + __kvm_handle_async_pf of a 5.9+ guest (arch/x86/kernel/kvm.c): the flags
    /// are read and reset first; an async #PF with IF=0 panics (6bca69ada4bc), one from kernel mode
    /// too (3a7c8fafd1b4); the task waits in kvm_async_pf_task_wait_schedule.
    /// </summary>
    public static GuestProgram PageFaultEntry59(KnobSet knobs)
    {
        var b = new ProgramBuilder("exc_page_fault (5.9)");
        ReadFaultInfo(b, knobs);
        b.JumpIf(Condition.FlagsZero, "ordinary")
            .JumpIf(Condition.InterruptedIfZero, "panic_irqs_off")
            .JumpIf(Condition.InterruptedKernel, "panic_kernel");
        WaitSchedule(b, "done");
        b.Label("done");
        if (knobs.Bool("host.apf.report_errors"))
        {
            // The guest half of the PAGE_ERROR proposal: a task woken with is_err sends itself SIGBUS.
            b.JumpIf(Condition.ErrorStatus, "sigbus");
        }

        b.Op(MicroOp.Iret)
            .Label("ordinary").Op(MicroOp.MinorFault).Op(MicroOp.Iret)
            .Label("sigbus").Op(MicroOp.SendSigbus)
            .Label("panic_irqs_off").Op(MicroOp.Panic, (byte)PanicReason.AsyncPfIrqsDisabled)
            .Label("panic_kernel").Op(MicroOp.Panic, (byte)PanicReason.AsyncPfKernelMode);
        return b.Build();
    }

    /// <summary>
    /// do_async_page_fault of a 5.7 guest: NOT_PRESENT waits (schedule, or a safe_halt loop when the
    /// task cannot schedule: Condition.CannotSchedule, kvm_async_pf_task_wait's n.halted), PAGE_READY
    /// wakes; no panics.
    /// </summary>
    public static GuestProgram PageFaultEntry57(KnobSet knobs)
    {
        var b = new ProgramBuilder("do_async_page_fault (5.7)");
        ReadFaultInfo(b, knobs);
        b.JumpIf(Condition.FlagsZero, "ordinary")
            .JumpIf(Condition.FlagsReady, "ready")
            .Op(MicroOp.ApfQueueTask)
            .JumpIf(Condition.Woken, "done")
            .JumpIf(Condition.CannotSchedule, "halt");
        b.Label("wait")
            .Op(MicroOp.WaitCheck)
            .JumpIf(Condition.Woken, "done")
            .Op(MicroOp.IrqEnable)
            .Op(MicroOp.SleepSchedule)
            .Op(MicroOp.IrqDisable)
            .Jump("wait");
        // kvm_async_pf_task_wait with n.halted: native_safe_halt() until the node is unhashed; the
        // waker sends a reschedule IPI to break the HLT.
        b.Label("halt")
            .Op(MicroOp.WaitCheck, 1)
            .JumpIf(Condition.Woken, "done")
            .Op(MicroOp.SafeHaltSti)
            .Op(MicroOp.Hlt)
            .Op(MicroOp.Cli)
            .Jump("halt");
        b.Label("ready");
        Wake57(b);
        b.Label("done").Op(MicroOp.ExitPreempt).Op(MicroOp.Iret)
            .Label("ordinary").Op(MicroOp.MinorFault).Op(MicroOp.Iret);
        return b.Build();
    }

    /// <summary>
    /// sysvec_kvm_asyncpf_interrupt (b1d405751cd5): EOI; then, only while apf_reason.enabled, read
    /// the token, wake, clear the slot, ACK. kvm_cpu_down_prepare runs kvm_guest_cpu_offline with
    /// interrupts off, so a page-ready raised before its MSR write arrives after the flag is clear.
    /// </summary>
    public static GuestProgram ApfReadyInterrupt()
    {
        var b = new ProgramBuilder("sysvec_kvm_asyncpf_interrupt")
            .Op(MicroOp.Eoi)
            .JumpIf(Condition.ApfReasonDisabled, "out")
            .Op(MicroOp.ReadApfToken);
        Wake(b, "clear");
        return b.Label("clear")
            .Op(MicroOp.ClearApfToken)
            .Op(MicroOp.WrmsrApfAck)
            .Label("out")
            .Op(MicroOp.ExitPreempt)
            .Op(MicroOp.Iret)
            .Build();
    }

    /// <summary>
    /// The seed's #VE handler: unrecoverable -> SIGBUS or fixup/die; store the VE info; clear the
    /// busy word; resolve_ept(false) or a completion, resolve_ept(true) and a wait.
    /// </summary>
    public static GuestProgram VeHandler(KnobSet knobs, VeConvertible convertible)
    {
        var clear = knobs.Text("guest.ve.clear_busy");
        var b = new ProgramBuilder("exc_virtualization_exception (seed)");
        if (convertible == VeConvertible.UnrecoverableOnly)
        {
            b.JumpIf(Condition.VeKnownUnrecoverable, "early");
        }

        if (knobs.Bool("guest.ve.trace_point"))
        {
            b.Op(MicroOp.TracePoint);
        }

        if (clear == "before-store")
        {
            b.Op(MicroOp.ClearVeBusy);
        }

        b.Op(MicroOp.StoreVeInfo);
        if (clear == "after-store")
        {
            b.Op(MicroOp.ClearVeBusy);
        }

        var clearAfterHypercall = clear == "after-hypercall";
        var irqAfterHypercall = knobs.Text("guest.ve.irq_enable") == "after-hypercall";
        b.JumpIf(Condition.CanContinue, "continue")
            .Op(MicroOp.ResolveEptSuspend);
        if (clearAfterHypercall)
        {
            b.Op(MicroOp.ClearVeBusy);
        }

        b.JumpIf(Condition.ErrorStatus, "unrecoverable")
            .Op(MicroOp.Iret);
        b.Label("continue")
            .Op(MicroOp.InitCompletion);
        if (!irqAfterHypercall)
        {
            b.Op(MicroOp.IrqEnable);
        }

        b.Op(MicroOp.ResolveEptContinue);
        if (clearAfterHypercall)
        {
            b.Op(MicroOp.ClearVeBusy);
        }

        if (irqAfterHypercall)
        {
            // The completion was initialised before the hypercall: a wakeup taken here is not lost.
            b.Op(MicroOp.IrqEnable);
        }

        b.Label("wait")
            .Op(MicroOp.CompletionWaitCheck)
            .JumpIf(Condition.Woken, "woken")
            .Op(MicroOp.SleepSchedule)
            .Jump("wait")
            .Label("woken")
            .Op(MicroOp.IrqDisable)
            .JumpIf(Condition.ErrorStatus, "unrecoverable")
            .Op(MicroOp.Iret);
        b.Label("early");
        if (clear != "never")
        {
            b.Op(MicroOp.ClearVeBusy);
        }

        b.Label("unrecoverable")
            .JumpIf(Condition.InterruptedUser, "signal")
            .Op(MicroOp.FixupOrDie)
            .Op(MicroOp.Iret)
            .Label("signal")
            .Op(MicroOp.SendSigbus);
        return b.Build();
    }

    /// <summary>The #VE design's wakeup interrupt: EOI, drain the ring, complete each token.</summary>
    public static GuestProgram VeWakeupInterrupt() => new ProgramBuilder("ve_wakeup_interrupt")
        .Op(MicroOp.Eoi)
        .Op(MicroOp.DrainWakeupRing)
        .Op(MicroOp.ExitPreempt)
        .Op(MicroOp.Iret)
        .Build();

    /// <summary>A guest without #VE support dies on one (exc_virtualization_exception is TDX-only).</summary>
    public static GuestProgram UnexpectedVe() => new ProgramBuilder("unexpected #VE")
        .Op(MicroOp.Panic, (byte)PanicReason.UnexpectedVe)
        .Build();

    public static GuestProgram SpuriousInterrupt() => new ProgramBuilder("spurious_interrupt")
        .Op(MicroOp.Eoi)
        .Op(MicroOp.Iret)
        .Build();

    /// <summary>
    /// exc_nmi: nmi_state latch (a nested NMI after an early IRET is latched and the handler repeats),
    /// CR2 saved once per outer NMI, the body (perf's user call chain walk), CR2 restored.
    /// </summary>
    public static GuestProgram Nmi(KnobSet knobs, string protocol)
    {
        var b = new ProgramBuilder("exc_nmi")
            .Op(MicroOp.NmiEnter)
            .JumpIf(Condition.NmiNested, "nested");
        if (protocol == "ve" && !knobs.Bool("guest.ve.register_never_convertible"))
        {
            // NMI entry text before the nested-NMI setup is convertible in this variant.
            b.Op(MicroOp.EntryGapTouch);
        }

        var saveCr2 = knobs.Bool("guest.nmi.save_restore_cr2");
        var saveFlags = knobs.Bool("guest.nmi.save_restore_apf_flags") && protocol is "kvm-pf" or "kvm-pf-int";
        if (saveCr2)
        {
            b.Op(MicroOp.NmiSaveCr2);
        }

        if (saveFlags)
        {
            b.Op(MicroOp.NmiSaveApfFlags);
        }

        b.Label("restart")
            .Op(MicroOp.KTouch, (byte)((byte)Addressing.Config | TouchFlags.Fixup), (ushort)ConfigPage.NmiTouch);
        if (saveFlags)
        {
            b.Op(MicroOp.NmiRestoreApfFlags);
        }

        if (saveCr2)
        {
            b.Op(MicroOp.NmiRestoreCr2);
        }

        return b.Op(MicroOp.NmiExit)
            .JumpIf(Condition.NmiLatched, "restart")
            .Op(MicroOp.Iret)
            .Label("nested")
            .Op(MicroOp.Iret)
            .Build();
    }

    public static GuestProgram TimerInterrupt() => new ProgramBuilder("sysvec_apic_timer_interrupt")
        .Op(MicroOp.Eoi)
        .Op(MicroOp.TimerWork)
        .Op(MicroOp.ExitPreempt)
        .Op(MicroOp.Iret)
        .Build();

    public static GuestProgram RescheduleInterrupt() => new ProgramBuilder("sysvec_reschedule_ipi")
        .Op(MicroOp.Eoi)
        .Op(MicroOp.ExitPreempt)
        .Op(MicroOp.Iret)
        .Build();

    /// <summary>
    /// do_idle: its while test, then irqs off, and with nothing runnable safe_halt (STI;HLT). The CPU polls (TIF_POLLING_NRFLAG) from
    /// <see cref="MicroOp.SetPolling"/> through the need_resched test, which stands for cpuidle_idle_call's test and
    /// default_idle_call's current_clr_polling_and_test() together (interrupts are off between them); the HLT runs
    /// with polling clear, and the wake from it sets it again only once the interrupt has been handled
    /// (cpuidle_idle_call's exit). need_resched set before the loop's cli leaves do_idle's while test at once, with
    /// interrupts never off ("out"); set after it, the loop leaves at "exit": cpuidle_idle_call turns interrupts on
    /// and returns. Either way do_idle clears polling (<see cref="MicroOp.ClearPolling"/>) and calls schedule_idle(),
    /// with interrupts on, so an interrupt or a wake can come between the test and the switch. A CPU brought up
    /// enters at "online": kvm_cpu_online wrote MSR_KVM_ASYNC_PF_EN with interrupts off, and they come on before
    /// do_idle.
    /// </summary>
    public static GuestProgram Idle() => new ProgramBuilder("do_idle")
        .Label("loop")
        .JumpIf(Condition.NeedResched, "out")
        .Op(MicroOp.Cli)
        .JumpIf(Condition.NeedResched, "exit")
        .Op(MicroOp.SafeHaltSti)
        .Op(MicroOp.Hlt)
        .Label("top")
        .Op(MicroOp.SetPolling)
        .Jump("loop")
        .Label("online")
        .Op(MicroOp.IrqEnable)
        .Jump("top")
        .Label("exit")
        .Op(MicroOp.IrqEnable)
        .Label("out")
        .Op(MicroOp.ClearPolling)
        .Op(MicroOp.Schedule)
        .Jump("top")
        .Build();

    /// <summary>
    /// The #PF entry up to the handler's decision: the reads of CR2 and the APF flags, and the trace point of the
    /// entry (TRACE_IRQS_OFF, enter_from_user_mode's context tracking) that can fault between or before them.
    /// </summary>
    /// <remarks>
    /// 5.3 to 5.7 (a0d14b8909de): idtentry_part reads CR2 into R12 first, then runs TRACE_IRQS_OFF and
    /// CALL_enter_from_user_mode, and only then calls the C handler, whose first act is to read and reset the
    /// reason (do_async_page_fault, or kvm_handle_async_pf from do_page_fault). 5.8 (91eeafea1e4b) reads CR2 and
    /// calls kvm_handle_async_pf in the noinstr exc_page_fault before idtentry_enter_cond_rcu, so nothing traced
    /// runs before either read.
    /// </remarks>
    private static void ReadFaultInfo(ProgramBuilder b, KnobSet knobs)
    {
        var order = knobs.Text("guest.pf.read_order");
        if (order == "trace-first")
        {
            b.Op(MicroOp.TracePoint);
        }

        b.Op(MicroOp.ReadCr2);
        if (order == "cr2-first")
        {
            b.Op(MicroOp.TracePoint);
        }

        b.Op(MicroOp.ReadResetApfFlags);
    }

    /// <summary>kvm_async_pf_task_wait_schedule: queue (or consume a dummy), then the swait loop.</summary>
    private static void WaitSchedule(ProgramBuilder b, string done)
    {
        b.Op(MicroOp.ApfQueueTask)
            .JumpIf(Condition.Woken, done)
            .Label("wait")
            .Op(MicroOp.WaitCheck)
            .JumpIf(Condition.Woken, done)
            .Op(MicroOp.IrqEnable)
            .Op(MicroOp.SleepSchedule)
            .Op(MicroOp.IrqDisable)
            .Jump("wait");
    }

    /// <summary>
    /// 5.7's kvm_async_pf_task_wake(R0): wake-all, or, under the bucket's raw_spin_lock, wake one or
    /// kzalloc(GFP_ATOMIC) and hash a dummy; the lookup and the insert are one step against
    /// kvm_async_pf_task_wait's. 0547758a6de3 (2022) moved the allocation out of the lock (<see cref="Wake"/>).
    /// </summary>
    private static void Wake57(ProgramBuilder b) => b.Op(MicroOp.ApfWakeLookup, 1);

    /// <summary>kvm_async_pf_task_wake(R0) since 0547758a6de3: wake-all, wake one, or drop the lock, allocate and insert a dummy.</summary>
    private static void Wake(ProgramBuilder b, string done)
    {
        b.Op(MicroOp.ApfWakeLookup)
            .JumpIf(Condition.Woken, done)
            .Op(MicroOp.ApfAllocDummy)
            .Op(MicroOp.ApfWakeInsert);
    }
}
