namespace Vexlab.Model.Guest;

/// <summary>
/// One atomic guest step. Task programs and every kernel handler are arrays of these; an NMI
/// or an interrupt can land between any two, as on hardware. Jumps cost no step.
/// </summary>
public enum MicroOp : byte
{
    // Control flow: evaluated without a step.
    Jump,
    JumpIf,

    // Task programs.
    Compute,
    Touch,
    SyscallEnter,
    SyscallExit,
    Cli,
    Sti,
    PreemptOff,
    PreemptOn,
    RcuLock,
    RcuUnlock,
    SetTpr,
    Yield,

    /// <summary>One pass of the task's loop done; with (A &lt;&lt; 16) | B above 0, the task exits once it has done that many.</summary>
    WorkDone,
    Exit,
    LapicEnable,

    // Kernel programs.
    KTouch,
    TracePoint,
    ReadCr2,
    ReadResetApfFlags,
    NmiEnter,
    NmiSaveCr2,
    NmiRestoreCr2,
    NmiSaveApfFlags,
    NmiRestoreApfFlags,
    NmiExit,
    ApfQueueTask,
    WaitCheck,
    SleepSchedule,
    ApfWakeLookup,
    ApfAllocDummy,
    ApfWakeInsert,
    ReadApfToken,
    ClearApfToken,
    WrmsrApfAck,
    Eoi,
    TimerWork,
    ExitPreempt,
    HaltWait,
    Schedule,
    SafeHaltSti,
    Hlt,
    Iret,
    Panic,
    BadAreaFault,
    MinorFault,
    SendSigbus,
    FixupOrDie,
    StoreVeInfo,
    ClearVeBusy,
    ResolveEptSuspend,
    InitCompletion,
    IrqEnable,
    IrqDisable,
    ResolveEptContinue,
    CompletionWaitCheck,
    DrainWakeupRing,
    EntryGapTouch,

    /// <summary>
    /// kvm_guest_cpu_offline (CPU offline, kexec): kvm_pv_disable_apf() writes 0 to
    /// MSR_KVM_ASYNC_PF_EN (the host clears its completion queue without notifying), then
    /// apf_task_wake_all() wakes this CPU's sleepers.
    /// </summary>
    ApfDisable,

    /// <summary>mmap of anonymous memory: region B's pages are unmapped and fresh (the first touch zeroes each).</summary>
    Alloc,

    /// <summary>munmap (or MADV_DONTNEED): region B's pages leave the page table; a later touch gets a fresh page.</summary>
    Free,

    /// <summary>The task blocks (A = <see cref="BlockKind"/>; B = the driver's sleep length, its index + 1) until an external wake.</summary>
    Block,

    /// <summary>
    /// sched_cpu_deactivate (CPUHP_AP_ACTIVE), the first teardown step of a CPU's hotplug thread: the CPU leaves
    /// cpu_active_mask. No program holds it: the machine steps it before the first op of a task whose program runs
    /// <see cref="ApfDisable"/> (kvm_cpu_down_prepare, CPUHP_AP_ONLINE_DYN, a later teardown step of the same thread).
    /// </summary>
    CpuDeactivate,

    /// <summary>
    /// The idle loop sets TIF_POLLING_NRFLAG again (cpuidle_idle_call's exit, or do_idle's start after
    /// schedule_idle): from here until the loop's schedule check, a wake or a move to this CPU sets
    /// need_resched without a reschedule IPI (resched_curr's set_nr_and_not_polling, the wake list's
    /// set_nr_if_polling).
    /// </summary>
    SetPolling,

    /// <summary>
    /// do_idle's exit clears TIF_POLLING_NRFLAG (__current_clr_polling) with interrupts on, after
    /// cpuidle_idle_call's need_resched test turned them back on and before schedule_idle(): from here a
    /// wake through the wake list sends its IPI again (set_nr_if_polling fails); resched_curr still sends
    /// none, as need_resched is set on this way out.
    /// </summary>
    ClearPolling,
}

/// <summary>Conditions a <see cref="MicroOp.JumpIf"/> tests; evaluated on the frame and its vCPU.</summary>
public enum Condition : byte
{
    /// <summary>R1 (the APF flags the entry read) is 0: an ordinary #PF.</summary>
    FlagsZero,
    FlagsNotPresent,
    FlagsReady,
    InterruptedIfZero,
    InterruptedUser,
    InterruptedKernel,
    /// <summary>The waiter's sleep node has been unhashed (or a dummy was consumed).</summary>
    Woken,
    /// <summary>R1 holds an error status from resolve_ept or the wakeup.</summary>
    ErrorStatus,
    /// <summary>The protocol's can_continue policy allows "do other stuff" for the interrupted context.</summary>
    CanContinue,
    /// <summary>The interrupted task cannot schedule (idle, preempt count, RCU, non-preemptible kernel).</summary>
    CannotSchedule,
    /// <summary>R0 is the broadcast token ~0.</summary>
    TokenBroadcast,
    /// <summary>The lookup in the sleep table found the token (R1 = 1).</summary>
    Found,
    /// <summary>The NMI handler was latched again while running (Linux nmi_state).</summary>
    NmiLatched,
    /// <summary>This NMI is nested inside a running NMI handler.</summary>
    NmiNested,
    /// <summary>The VE info says the page is unrecoverable as far as the handler can tell.</summary>
    VeKnownUnrecoverable,
    Always,

    /// <summary>
    /// The guest's per-CPU apf_reason.enabled is clear (kvm_pv_disable_apf ran): the page-ready
    /// handler neither reads the token nor acknowledges it (sysvec_kvm_asyncpf_interrupt).
    /// </summary>
    ApfReasonDisabled,

    /// <summary>
    /// The vCPU's need_resched is set: the idle loop's need_resched() (do_idle's while test, cpuidle_idle_call's test
    /// with interrupts off, default_idle_call's current_clr_polling_and_test()).
    /// </summary>
    NeedResched,
}

/// <summary>One instruction of a guest program: an op, a small argument, a jump target.</summary>
public readonly record struct Instr(MicroOp Op, byte A = 0, ushort B = 0)
{
    public override string ToString() => Op switch
    {
        MicroOp.Jump => $"jump {B}",
        MicroOp.JumpIf => $"if {(Condition)A} jump {B}",
        _ => A == 0 && B == 0 ? Op.ToString() : $"{Op} {A} {B}",
    };
}
