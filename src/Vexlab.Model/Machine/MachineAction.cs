namespace Vexlab.Model.Machine;

public enum ActionKind : byte
{
    /// <summary>vCPU executes its next micro-op; Arg = the driver's choice for a random touch.</summary>
    Step,

    /// <summary>The highest acceptable pending interrupt is delivered to the vCPU.</summary>
    DeliverInterrupt,

    /// <summary>A pending NMI is delivered to the vCPU.</summary>
    DeliverNmi,

    /// <summary>The host finishes work item Arg.</summary>
    Complete,

    /// <summary>The host dequeues a completion of vCPU Arg and notifies vCPU Vcpu (kvm_check_async_pf_completion).</summary>
    Dequeue,

    /// <summary>VM entry of a vCPU held in the host, injecting its pending event.</summary>
    Enter,

    /// <summary>External: an NMI arrives at the vCPU (perf).</summary>
    RaiseNmi,

    /// <summary>External: a timer tick on the vCPU.</summary>
    Tick,

    /// <summary>External: the host truncates the DAX file; its pages become unrecoverable.</summary>
    Truncate,

    /// <summary>External: migration completes and the guest's APF MSR is restored: wake all.</summary>
    Reenable,

    /// <summary>
    /// kvm_vcpu_block returns for a halted vCPU because its done list is not empty
    /// (kvm_vcpu_has_events), although no completion can be dequeued: the halt ends and the
    /// vCPU runs on (an artificial halt retries its access).
    /// </summary>
    Unblock,

    /// <summary>
    /// External: an SMI on the vCPU (firmware, a write to the APM port): SMM entry, the SMM
    /// handler and RSM, whose kvm_set_cr0 toggles CR0.PG (kvm_post_set_cr0).
    /// </summary>
    Smi,

    /// <summary>
    /// External: INIT to an offline vCPU and its bring-up (kvm_vcpu_reset(init_event=true),
    /// then the guest's start_secondary enables the LAPIC and kvm_guest_cpu_init enables APF).
    /// </summary>
    Init,

    /// <summary>External: the VMM closes the VM (kvm_destroy_vm once the last reference is put).</summary>
    Teardown,

    /// <summary>
    /// The guest's load balancer moves runnable user task Arg to vCPU Vcpu (detach_task and
    /// attach_task); an idle destination is kicked to schedule it.
    /// </summary>
    Migrate,

    /// <summary>
    /// External: task Arg, blocked with <see cref="Guest.MicroOp.Block"/>, is woken (its hrtimer
    /// fired, or a request arrived): try_to_wake_up from the interrupt that brought it, on vCPU Vcpu.
    /// </summary>
    Wake,

    /// <summary>
    /// External: the host's own scheduler tick on the pCPU that runs vCPU Vcpu in guest mode: an
    /// external-interrupt exit (PIN_BASED_EXT_INTR_MASK), after which the 5.7 host's vcpu_run
    /// checks completions (kvm_check_async_pf_completion) before it enters again. Only the timed
    /// driver takes it (host.hz); the checker's guest Tick already reaches the same exit.
    /// </summary>
    HostTick,

    /// <summary>
    /// External, checker only: the pCPU running vCPU Vcpu in guest mode takes a host interrupt (the
    /// host's tick, an IPI, a device's: any EXTERNAL_INTERRUPT exit), and the 5.7 host's vcpu_run
    /// calls kvm_check_async_pf_completion before it enters again. Listed only under the 5.7 host
    /// and only while that check would inject a page-ready (a completion on the vCPU's done list,
    /// kvm_arch_can_inject_async_page_present true); any other such exit leaves the guest as it was.
    /// Each spends one of the model's <c>bounds.host_exits</c>.
    /// </summary>
    HostExit,

    /// <summary>
    /// External, timed driver only: a busy vCPU's tick kicks the idle load balancer, vCPU Vcpu
    /// (nohz_balancer_kick -> kick_ilb): its IPI, whose handler raises the balance softirq. The balance
    /// itself is the driver's; the kick is the interrupt that wakes the balancer from its HLT.
    /// </summary>
    KickIlb,

    /// <summary>
    /// External, timed driver only: vCPU Vcpu's own load balance (at its tick, or new-idle in its schedule) pulls
    /// runnable task Arg to itself: detach_task and attach_task as <see cref="Migrate"/>, but attach_task's
    /// resched_curr runs on the destination itself, which only sets need_resched (no IPI).
    /// </summary>
    Pull,
}

/// <summary>
/// One enabled step. Packs into 32 bits for the checker's traces: the pick in bits 29-31, the kind
/// in 24-28, the vCPU in 16-23, the argument in 0-15.
/// </summary>
/// <param name="Kind">What happens.</param>
/// <param name="Vcpu">The vCPU it happens on (the destination of a migration).</param>
/// <param name="Arg">The driver's choice of page for a random touch, a work item, a source vCPU or a task, by kind.</param>
/// <param name="Pick">
/// The driver's choice at the step's pick_next_task (<see cref="ScheduleChoice"/>): 0 the model's
/// default; the machine itself never reads it, the driver's event sink answers with it.
/// </param>
public readonly record struct MachineAction(ActionKind Kind, byte Vcpu, ushort Arg, byte Pick = 0)
{
    public uint Pack() => ((uint)(Pick & 0x07) << 29) | ((uint)Kind << 24) | ((uint)Vcpu << 16) | Arg;

    public static MachineAction Unpack(ulong packed) =>
        new((ActionKind)((packed >> 24) & 0x1F), (byte)((packed >> 16) & 0xFF), (ushort)(packed & 0xFFFF), (byte)((packed >> 29) & 0x07));

    /// <summary>The same step with the scheduler's choice <paramref name="pick"/>.</summary>
    public MachineAction WithPick(int pick) => this with { Pick = (byte)pick };

    public override string ToString() => Pick == 0 ? Describe() : Describe() + $" (schedule: alternative {Pick})";

    private string Describe() => Kind switch
    {
        ActionKind.Complete => $"host: complete work {Arg}",
        ActionKind.Dequeue => Arg == Vcpu ? $"host: dequeue completion on vCPU{Vcpu}" : $"host: dequeue vCPU{Arg}'s completion onto vCPU{Vcpu}",
        ActionKind.Truncate => "host: truncate DAX file",
        ActionKind.Reenable => "host: migration done, APF re-enabled (wake all)",
        ActionKind.Unblock => $"host: vCPU{Vcpu} woken by a completion it cannot dequeue",
        ActionKind.Smi => $"vCPU{Vcpu}: SMI (SMM entry, handler, RSM)",
        ActionKind.Init => $"host: INIT to offline vCPU{Vcpu} (kvm_vcpu_reset), then its bring-up",
        ActionKind.Teardown => "host: the VMM closes the VM (kvm_destroy_vm)",
        ActionKind.Migrate => $"guest: load balancer moves task {Arg} to vCPU{Vcpu}",
        ActionKind.Wake => $"vCPU{Vcpu}: wake blocked task {Arg}",
        ActionKind.HostTick => $"host: scheduler tick on vCPU{Vcpu}'s pCPU (external-interrupt exit)",
        ActionKind.HostExit => $"host: interrupt on vCPU{Vcpu}'s pCPU (external-interrupt exit), then kvm_check_async_pf_completion",
        ActionKind.KickIlb => $"guest: nohz kick of the idle load balancer, vCPU{Vcpu}",
        ActionKind.Pull => $"guest: vCPU{Vcpu}'s load balance pulls task {Arg} to itself",
        ActionKind.Step when Arg != 0 => $"vCPU{Vcpu}: step (choice {Arg - 1})",
        _ => $"vCPU{Vcpu}: {Kind}",
    };
}
