using Vexlab.Model.Arch;
using Vexlab.Model.Guest;
using Vexlab.Model.Machine;
using Vexlab.Model.Properties;
using Vexlab.Model.Scripting;
using static Vexlab.Model.Tests.Machine.TestMachines;

namespace Vexlab.Model.Tests.Bugs;

/// <summary>
/// B3, 2a266f23550b "KVM MMU: check pending exception before injecting APF": the 5.7 host's
/// kvm_check_async_pf_completion() / kvm_can_do_async_pf() injected page-ready as a #PF while the
/// not-present #PF was still pending; kvm_multiple_exception() merges #PF + #PF into #DF.
/// </summary>
public sealed class B3RequireNoPendingEventTests
{
    private static Script ReadyWhileNotPresentPending(string requireNoPending)
    {
        var m = Build("kvm-pf", [User("a", 0, Touch(0)), User("b", 0, Touch(1))],
            knobs: [("host.apf.require_no_pending_event", requireNoPending)]);
        var s = new Script(m);

        // a: not-present #PF (pending at the exit, injected at entry), a sleeps.
        s.Do(ActionKind.Step, 0);
        Assert.Equal(PendingEvent.PfNotPresent, s.Machine.Vcpu(0).Pending);
        s.Do(ActionKind.Enter, 0);
        s.StepUntil(ModelEventKind.TaskSlept, vcpu: 0);

        // a's page completes while b's not-present #PF is pending in the host.
        s.CompleteAny();
        s.Do(ActionKind.Step, 0);
        Assert.Equal(PendingEvent.PfNotPresent, s.Machine.Vcpu(0).Pending);
        Assert.Equal(RunState.InHost, s.Machine.Vcpu(0).Run);
        return s;
    }

    [Fact]
    public void ReadyMergedWithPendingNotPresent_IsDoubleFault()
    {
        var s = ReadyWhileNotPresentPending("false");
        s.Do(ActionKind.Dequeue, 0, 0);
        Assert.Equal(PendingEvent.DoubleFault, s.Machine.Vcpu(0).Pending);
        var entry = s.Do(ActionKind.Enter, 0);
        Assert.True(entry.Violated(SafetyProperty.NoProtocolDoubleFault));
        Assert.Contains(entry, e => e.Kind == ModelEventKind.ExceptionDelivered && e.Aux == Vectors.DF);
        Assert.Equal(GuestOutcome.Oops, s.Machine.Outcome);
        Assert.Equal(PanicReason.DoubleFault, s.Machine.Panic);
    }

    /// <summary>
    /// Two tasks sleep on their not-present tokens, <c>readies</c> of their pages complete, and a third task's
    /// not-present #PF is pending in the host when kvm_check_async_pf_completion runs: without the pending test its
    /// loop dequeues every completion on top of it in that one call, each through kvm_inject_page_fault ->
    /// kvm_multiple_exception (arch/x86/kvm/x86.c, 5.7).
    /// </summary>
    [Theory]
    [InlineData("kvm_multiple_exception: exception_class(PF) then PF -> #DF, injected at entry", 1, PendingEvent.DoubleFault, GuestOutcome.Oops)]
    [InlineData("kvm_multiple_exception: prev_nr == DF_VECTOR -> KVM_REQ_TRIPLE_FAULT, KVM_EXIT_SHUTDOWN at entry", 2, PendingEvent.TripleFault, GuestOutcome.VmError)]
    public void ReadiesOnAPendingNotPresent(string rule, int readies, PendingEvent pending, GuestOutcome outcome)
    {
        var m = Build("kvm-pf", [User("a", 0, Touch(0)), User("b", 0, Touch(1)), User("c", 0, Touch(2))],
            absentCount: 3, knobs: [("host.apf.require_no_pending_event", "false")]);
        var s = new Script(m);
        for (var task = 0; task < 2; task++)
        {
            s.StepUntil(ModelEventKind.AsyncStarted, vcpu: 0);
            s.Do(ActionKind.Enter, 0);
            s.StepUntil(ModelEventKind.TaskSlept, vcpu: 0);
        }

        for (var i = 0; i < readies; i++)
        {
            s.CompleteAny();
        }

        s.StepUntil(ModelEventKind.AsyncStarted, vcpu: 0);
        Assert.Equal(PendingEvent.PfNotPresent, m.Vcpu(0).Pending);
        var check = s.Do(ActionKind.Dequeue, 0, 0);

        Assert.True(readies == check.FindAll(e => e.Kind == ModelEventKind.ReadyDequeued).Count, rule);
        Assert.True(pending == m.Vcpu(0).Pending, rule);
        var entry = s.Do(ActionKind.Enter, 0);
        Assert.True(entry.Violated(SafetyProperty.NoProtocolDoubleFault), rule);
        Assert.True(outcome == m.Outcome, rule);

        // A triple fault exits to the VMM before any injection: the guest never sees the #DF.
        Assert.Equal(pending == PendingEvent.DoubleFault, entry.Exists(e => e.Kind == ModelEventKind.ExceptionDelivered && e.Aux == Vectors.DF));
        Assert.Equal(pending == PendingEvent.TripleFault, entry.Exists(e => e.Kind == ModelEventKind.VmError && e.Aux == 1));
    }

    [Fact]
    public void ReadyWaitsUntilNothingIsPending()
    {
        var s = ReadyWhileNotPresentPending("true");
        Assert.False(s.IsEnabled(ActionKind.Dequeue, 0, 0));
        s.Do(ActionKind.Enter, 0);
        BugAsserts.AssertFinishedClean(s);
    }
}
