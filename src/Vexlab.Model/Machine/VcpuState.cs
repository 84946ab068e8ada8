using System.Runtime.InteropServices;

namespace Vexlab.Model.Machine;

/// <summary>Where a vCPU is: running guest code, or held somewhere by the guest or the host.</summary>
public enum RunState : byte
{
    /// <summary>Executing guest micro-ops.</summary>
    InGuest,

    /// <summary>Guest executed HLT; an acceptable interrupt or an NMI wakes it.</summary>
    GuestHalt,

    /// <summary>Suspended in the host until a page is resident; nothing is delivered meanwhile.</summary>
    HostStalled,

    /// <summary>KVM's artificial halt (KVM_REQ_APF_HALT): interrupts and the completion wake it.</summary>
    HostHalted,

    /// <summary>Between a VM exit and the next entry (the 5.7 host dequeues page-ready here).</summary>
    InHost,
}

/// <summary>An event the host queued for injection at the next VM entry (KVM's pending exception).</summary>
public enum PendingEvent : byte
{
    None,
    PfNotPresent,
    PfReady,
    DoubleFault,

    /// <summary>
    /// KVM_REQ_TRIPLE_FAULT: an exception was queued while #DF was pending (kvm_multiple_exception); the next
    /// vcpu_enter_guest exits to the VMM with KVM_EXIT_SHUTDOWN instead of injecting the #DF.
    /// </summary>
    TripleFault,
}

/// <summary>
/// A vCPU's architectural registers, its PV areas (KVM APF area, VE information area) and the
/// host's per-vCPU async-PF bookkeeping. Pack = 1: no padding, so the bytes are canonical.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct VcpuState
{
    public RunState Run;
    public byte If;
    public Arch.InterruptShadow Shadow;
    public byte NmiBlocked;

    /// <summary>
    /// KVM's vcpu->arch.nmi_pending: NMIs raised and not yet injected, 0 to 2 (process_nmi caps it at 1 while the
    /// guest blocks NMIs, else at 2).
    /// </summary>
    public byte NmiPending;

    /// <summary>Linux exc_nmi's nmi_state: 0 not running, 1 executing, 2 latched.</summary>
    public byte NmiState;
    public byte Tpr;
    public byte NeedResched;

    /// <summary>Requested interrupts (IRR), bit i = <see cref="ModelVector"/> i.</summary>
    public byte Irr;

    /// <summary>In-service interrupts (ISR), bit i = <see cref="ModelVector"/> i.</summary>
    public byte Isr;
    public byte CurrentTask;
    public byte LapicEnabled;

    // Guest's view of PV async PF (MSR_KVM_ASYNC_PF_EN written with ENABLED).
    public byte ApfEnabled;

    // Host's per-vCPU async PF state.
    public byte ApfHalted;
    public byte ApfQueued;
    public PendingEvent Pending;

    /// <summary>How many completions wait on the host's done list of this vCPU (vcpu->async_pf.done).</summary>
    public byte Done;

    /// <summary>
    /// 1 while KVM_REQ_APF_READY is pending (5.8+ hosts with page-ready by interrupt): async_pf_execute and
    /// kvm_async_pf_wakeup_all make it through kvm_arch_async_page_present_queued only for a completion that finds
    /// the done list empty (557a961abbe0), and vcpu_enter_guest clears it when it serves it with
    /// kvm_check_async_pf_completion, whether or not that dequeues anything. Kept 0 while the done list is empty:
    /// a request served with nothing to dequeue does nothing, and the next completion makes a new one.
    /// </summary>
    public byte ApfReadyRequest;

    /// <summary>1 when the page-ready in the token slot reports a failed page (the 2020 error-report proposal).</summary>
    public byte Reserved;

    /// <summary>
    /// 1 after a completion it could not dequeue woke the vCPU from a halt (kvm_vcpu_has_events);
    /// 0 again once a completion of this vCPU is dequeued. Set forever means the vCPU spins.
    /// </summary>
    public byte WokenByCompletion;

    /// <summary>
    /// 1 while KVM holds the pending NMI behind an interrupt window: it found the guest in an STI shadow,
    /// and vmx_enable_nmi_window (arch/x86/kvm/vmx/vmx.c) sets interrupt-window exiting, not NMI-window
    /// exiting, when GUEST_INTERRUPTIBILITY_INFO has GUEST_INTR_STATE_STI. The NMI then waits for RFLAGS.IF=1
    /// with no shadow (handle_interrupt_window) or for KVM_REQ_EVENT, not for the shadow's end.
    /// </summary>
    public byte NmiIrqWindow;

    /// <summary>
    /// 1 once the guest has begun taking this CPU down: out of cpu_active_mask. sched_cpu_deactivate
    /// (CPUHP_AP_ACTIVE) clears the bit before any CPUHP_AP_ONLINE_DYN teardown callback runs, so
    /// kvm_cpu_down_prepare's apf_task_wake_all already wakes onto an inactive CPU; the model sets it
    /// in the hotplug thread's first step (<see cref="Guest.MicroOp.CpuDeactivate"/>, before the thread's
    /// program runs) and clears it at the bring-up after INIT (sched_cpu_activate). INIT needs it set.
    /// </summary>
    public byte Inactive;
    public uint PendingToken;
    public uint Cr2;

    /// <summary>struct kvm_vcpu_pv_apf_data: u32 flags at offset 0.</summary>
    public uint ApfFlags;

    /// <summary>struct kvm_vcpu_pv_apf_data: u32 token at offset 4, the page-ready slot.</summary>
    public uint ApfToken;
    public uint ApfNextId;

    /// <summary>VE information area offset 4: the busy word.</summary>
    public uint VeBusy;

    /// <summary>VE information area: guest-physical address of the violation (as a page address).</summary>
    public uint VeGpa;

    /// <summary>The per-vCPU PV page the seed's handler stores the VE info in.</summary>
    public uint VePvGpa;

    /// <summary>The page the vCPU waits for while <see cref="RunState.HostStalled"/>; -1 none.</summary>
    public int StallPage;
}

/// <summary>The few interrupt vectors the model raises, as bit positions in IRR and ISR.</summary>
public enum ModelVector : byte
{
    /// <summary>LOCAL_TIMER_VECTOR 0xec.</summary>
    Timer = 0,

    /// <summary>HYPERVISOR_CALLBACK_VECTOR 0xf3: KVM's page-ready interrupt, and the #VE design's wakeup.</summary>
    Callback = 1,

    /// <summary>RESCHEDULE_VECTOR 0xfd.</summary>
    Reschedule = 2,
}
