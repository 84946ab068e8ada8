using Vexlab.Model.Guest;
using Vexlab.Model.Machine;
using Vexlab.Model.Protocols;
using Vexlab.Model.Scripting;
using static Vexlab.Model.Tests.Machine.TestMachines;

namespace Vexlab.Model.Tests.Ve;

/// <summary>
/// guest.ve.irq_enable and guest.ve.clear_busy: where the seed's handler enables interrupts and
/// clears the busy word is not in the seed; each placement is a knob (SDM Vol. 3C 25.5.6.1: while
/// the busy word is set, a convertible violation is an ordinary EPT-violation exit).
/// </summary>
public sealed class VeDesignKnobTests
{
    private static MicroOp[] ContinuePath(params (string, string)[] knobs)
    {
        var spec = ProtocolCatalog.Create("ve", knobs.Select(k => new KeyValuePair<string, string>(k.Item1, k.Item2)));
        return [.. spec.Handlers[HandlerProgram.Ve].Code.Select(i => i.Op).Where(op => op is MicroOp.IrqEnable or MicroOp.ResolveEptContinue or MicroOp.ResolveEptSuspend or MicroOp.ClearVeBusy or MicroOp.StoreVeInfo or MicroOp.InitCompletion)];
    }

    [Fact]
    public void Defaults_AreTheUsualLinuxPlaces()
    {
        Assert.Equal(
            [MicroOp.StoreVeInfo, MicroOp.ClearVeBusy, MicroOp.ResolveEptSuspend, MicroOp.InitCompletion, MicroOp.IrqEnable, MicroOp.ResolveEptContinue, MicroOp.ClearVeBusy],
            ContinuePath());
    }

    [Fact]
    public void AfterHypercall_MovesTheIrqEnableAndTheClear()
    {
        Assert.Equal(
            [MicroOp.StoreVeInfo, MicroOp.ResolveEptSuspend, MicroOp.ClearVeBusy, MicroOp.InitCompletion, MicroOp.ResolveEptContinue, MicroOp.ClearVeBusy, MicroOp.IrqEnable, MicroOp.ClearVeBusy],
            ContinuePath(("guest.ve.irq_enable", "after-hypercall"), ("guest.ve.clear_busy", "after-hypercall")));
    }

    /// <summary>With the busy word held over the hypercall, an NMI's access in the gap exits and is resolved synchronously.</summary>
    [Fact]
    public void ClearAfterHypercall_NmiAccessInTheGapStallsInsteadOfNestedVe()
    {
        var m = Build("ve", [User("a", 0, Touch(0))], knobs: [("guest.ve.clear_busy", "after-hypercall")],
            bounds: new ExternalBounds(1, 0, 0, 0), nmiTouchPage: 1);
        var s = new Script(m);
        s.Do(ActionKind.Step, 0);
        s.StepTo(MicroOp.ResolveEptContinue);
        Assert.NotEqual(0u, m.Vcpu(0).VeBusy);
        s.Do(ActionKind.RaiseNmi, 0);
        s.StepTo(MicroOp.KTouch);
        var touch = s.Do(ActionKind.Step, 0);
        Assert.Contains(touch, e => e.Kind == ModelEventKind.SyncStall);
        Assert.DoesNotContain(touch, e => e.Kind == ModelEventKind.VeDelivered);
        Assert.Equal(RunState.HostStalled, m.Vcpu(0).Run);
    }

    /// <summary>With interrupts enabled only after the hypercall, the wakeup may come before the wait: the completion keeps it.</summary>
    [Fact]
    public void IrqAfterHypercall_EarlyWakeupIsKept()
    {
        var m = Build("ve", [User("a", 0, Touch(0))], knobs: [("guest.ve.irq_enable", "after-hypercall")]);
        var s = new Script(m);
        s.Do(ActionKind.Step, 0);
        s.StepTo(MicroOp.ResolveEptContinue);
        Assert.Equal(0, m.Vcpu(0).If);
        s.Do(ActionKind.Step, 0);
        s.CompleteAny();
        Assert.False(s.IsEnabled(ActionKind.DeliverInterrupt, 0));
        s.StepTo(MicroOp.CompletionWaitCheck);
        Bugs.BugAsserts.AssertFinishedClean(s);
    }
}
