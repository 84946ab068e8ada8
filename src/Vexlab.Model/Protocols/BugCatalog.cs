using System.Collections.Immutable;

namespace Vexlab.Model.Protocols;

/// <summary>
/// One known bug the model reproduces: the fix, the knob value that brings the bug back, the
/// protocol it runs under, the built-in checker model that reaches it and the property it breaks.
/// </summary>
public sealed record BugInfo(
    string Id,
    string Commit,
    string Subject,
    string Knob,
    string BuggyValue,
    string Protocol,
    string CheckerModel,
    string Property,
    string[] With);

/// <summary>A known bug or race the model does not cover yet, and why.</summary>
public sealed record OutOfScopeBug(string Id, string Commit, string Subject, string Reason);

/// <summary>
/// A window no commit closed: what narrowed it, and where the checker still finds what is left
/// (the protocol, the built-in model and the property it breaks with default knobs).
/// </summary>
public sealed record OpenWindow(string Id, string Subject, string Mitigation, string Residual, string Protocol, string CheckerModel, string Property);

/// <summary>The acceptance table of known APF bugs (reference section 6), as data.</summary>
public static class BugCatalog
{
    public static ImmutableArray<BugInfo> All { get; } =
    [
        // apf.id starts at 0, so vCPU0's first token is (0 << 12) | 0 = 0, the value the guest writes to
        // free the page-ready slot: the host takes the slot for free and overwrites that page-ready.
        new("B1", "6f3c1fc53d86", "KVM: x86/mmu: make apf token non-zero to fix bug (vCPU0's first token is 0, the free-slot value)",
            "host.apf.token_never_zero", "false", "kvm-pf-int", "token-wrap", "no-lost-wakeup",
            []),
        new("B2", "2a18b7e7cd88", "KVM: async_pf: Inject 'page ready' event only if 'page not present' was previously injected",
            "host.apf.ready_only_if_not_present_delivered", "false", "kvm-pf-int", "kernel-fault", "ready-matches-not-present",
            []),
        new("B3", "2a266f23550b", "KVM MMU: check pending exception before injecting APF",
            "host.apf.require_no_pending_event", "false", "kvm-pf", "pending-event", "no-protocol-double-fault",
            []),
        // RSM restores CR0 through kvm_set_cr0, so kvm_post_set_cr0 saw CR0.PG change and freed the
        // done list without telling the guest: the task waiting for that token sleeps forever.
        new("B4", "ab4e41eb9fab", "KVM: x86: Fix the interaction between SMM and the asynchronous pagefault",
            "host.apf.flush_on_cr0_pg", "true", "kvm-pf-int", "smm", "no-lost-wakeup",
            []),
        new("B6", "2f15d027c05f", "KVM: x86: Properly handle APF vs disabled LAPIC situation",
            // The report was hung tasks; the vCPU meanwhile spins: its idle HLT is woken by the stuck done list.
            "host.apf.dequeue_requires_lapic_enabled", "false", "kvm-pf-int", "reenable", "no-halt-livelock",
            ["guest.lapic.enabled_at_apf_enable=false"]),
        // Each work item held a VM reference; the last one's kvm_put_kvm destroyed the VM and put the
        // module while async_pf_execute still had to return through module text.
        new("B7", "3d75b8aa5c29", "KVM: Always flush async #PF workqueue when vCPU is being destroyed (CVE-2024-26976)",
            "host.apf.flush_work_on_destroy", "false", "kvm-pf-int", "teardown", "no-work-after-destroy",
            []),
        new("B8", "0547758a6de3", "x86/kvm: Alloc dummy async #PF token outside of raw spinlock (its re-lookup after the unlocked allocation; the first proposal, msgid 20220519090218.2230653-1-yajun.deng@linux.dev, had none and was never merged)",
            "guest.apf.recheck_before_dummy_insert", "false", "kvm-pf-int", "wake-race", "one-node-per-token",
            ["host.apf.ready_target=any"]),
        new("B9", "(2.6.38 design)", "dummy entries in kvm_async_pf_task_wake (2.6.38 design)",
            "guest.apf.dummy_entries", "false", "kvm-pf-int", "wake-race", "no-lost-wakeup",
            ["host.apf.ready_target=any"]),
        new("B11", "91eeafea1e4b", "x86/entry: Switch page fault exception to IDTENTRY_RAW (a trace point between the CR2 read and the APF-flags read; a0d14b8909de had moved only CR2 before it)",
            "guest.pf.read_order", "cr2-first", "kvm-pf-int", "trace-window", "fault-info-intact",
            []),
        new("B12", "(unmerged, 2020)",
            "PAGE_ERROR with SIGBUS for a task told of the fault (msgid 20200616214847.24482-3-vgoyal@redhat.com); "
            + "error gfn forced synchronous with an exit to the VMM otherwise (msgid 20200720211359.GF502563@redhat.com)",
            "host.apf.report_errors", "false", "kvm-pf-int", "truncate", "unrecoverable-terminates",
            []),
    ];

    public static ImmutableArray<OpenWindow> OpenWindows { get; } =
    [
        new("W1", "An NMI between the async #PF and the handler's reads of CR2 and the APF flags takes its own #PF (perf's user call-chain walk) and consumes the reason",
            "exc_nmi saves and restores CR2 (7fbb98c5cb07); the flags stash was proposed in March 2020 and never merged; 5.8+ sends not-present only at CPL3 and page-ready by interrupt, never as #PF",
            "5.7: the nested fault reads NOT_PRESENT and halt-waits in NMI context for a token that is an address; 5.9+: it reads NOT_PRESENT with IF=0 and panics (\"Host injected async #PF in interrupt disabled region\")",
            "kvm-pf-int", "nmi-window", "fault-info-intact"),
    ];

    public static ImmutableArray<OutOfScopeBug> OutOfScope { get; } =
    [
        new("B5", "68c35f89d016", "KVM: x86: Fix a semi theoretical bug in kvm_arch_async_page_present_queued",
            "store-buffer ordering of the kick: the model is sequentially consistent"),
        new("B10", "9bc1f09f6fa7", "KVM: async_pf: avoid async pf injection when in guest mode",
            "no nested guests (L2) in the model"),
        new("B13", "(Fixes: 2635b5c4a0e4, 2020)", "KVM: X86: Fix async pf caused null-ptr-deref",
            "every modelled VM has an in-kernel LAPIC"),
    ];
}
