using Vexlab.Model.Protocols;

namespace Vexlab.Model.Tests.Protocols;

/// <summary>
/// One row per protocol and interrupted context: the delivery matrix the model produces, against
/// KVM's code as docs/kvm-facts.md describes it (kvm_can_do_async_pf, kvm_can_deliver_async_pf,
/// kvm_arch_can_dequeue_async_page_present) and the seed's #VE handler.
/// </summary>
public sealed class DeliveryMatrixTests
{
    public static TheoryData<string, string, string, string> Expected => new()
    {
        // sync: no async path, nothing to wake.
        { "sync", "user", "sync-stall", "none" },
        { "sync", "kernel-preemptible", "sync-stall", "none" },
        { "sync", "kernel-preempt-off", "sync-stall", "none" },
        { "sync", "irqs-off", "sync-stall", "none" },
        { "sync", "sti-shadow", "sync-stall", "none" },
        { "sync", "tpr-raised", "sync-stall", "none" },
        { "sync", "nmi-handler", "sync-stall", "none" },

        // kvm-halt: kvm_can_do_async_pf (interrupts allowed) -> artificial halt; else synchronous.
        { "kvm-halt", "user", "artificial-halt", "none" },
        { "kvm-halt", "kernel-preemptible", "artificial-halt", "none" },
        { "kvm-halt", "kernel-preempt-off", "artificial-halt", "none" },
        { "kvm-halt", "irqs-off", "sync-stall", "none" },
        { "kvm-halt", "sti-shadow", "sync-stall", "none" },
        { "kvm-halt", "tpr-raised", "artificial-halt", "none" },
        { "kvm-halt", "nmi-handler", "sync-stall", "none" },

        // kvm-pf (5.7): SEND_ALWAYS with CONFIG_PREEMPT, so CPL0 gets the event; page-ready as #PF
        // ignores TPR but needs interrupts allowed (kvm_can_do_async_pf).
        { "kvm-pf", "user", "pf-not-present", "delivered" },
        { "kvm-pf", "kernel-preemptible", "pf-not-present", "delivered" },
        { "kvm-pf", "kernel-preempt-off", "pf-not-present", "delivered" },
        { "kvm-pf", "irqs-off", "sync-stall", "deferred" },
        { "kvm-pf", "sti-shadow", "sync-stall", "deferred" },
        { "kvm-pf", "tpr-raised", "pf-not-present", "delivered" },
        { "kvm-pf", "nmi-handler", "sync-stall", "deferred" },

        // kvm-pf-int: not-present only at CPL3 (no SEND_ALWAYS), else the artificial halt; page-ready
        // is an interrupt: IF, the shadow and PPR hold it back.
        { "kvm-pf-int", "user", "pf-not-present", "delivered" },
        { "kvm-pf-int", "kernel-preemptible", "artificial-halt", "delivered" },
        { "kvm-pf-int", "kernel-preempt-off", "artificial-halt", "delivered" },
        { "kvm-pf-int", "irqs-off", "sync-stall", "deferred" },
        { "kvm-pf-int", "sti-shadow", "sync-stall", "deferred" },
        { "kvm-pf-int", "tpr-raised", "artificial-halt", "deferred" },
        { "kvm-pf-int", "nmi-handler", "sync-stall", "deferred" },

        // ve as the seed writes it: #VE whatever IF, TPR or a shadow say; only user mode continues.
        { "ve", "user", "ve-continue", "delivered" },
        { "ve", "kernel-preemptible", "ve-suspend", "delivered" },
        { "ve", "kernel-preempt-off", "ve-suspend", "delivered" },
        { "ve", "irqs-off", "ve-suspend", "deferred" },
        { "ve", "sti-shadow", "ve-suspend", "deferred" },
        { "ve", "tpr-raised", "ve-suspend", "deferred" },
        { "ve", "nmi-handler", "ve-suspend", "deferred" },
    };

    [Theory]
    [MemberData(nameof(Expected))]
    public void Row_MatchesKernelBehaviour(string protocol, string context, string notPresent, string ready)
    {
        var row = DeliveryMatrix.Compute(ProtocolCatalog.Create(protocol)).Single(r => r.Context == context);
        Assert.Equal(notPresent, row.NotPresent);
        Assert.Equal(ready, row.Ready);

        // The step sequence behind the cell: the access is the last step, and it did what the cell says.
        var last = row.NotPresentSteps[^1];
        Assert.Contains(ExpectedLastStep(notPresent), last);
        if (context == "nmi-handler")
        {
            Assert.StartsWith("vCPU0: RaiseNmi", row.NotPresentSteps[0]);
            Assert.Contains("exc_nmi", string.Join("\n", row.NotPresentSteps));
        }

        if (ready is "delivered" or "deferred")
        {
            // Another task faulted and slept first, then its work completed.
            Assert.Contains(row.ReadySteps, s => s.Contains("TaskSlept", StringComparison.Ordinal));
            Assert.Contains(row.ReadySteps, s => s.StartsWith("host: complete work", StringComparison.Ordinal));
        }
    }

    private static string ExpectedLastStep(string notPresent) => notPresent switch
    {
        "sync-stall" or "vm-exit-sync" => "exit EptViolation, SyncStall",
        "artificial-halt" => "AsyncStarted, ArtificialHalt",
        "pf-not-present" => "deliver #PF",
        "ve-continue" => "resolve_ept(true)",
        _ => "resolve_ept(false)",
    };

    // Without CONFIG_PREEMPT_COUNT (guest.config_preempt=false) preemptible() is 0 (include/linux/preempt.h):
    // the handler cannot see a preempt-off region, so no kernel context may continue; user mode still may.
    [Theory]
    [InlineData("user-or-preemptible-kernel", "kernel-preemptible", true, "ve-continue")]
    [InlineData("user-or-preemptible-kernel", "kernel-preempt-off", true, "ve-suspend")]
    [InlineData("user-or-preemptible-kernel", "irqs-off", true, "ve-suspend")]
    [InlineData("user-or-preemptible-kernel", "kernel-preemptible", false, "ve-suspend")]
    [InlineData("user-or-preemptible-kernel", "kernel-preempt-off", false, "ve-suspend")]
    [InlineData("user-or-preemptible-kernel", "user", false, "ve-continue")]
    [InlineData("always", "irqs-off", true, "ve-continue")]
    [InlineData("never", "user", true, "ve-suspend")]
    public void VeCanContinue_KnobChangesTheDecision(string canContinue, string context, bool configPreempt, string expected)
    {
        var spec = ProtocolCatalog.Create("ve", [new("guest.ve.can_continue", canContinue), new("guest.config_preempt", configPreempt ? "true" : "false")]);
        Assert.Equal(expected, DeliveryMatrix.Compute(spec).Single(r => r.Context == context).NotPresent);
    }

    [Fact]
    public void VeNeedsIoConvertible_StillDeliversVeForNeedsIoPages()
    {
        var spec = ProtocolCatalog.Create("ve", [new("host.ve.convertible", "needs-io")]);
        Assert.Equal("ve-continue", DeliveryMatrix.Compute(spec).Single(r => r.Context == "user").NotPresent);
    }

    [Fact]
    public void VeUnrecoverableOnly_ExitsForRecoverablePages()
    {
        var spec = ProtocolCatalog.Create("ve", [new("host.ve.convertible", "unrecoverable-only")]);
        Assert.All(DeliveryMatrix.Compute(spec), r => Assert.Equal("vm-exit-sync", r.NotPresent));
    }

    [Fact]
    public void KvmPfWithoutPreempt_DoesNotSendAlways()
    {
        var spec = ProtocolCatalog.Create("kvm-pf", [new("guest.config_preempt", "false")]);
        Assert.Equal("artificial-halt", DeliveryMatrix.Compute(spec).Single(r => r.Context == "kernel-preemptible").NotPresent);
    }
}
