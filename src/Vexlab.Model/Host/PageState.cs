using System.Runtime.InteropServices;

namespace Vexlab.Model.Host;

/// <summary>The host's view of one guest page.</summary>
public enum HostPage : byte
{
    Resident,

    /// <summary>Absent, but the host fills it without I/O (page cache, zswap): mapped in the exit handler.</summary>
    AbsentNoIo,

    /// <summary>Absent and needs I/O (swap, far memory, post-copy, DAX file read).</summary>
    AbsentIo,

    /// <summary>Absent and can never be brought in (its DAX file was truncated).</summary>
    Unrecoverable,

    /// <summary>
    /// In the host's memory but not in the EPT: async work brought it in (async_pf_execute's
    /// get_user_pages_remote faults it into the host mm only). kvm_arch_async_page_ready's prefault
    /// maps it when kvm_check_async_pf_completion dequeues the completion; an access before that is
    /// an EPT violation that kvm_faultin_pfn (try_async_pf in 5.7) maps without I/O. Its frame is
    /// already counted, unlike an <see cref="AbsentNoIo"/> page's.
    /// </summary>
    NotInEpt,
}

[Flags]
public enum PageFlags : byte
{
    None = 0,

    /// <summary>The guest PTE maps the page; without it an access is a real guest #PF.</summary>
    GuestPresent = 1,

    /// <summary>Backed by a virtio-fs DAX file that a host truncation can take away.</summary>
    Dax = 2,

    /// <summary>The guest registered it never convertible (entry text, stacks, PV pages).</summary>
    NeverConvertible = 4,

    /// <summary>The host remembers a failed resolution (error_gfn of msgid 20200720211359.GF502563@redhat.com, the #VE design).</summary>
    KnownFailed = 8,

    /// <summary>CLOCK reference bit for host eviction.</summary>
    Referenced = 16,

    /// <summary>The kernel's syscall and NMI entry text (entry-window model).</summary>
    EntryText = 32,

    /// <summary>
    /// Freshly allocated anonymous memory: the first touch's #PF zeroes the page before mapping it
    /// (do_anonymous_page -> alloc_zeroed_user_highpage_movable -> clear_page, kernel mode).
    /// </summary>
    Fresh = 64,

    /// <summary>A file page in the guest's page cache (the page holds the file's data).</summary>
    Cached = 128,
}

/// <summary>Per-page state: 4 bytes, so a 16 M-page guest costs 64 MiB.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct PageState
{
    public HostPage Host;
    public PageFlags Flags;
    public byte Backing;

    /// <summary>How many host work items are resolving this page.</summary>
    public byte InFlight;
}

public enum WorkKind : byte
{
    Free,

    /// <summary>A synchronous host fault: the vCPU is stalled until it completes.</summary>
    Sync,

    /// <summary>KVM async work (kvm_setup_async_pf).</summary>
    Async,

    /// <summary>kvm_async_pf_wakeup_all's pseudo item: no page, token ~0.</summary>
    WakeAll,

    /// <summary>resolve_ept(can_continue=true) of the #VE design.</summary>
    VeResolve,
}

public enum WorkStatus : byte
{
    InFlight,
    Done,
    Failed,
}

/// <summary>One host work item (struct kvm_async_pf and its kin).</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct WorkItem
{
    public WorkKind Kind;
    public byte Vcpu;
    public WorkStatus Status;
    public byte NotPresentInjected;

    /// <summary>Position in the vCPU's done list (1 = head); 0 while in flight.</summary>
    public byte DoneOrder;
    public byte Reserved;
    public ushort Reserved2;
    public uint Token;
    public int Page;
}
