namespace Vexlab.Model.Machine;

/// <summary>What a step did, as the drivers and properties need to know it.</summary>
public enum ModelEventKind : byte
{
    /// <summary>A VM exit; Aux = <see cref="ExitReason"/>.</summary>
    VmExit,

    /// <summary>An exception reached the guest IDT; Aux = vector, Token = CR2 or 0.</summary>
    ExceptionDelivered,

    /// <summary>The host or a guest raised an interrupt; Aux = <see cref="ModelVector"/>.</summary>
    InterruptRaised,

    /// <summary>An interrupt raised on a vCPU whose LAPIC is disabled was dropped.</summary>
    InterruptDropped,
    InterruptDelivered,
    NmiDelivered,

    /// <summary>Hardware delivered #VE without an exit; Page = the page.</summary>
    VeDelivered,

    /// <summary>The host resolves the page with the vCPU suspended; Page = the page.</summary>
    SyncStall,
    ArtificialHalt,
    Unhalted,

    /// <summary>
    /// Async work started; Token, Page. Aux = 0: KVM work the guest was not told of (artificial
    /// halt); 1: KVM work with a not-present event; 2: the #VE design's resolve_ept(can_continue=true).
    /// </summary>
    AsyncStarted,

    /// <summary>A host work item finished; Aux = 1 when it failed (unrecoverable page).</summary>
    WorkCompleted,

    /// <summary>The host dequeued a completion; Aux = 1 when the guest is notified.</summary>
    ReadyDequeued,
    TaskWoken,
    TaskSlept,
    ContextSwitch,

    /// <summary>A signal was sent; Aux = <see cref="Signal"/>.</summary>
    Signal,

    /// <summary>The guest died; Aux = <see cref="Guest.PanicReason"/>.</summary>
    Oops,

    /// <summary>
    /// The host gave up on the VM (error exit to the VMM); Page = the page. Aux = 1: a triple fault, KVM_EXIT_SHUTDOWN
    /// (no page).
    /// </summary>
    VmError,
    TaskExited,

    /// <summary>A task finished one iteration of its loop (its unit of work).</summary>
    IterationDone,

    /// <summary>A task's access hit a host-absent page (start of a fault's latency).</summary>
    AccessFault,

    /// <summary>A task's access completed; Page = the page; Aux = 1 with an exception-table fixup; Token = 1 for a store.</summary>
    AccessDone,

    /// <summary>A kernel access failed and its fixup returned -EFAULT.</summary>
    Fixup,

    /// <summary>A hypercall; Aux = 1 for resolve_ept(can_continue=true).</summary>
    Hypercall,

    /// <summary>The host filled a page without I/O in its exit handler.</summary>
    MinorEptFault,

    /// <summary>The guest handled an ordinary #PF (made its PTE present); Aux = 1 when it zeroed a fresh page first.</summary>
    GuestMinorFault,

    /// <summary>A safety property broke; Aux = <see cref="Properties.SafetyProperty"/>.</summary>
    PropertyViolated,

    /// <summary>The guest executed HLT.</summary>
    GuestHalted,

    /// <summary>One compute step.</summary>
    Compute,

    /// <summary>One micro-op of kernel bookkeeping.</summary>
    KernelStep,

    /// <summary>An external event: Aux = <see cref="ActionKind"/>.</summary>
    External,

    /// <summary>A task blocked in its own code; Aux = <see cref="Guest.BlockKind"/>, Token = the op's B (a sleep's length index + 1).</summary>
    TaskBlocked,

    /// <summary>An alloc (Aux = 0) or free (Aux = 1) of a region; Token = its index, Page = its first page.</summary>
    RegionMapped,

    /// <summary>A file read looked a page up in the guest page cache; Aux = 1 hit, 0 miss (the task then sleeps on the disk read); Page = the page.</summary>
    PageCacheLookup,
}

public enum ExitReason : byte
{
    EptViolation,
    Hlt,
    MsrWrite,
    Vmcall,
    ExternalInterrupt,
    ExceptionNmi,

    /// <summary>
    /// VMX preemption timer (basic exit reason 52): the guest's TSC-deadline timer, which KVM emulates with it
    /// (kvm_intel.preemption_timer, on by default since ce7a058a2117), expired while the vCPU ran the guest.
    /// </summary>
    PreemptionTimer,

    /// <summary>
    /// Interrupt-window exiting (basic exit reason 7): KVM asked for it (enable_irq_window) for an interrupt, or an NMI
    /// an STI shadow held (vmx_enable_nmi_window), that the guest could not take, and the guest's instruction set
    /// RFLAGS.IF with no STI or MOV SS blocking left (sti, popf, iret). Reported only where the 5.7 host's
    /// kvm_check_async_pf_completion after it injects a page-ready.
    /// </summary>
    InterruptWindow,

    /// <summary>
    /// NMI-window exiting (basic exit reason 8): KVM asked for it (vmx_enable_nmi_window) for an NMI the guest blocked,
    /// and the guest's IRET ended NMI blocking. Reported only where the 5.7 host's check after it injects a page-ready.
    /// </summary>
    NmiWindow,

    /// <summary>
    /// The guest's EOI write, trapped without APICv (x2APIC: an MSR_WRITE exit, MSR 0x80b; KVM's PV EOI is off while
    /// another interrupt is pending, apic_sync_pv_eoi_to_guest), which let a lower-priority pending interrupt in.
    /// Reported only where the 5.7 host's check after it injects a page-ready.
    /// </summary>
    EoiWrite,

    /// <summary>
    /// TPR below threshold (basic exit reason 43): the guest lowered its TPR under the priority of its highest pending
    /// interrupt, the threshold KVM set (update_cr8_intercept). Reported only where the 5.7 host's check after it
    /// injects a page-ready.
    /// </summary>
    TprBelowThreshold,
}

public enum Signal : byte
{
    SIGBUS,
    SIGSEGV,
}

/// <summary>One model event. Small and unmanaged: sinks see it by reference, nothing allocates.</summary>
public readonly record struct ModelEvent(ModelEventKind Kind, byte Vcpu, byte Task, byte Aux, uint Token, int Page);

/// <summary>
/// Receives model events; drivers implement it as a struct so calls are not virtual. It also takes
/// the guest scheduler's decisions, which the model leaves to its driver: the timed driver answers
/// with a policy (EEVDF, CFS); the checker answers with the model's default, preempting at every
/// chance it has. Of the answers only a woken task's vCPU (<see cref="SelectTaskRq"/>) enters the
/// machine's state; the checker's sink never moves one. A struct sink should implement the
/// five methods itself: calling a default interface method on a struct boxes it.
/// </summary>
public interface IModelEventSink
{
    void On(in ModelEvent e);

    /// <summary>pick_next_task on vCPU <paramref name="vcpu"/>: a runnable task of that vCPU, or <paramref name="fallback"/> (the model's round robin; the idle task when none is runnable).</summary>
    int PickNextTask(int vcpu, int current, int fallback) => fallback;

    /// <summary>The tick's preemption check (scheduler_tick -> task_tick_fair): true sets need_resched on <paramref name="vcpu"/>.</summary>
    bool PreemptOnTick(int vcpu, int current) => true;

    /// <summary>check_preempt_wakeup: does task <paramref name="woken"/> preempt the running task of <paramref name="vcpu"/>.</summary>
    bool PreemptOnWakeup(int vcpu, int woken) => true;

    /// <summary>
    /// attach_task's check_preempt_curr: does task <paramref name="moved"/>, just moved by the load
    /// balancer, preempt the running task of busy vCPU <paramref name="vcpu"/>. The checker answers
    /// yes, as it does for a wakeup: the reschedule that follows offers every runnable task of that
    /// vCPU (<see cref="ScheduleChoice"/>), the interrupted one included, so no policy's order is lost.
    /// </summary>
    bool PreemptOnAttach(int vcpu, int moved) => true;

    /// <summary>
    /// select_task_rq for sleeping task <paramref name="woken"/>, woken by vCPU <paramref name="vcpu"/>:
    /// the vCPU it should be enqueued on. The model enqueues it there, and asks
    /// <see cref="PreemptOnWakeup"/> of that vCPU only, when a move is allowed (a workload user
    /// task, within the move budget); any other answer leaves it where it slept. The checker
    /// answers the task's own vCPU: it moves tasks only by its Migrate actions.
    /// </summary>
    int SelectTaskRq(int vcpu, int woken) => -1;
}

/// <summary>A sink that ignores everything.</summary>
public struct NullSink : IModelEventSink
{
    public readonly void On(in ModelEvent e)
    {
    }

    public readonly int PickNextTask(int vcpu, int current, int fallback) => fallback;

    public readonly bool PreemptOnTick(int vcpu, int current) => true;

    public readonly bool PreemptOnWakeup(int vcpu, int woken) => true;

    public readonly bool PreemptOnAttach(int vcpu, int moved) => true;

    public readonly int SelectTaskRq(int vcpu, int woken) => -1;
}
