namespace Vexlab.Model.Protocols;

/// <summary>The seed's can_continue choice, as a knob.</summary>
public enum CanContinuePolicy : byte
{
    /// <summary>Only user mode: the seed's preemptible() inside a handler entered with IF=0 is always false.</summary>
    Seed,
    UserOrPreemptibleKernel,
    Always,
    Never,
}

public enum VeInfoStore : byte
{
    PvPage,
    Args,
}

/// <summary>The guest-side settings the interpreter consults (the rest lives in the handler programs).</summary>
public sealed record GuestPolicy
{
    public bool ConfigPreempt { get; init; } = true;

    public bool StiBlocksNmi { get; init; } = true;

    public bool LapicEnabledAtStart { get; init; } = true;

    public bool DummyEntries { get; init; } = true;

    public bool RecheckBeforeDummyInsert { get; init; } = true;

    /// <summary>
    /// kvm_guest_cpu_init clears apf_reason.token before it writes MSR_KVM_ASYNC_PF_EN, so a token that
    /// kvm_cpu_down_prepare's interrupts-off window left in the slot cannot outlive the CPU going offline
    /// (a proposed fix; no kernel clears it).
    /// </summary>
    public bool ClearTokenAtInit { get; init; }

    public CanContinuePolicy CanContinue { get; init; }

    public VeInfoStore InfoStore { get; init; }

    public bool RegisterNeverConvertible { get; init; } = true;

    /// <summary>
    /// clear_highpage() zeroes a new anonymous page under kmap_atomic(), holding a preempt count
    /// (the 5.7 guest of kvm-pf; kmap_local_page() since d2c20e51e396, the other guests).
    /// </summary>
    public bool ClearPageUnderKmapAtomic { get; init; }

    /// <summary>
    /// sched_cpu_deactivate sets balance_push (2558aacff858, 5.11): from then on the going-down CPU pushes every
    /// queued task that is not a per-CPU kthread to an active CPU instead of running it. Before it (the 5.7 guest of
    /// kvm-pf) those tasks stay queued there, may still run there, and leave only at sched_cpu_dying's
    /// migrate_tasks, under stop_machine after the hotplug thread's teardown callbacks returned.
    /// </summary>
    public bool BalancePush { get; init; } = true;

    /// <summary>
    /// Every vCPU shares one last-level cache (cpus_share_cache): a remote wake is activated by the waker and sends an
    /// IPI only where it preempts (resched_curr). False: each vCPU is its own LLC, and every remote wake goes through
    /// the wake list with its IPI.
    /// </summary>
    public bool SharedLlc { get; init; } = true;

    /// <summary>
    /// kick_ilb sends the idle load balancer smp_send_reschedule() even where its idle loop polls (the 5.7 guest of
    /// kvm-pf); since 90b5363acd47 and b2a02fc43a1f (5.8) the kick is a call-function IPI that a polling idle loop is spared.
    /// </summary>
    public bool KickIlbIgnoresPolling { get; init; }
}
