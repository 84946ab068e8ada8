namespace Vexlab.Model.Properties;

/// <summary>One checkable property: its CLI name, kind, meaning and where the rule comes from.</summary>
public sealed record PropertyInfo(string Name, string Kind, string Description, string Source);

/// <summary>Every property the checker judges (the model's safety and liveness properties and no-deadlock).</summary>
public static class PropertyCatalog
{
    public static IReadOnlyList<PropertyInfo> All { get; } =
    [
        new("dos-only-if1", "safety",
            "A \"do other stuff\" event (the not-present #PF, resolve_ept(can_continue=true)) only when the interrupted context had IF=1.",
            "rule 1 of msgid 87pncib06x.fsf@nanos.tec.linutronix.de; kvm_can_do_async_pf"),
        new("ready-only-if1", "safety",
            "Page-ready or the wakeup is delivered only where interrupts are accepted (IF=1, no shadow, PPR).",
            "rule 3 of the same mail; kvm_can_do_async_pf for the 5.7 #PF"),
        new("not-present-never-deferred", "safety",
            "A host-absent access is told at that instruction or resolved synchronously, never queued and dropped.",
            "msgid ce81c95f-8674-4012-f307-8f32d0e386c2@redhat.com; 84b09f33a5de (revert of the cancel hack)"),
        new("fault-info-intact", "safety",
            "Every fault handler acts on its own event: CR2, the APF flags and the VE info are never another event's.",
            "msgid ed71d0967113a35f670a9625a058b8e6e0b2f104.1583547991.git.luto@kernel.org; SDM Vol. 3C 25.5.6 busy word"),
        new("no-sleep-in-atomic", "safety",
            "No task sleeps with preemption off, in an RCU read side, in interrupt or NMI context, or as the idle task.",
            "might_sleep(); 3a7c8fafd1b4 (x86/kvm: Restrict ASYNC_PF to user space)"),
        new("no-protocol-double-fault", "safety",
            "The protocol never makes two events meet as a double fault.",
            "2a266f23550b; SDM Vol. 3A Table 6-5"),
        new("ready-matches-not-present", "safety",
            "Page-ready only for a token whose not-present event the guest got (or the broadcast token).",
            "2a18b7e7cd88"),
        new("one-node-per-token", "safety",
            "At most one node per token in the guest's APF sleep table.",
            "0547758a6de3 (review of the first fix)"),
        new("no-stale-dummies", "safety",
            "No dummy sleep-table entry is left when the guest's tasks have all ended.",
            "2a18b7e7cd88; apf_task_wake_all leaves dummies unhashed"),
        new("no-ve-in-entry-window", "safety",
            "No #VE in the SYSCALL gap or the NMI entry before the nested-NMI setup.",
            "TDX #VE rules, msgid 20220218161718.67148-9-kirill.shutemov@linux.intel.com"),
        new("no-work-after-destroy", "safety",
            "No async #PF work runs after its VM is destroyed: kvm_destroy_vm, and the module_put it does, come after every async_pf_execute has returned.",
            "3d75b8aa5c29 (KVM: Always flush async #PF workqueue when vCPU is being destroyed); msgid 20240110011533.503302-2-seanjc@google.com"),
        new("no-deadlock", "end state",
            "Every state with no enabled action is a valid end: all tasks exited or killed, a guest oops, or a VMM error exit.",
            "SPIN's invalid end states"),
        new("no-lost-wakeup", "liveness",
            "Every waiting task is eventually woken, on every weakly fair path where the guest stays alive.",
            "B1, B6, B9 (6f3c1fc53d86, 2f15d027c05f, the 2.6.38 dummy entries)"),
        new("unrecoverable-terminates", "liveness",
            "A fault on an unrecoverable page ends in SIGBUS, a fixup, an oops or a VMM error exit, never an endless fault/ready cycle.",
            "msgid 20200616214847.24482-3-vgoyal@redhat.com (B12)"),
        new("no-halt-livelock", "liveness",
            "A vCPU that a completion it cannot dequeue wakes from a halt (HLT or KVM's artificial halt) dequeues a completion eventually; it never exits, re-enters and halts again forever.",
            "arch/x86/kvm/x86.c kvm_vcpu_has_events (list_empty_careful(&vcpu->async_pf.done)) and vcpu_block; the 100% CPU spin of 2f15d027c05f"),
    ];
}
