namespace Vexlab.Model.Guest;

/// <summary>Why the guest oopsed or panicked: the kernel's own message where it has one.</summary>
public enum PanicReason : byte
{
    None,

    /// <summary>__kvm_handle_async_pf: "Host injected async #PF in interrupt disabled region".</summary>
    AsyncPfIrqsDisabled,

    /// <summary>__kvm_handle_async_pf: "Host injected async #PF in kernel mode".</summary>
    AsyncPfKernelMode,

    /// <summary>A #VE the kernel does not expect (no #VE protocol).</summary>
    UnexpectedVe,

    /// <summary>A #VE in the SYSCALL gap or NMI entry, before a kernel stack is set up.</summary>
    VeInEntryWindow,

    /// <summary>A double fault: the kernel's #DF handler dies.</summary>
    DoubleFault,

    /// <summary>A kernel access without an exception-table entry failed (die()).</summary>
    KernelFault,

    /// <summary>A task slept where it may not (the model stops the guest).</summary>
    SleepInAtomic,

    /// <summary>
    /// A not-present token that another task still sleeps on: 5.7's kvm_async_pf_task_wait (and
    /// kvm_async_pf_queue_task since 6bca69ada4bc) takes any node with the token for a dummy,
    /// unhashes it and kfree()s it, though it lives on the sleeper's stack. kfree of a page that is
    /// neither slab nor compound BUGs (mm/slub.c), and a vmalloc'ed stack's address is not in the
    /// linear map at all: the guest oopses, and the sleeper would never be woken anyway.
    /// </summary>
    ApfTokenCollision,
}

/// <summary>The well-known pages a handler touches, chosen by the machine configuration.</summary>
public enum ConfigPage : byte
{
    NmiTouch,
    Trace,
    Entry,
}

/// <summary>Addressing of a <see cref="MicroOp.Touch"/> or <see cref="MicroOp.KTouch"/> (low bits of A).</summary>
public enum Addressing : byte
{
    /// <summary>B is a page index.</summary>
    Page = 0,

    /// <summary>B is a region; pages in order, one per touch, wrapping.</summary>
    Sequential = 1,

    /// <summary>B is a region; the driver chooses the page (the checker tries each).</summary>
    Random = 2,

    /// <summary>B is a <see cref="ConfigPage"/>.</summary>
    Config = 3,
}

/// <summary>Bits of a touch's A beside its <see cref="Addressing"/>.</summary>
public static class TouchFlags
{
    public const byte AddressingMask = 3;

    /// <summary>The kernel access has an exception-table entry (copy_from_user): a failure is -EFAULT.</summary>
    public const byte Fixup = 4;

    /// <summary>
    /// A read() of a file through the guest page cache (filemap_read): a page not cached is read
    /// from the guest's disk first, the task asleep until the read completes (folio_wait_locked).
    /// </summary>
    public const byte PageCache = 8;

    /// <summary>The access writes the page (a store, or read() copying into it): the host's copy on swap goes stale.</summary>
    public const byte Store = 16;
}
