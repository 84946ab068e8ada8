namespace Vexlab.Model.Protocols;

/// <summary>Which host-absent EPT entries are convertible (#VE) in the #VE design.</summary>
public enum VeConvertible : byte
{
    /// <summary>No #VE: every EPT violation exits (all KVM protocols).</summary>
    None,
    All,
    NeedsIo,
    UnrecoverableOnly,
}

/// <summary>How page-ready reaches the guest.</summary>
public enum ReadyDelivery : byte
{
    /// <summary>No guest event: completions only un-halt the vCPU (host-only async PF).</summary>
    None,

    /// <summary>A #PF with CR2 = token and reason PAGE_READY (before 5.8).</summary>
    PageFault,

    /// <summary>An interrupt with the single-slot token handshake (5.8+).</summary>
    Interrupt,

    /// <summary>The #VE design's wakeup ring and vector.</summary>
    WakeupRing,
}

/// <summary>Where the host raises page-ready: the faulting vCPU (KVM) or any (the ABI allows it).</summary>
public enum ReadyTarget : byte
{
    Same,
    Any,
}

/// <summary>
/// The host's delivery policy, as data: every protocol difference on the host side is here, so
/// no code outside Protocols branches on a protocol's name.
/// </summary>
public sealed record HostPolicy
{
    /// <summary>KVM's async machinery (kvm_can_do_async_pf and the artificial halt).</summary>
    public bool AsyncPf { get; init; }

    /// <summary>The guest enabled PV async PF, so not-present events can be injected.</summary>
    public bool PvApf { get; init; }

    public ReadyDelivery Ready { get; init; }

    /// <summary>KVM_ASYNC_PF_SEND_ALWAYS: not-present events at CPL0 too.</summary>
    public bool SendAlways { get; init; }

    public VeConvertible Convertible { get; init; }

    /// <summary>Exits stop in the host until an explicit entry; page-ready is dequeued only there (5.7 host).</summary>
    public bool DequeueOnlyAtEntry { get; init; }

    public int MaxPerVcpu { get; init; } = 64;

    public bool TokenNeverZero { get; init; } = true;

    public int TokenIdBits { get; init; } = 20;

    public bool ReadyOnlyIfNotPresentDelivered { get; init; } = true;

    public bool RequireNoPendingEvent { get; init; } = true;

    public bool DequeueRequiresLapicEnabled { get; init; } = true;

    public ReadyTarget ReadyTarget { get; init; }

    public bool ReportErrors { get; init; }

    public bool CancelPendingNotPresent { get; init; }

    public bool HltInGuest { get; init; }

    /// <summary>kvm_post_set_cr0 clears the completion queue when CR0.PG changes (RSM); removed by ab4e41eb9fab.</summary>
    public bool FlushOnCr0Pg { get; init; }

    /// <summary>Destroying a vCPU flushes its async #PF work (3d75b8aa5c29); before, the work held a VM reference.</summary>
    public bool FlushWorkOnDestroy { get; init; } = true;
}
