using Vexlab.Model.Configuration;
using Vexlab.Model.Guest;
using Vexlab.Model.Protocols;

namespace Vexlab.Model.Tests.Machine;

/// <summary>
/// kvm_async_pf_task_wake (arch/x86/kernel/kvm.c) when the wake finds no waiter. In 5.7 the lookup, the
/// kzalloc(GFP_ATOMIC) of the dummy and its hlist_add_head run under one raw_spin_lock(&amp;b-&gt;lock), so
/// against kvm_async_pf_task_wait, which takes the same lock, they are one step. 0547758a6de3 (x86/kvm:
/// Alloc dummy async #PF token outside of raw spinlock, 2022) drops the lock for the allocation and looks
/// the token up again (goto again) before the insert: the 5.9+ guest of kvm-pf-int.
/// </summary>
public sealed class AsyncPf57WakeTests
{
    /// <summary>
    /// The page-ready path of each guest: do_async_page_fault's KVM_PV_REASON_PAGE_READY case (5.7) and
    /// sysvec_kvm_asyncpf_interrupt (5.9+), by the sleep-table ops they run.
    /// </summary>
    [Theory]
    [InlineData("kvm-pf", new[] { MicroOp.ApfWakeLookup })]
    [InlineData("kvm-pf-int", new[] { MicroOp.ApfWakeLookup, MicroOp.ApfAllocDummy, MicroOp.ApfWakeInsert })]
    public void KvmAsyncPfTaskWake_DropsTheBucketLockOnlySince0547758a6de3(string protocol, MicroOp[] wakeOps)
    {
        var knobs = KnobSet.Create(protocol);
        var program = protocol == "kvm-pf" ? GuestHandlers.PageFaultEntry57(knobs) : GuestHandlers.ApfReadyInterrupt();
        MicroOp[] sleepTable = [MicroOp.ApfWakeLookup, MicroOp.ApfAllocDummy, MicroOp.ApfWakeInsert];
        var ops = program.Code.Select(i => i.Op).Where(op => Array.IndexOf(sleepTable, op) >= 0).ToArray();
        Assert.Equal(wakeOps, ops);

        // The 5.7 lookup inserts the dummy itself (A=1); the later one leaves it to ApfWakeInsert.
        var lookup = program.Code.Single(i => i.Op == MicroOp.ApfWakeLookup);
        Assert.Equal(protocol == "kvm-pf" ? 1 : 0, lookup.A);
    }

    /// <summary>
    /// The 5.7 guest drops no lock, so guest.apf.recheck_before_dummy_insert (B8, the re-lookup after the
    /// lock drop) has nothing to change under kvm-pf: a --set of it there is refused.
    /// </summary>
    [Theory]
    [InlineData("kvm-pf", false)]
    [InlineData("kvm-pf-int", true)]
    public void RecheckBeforeDummyInsert_AppliesOnlyToTheGuestThatDropsTheLock(string protocol, bool applies)
    {
        var knob = KnobCatalog.Find("guest.apf.recheck_before_dummy_insert");
        Assert.NotNull(knob);
        Assert.Equal(applies, knob.AppliesTo(protocol));
        if (!applies)
        {
            var e = Assert.Throws<InputException>(() => KnobCatalog.RequireUsed(knob.Key, [protocol], "--set"));
            Assert.Contains("kvm-pf does not use", e.Message, StringComparison.Ordinal);
        }
    }
}
