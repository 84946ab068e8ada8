using Vexlab.Model.Guest;
using Vexlab.Model.Host;
using Vexlab.Model.Machine;
using Vexlab.Model.Properties;
using Vexlab.Model.Scripting;
using static Vexlab.Model.Tests.Machine.TestMachines;

namespace Vexlab.Model.Tests.Bugs;

/// <summary>
/// B11: the window between #PF delivery and exc_page_fault()'s reads of CR2 and the APF flags
/// (arch/x86/mm/fault.c, arch/x86/kernel/kvm.c kvm_read_and_reset_apf_flags). A fault inside it
/// (tracing before a0d14b8909de, and before the flags read until 91eeafea1e4b; an NMI's user call-chain walk in exc_nmi without the nmi_cr2
/// save/restore of 7fbb98c5cb07, or without the never-merged APF flags stash of March 2020)
/// consumes or clobbers the outer event's CR2 and reason.
/// </summary>
public sealed class B11NmiWindowTests
{
    // Page 0: host-absent (async PF). Page 2: resident but not in the guest page table.
    private static readonly PageGroupSpec[] s_notMapped = [new PageGroupSpec(2, 1, HostPage.Resident, false, 0, false)];

    /// <summary>
    /// guest.pf.read_order: a trace point before the reads (before a0d14b8909de, 5.2 and older) or between the CR2 read
    /// and the flags read (idtentry_part from a0d14b8909de until 91eeafea1e4b: GET_CR2_INTO, then TRACE_IRQS_OFF and
    /// enter_from_user_mode, then the C handler reads the reason) faults, and the nested #PF eats the reason.
    /// </summary>
    [Theory]
    [InlineData("kvm-pf", "trace-first")]
    [InlineData("kvm-pf", "cr2-first")]
    [InlineData("kvm-pf-int", "trace-first")]
    [InlineData("kvm-pf-int", "cr2-first")]
    public void TracePointBeforeFlagsRead_NestedFaultConsumesReason(string protocol, string order)
    {
        var m = Build(protocol, [User("a", 0, Touch(0))], knobs: [("guest.pf.read_order", order)],
            groups: s_notMapped, tracePage: 2);
        var s = new Script(m);
        NotPresentDelivered(s);
        if (order == "cr2-first")
        {
            // The outer fault's own CR2 is read before anything can fault: it is intact.
            Assert.Equal(MicroOp.ReadCr2, m.NextInstr(0).Op);
            Assert.False(s.Do(ActionKind.Step, 0).Violated(SafetyProperty.FaultInfoIntact));
        }

        Assert.Equal(MicroOp.TracePoint, m.NextInstr(0).Op);
        var nested = s.Do(ActionKind.Step, 0);
        Assert.Contains(nested, e => e.Kind == ModelEventKind.ExceptionDelivered && e.Token == Model.Machine.Machine.AddressOf(2));
        s.StepTo(MicroOp.ReadResetApfFlags, vcpu: 0);
        var read = s.Do(ActionKind.Step, 0);
        Assert.True(read.Violated(SafetyProperty.FaultInfoIntact));
    }

    /// <summary>91eeafea1e4b: exc_page_fault reads CR2 and calls kvm_handle_async_pf before anything traced runs.</summary>
    [Theory]
    [InlineData("kvm-pf")]
    [InlineData("kvm-pf-int")]
    public void ReadsFirst_NoWindow(string protocol)
    {
        var m = Build(protocol, [User("a", 0, Touch(0))], knobs: [("guest.pf.read_order", "both-first")], groups: s_notMapped, tracePage: 2);
        var s = new Script(m);
        NotPresentDelivered(s);
        Assert.Equal(MicroOp.ReadCr2, m.NextInstr(0).Op);
        BugAsserts.AssertFinishedClean(s);
    }

    /// <summary>Each protocol's entry is its era's: 5.7's idtentry_part (cr2-first), 5.8+'s exc_page_fault (both-first).</summary>
    [Theory]
    [InlineData("kvm-pf", "cr2-first")]
    [InlineData("kvm-pf-int", "both-first")]
    public void ReadOrder_DefaultIsTheProtocolsEra(string protocol, string order) =>
        Assert.Equal(order, Model.Protocols.KnobCatalog.Find("guest.pf.read_order")!.DefaultFor(protocol));

    /// <summary>exc_nmi's nmi_cr2: an NMI before an ordinary #PF's read_cr2 faults and overwrites CR2.</summary>
    [Theory]
    [InlineData("kvm-pf", "false", true)]
    [InlineData("kvm-pf", "true", false)]
    [InlineData("kvm-pf-int", "false", true)]
    [InlineData("kvm-pf-int", "true", false)]
    public void NmiBeforeReadCr2_ClobbersCr2UnlessSaved(string protocol, string saveCr2, bool clobbered)
    {
        // Page 1 is not mapped for the task (ordinary #PF); page 2 for the NMI.
        var m = Build(protocol, [User("a", 0, Touch(1))], knobs: [("guest.nmi.save_restore_cr2", saveCr2)],
            groups: [new PageGroupSpec(1, 2, HostPage.Resident, false, 0, false)], absentCount: 0,
            bounds: new ExternalBounds(1, 0, 0, 0), nmiTouchPage: 2);
        var s = new Script(m);
        var fault = s.Do(ActionKind.Step, 0);
        Assert.Contains(fault, e => e.Kind == ModelEventKind.ExceptionDelivered && e.Token == Model.Machine.Machine.AddressOf(1));
        Assert.Equal(MicroOp.ReadCr2, m.NextInstr(0).Op);

        // The NMI's call-chain walk takes its own #PF (CR2 = page 2) and returns.
        s.Do(ActionKind.RaiseNmi, 0);
        Assert.Equal(3, m.Task(m.WorkloadTask(0)).Depth);
        while (m.Task(m.WorkloadTask(0)).Depth > 2)
        {
            s.Do(ActionKind.Step, 0);
        }

        Assert.Equal(MicroOp.ReadCr2, m.NextInstr(0).Op);
        var read = s.Do(ActionKind.Step, 0);
        Assert.Equal(clobbered, read.Violated(SafetyProperty.FaultInfoIntact));
    }

    /// <summary>
    /// The kvm-pf (5.7, SEND_ALWAYS) case of section 3: an NMI between the not-present #PF and
    /// the handler's reads; its nested user-access #PF reads and resets the reason word.
    /// With the proposed flags stash in exc_nmi the outer handler still sees NOT_PRESENT.
    /// </summary>
    [Theory]
    [InlineData("kvm-pf", "false", true)]
    [InlineData("kvm-pf", "true", false)]
    [InlineData("kvm-pf-int", "false", true)]
    [InlineData("kvm-pf-int", "true", false)]
    public void NmiInNotPresentWindow_NestedFaultConsumesReason(string protocol, string saveFlags, bool consumed)
    {
        var m = Build(protocol, [User("a", 0, Touch(0))], knobs: [("guest.nmi.save_restore_apf_flags", saveFlags)],
            groups: s_notMapped, bounds: new ExternalBounds(1, 0, 0, 0), nmiTouchPage: 2);
        var s = new Script(m);
        var token = NotPresentDelivered(s);
        Assert.Equal(1u, m.Vcpu(0).ApfFlags);

        s.Do(ActionKind.RaiseNmi, 0);
        Assert.Equal(FrameEvent.Nmi, m.TopFrame(m.WorkloadTask(0)).Event);
        s.StepUntil(ModelEventKind.ExceptionDelivered, vcpu: 0);
        Assert.Equal(FrameEvent.PageFault, m.TopFrame(m.WorkloadTask(0)).Event);
        s.StepTo(MicroOp.ReadResetApfFlags, vcpu: 0);
        var nested = s.Do(ActionKind.Step, 0);
        Assert.Equal(consumed, nested.Violated(SafetyProperty.FaultInfoIntact));
        if (consumed)
        {
            Assert.Equal(0u, m.Vcpu(0).ApfFlags);
            return;
        }

        // The nested fault is ordinary; the NMI restores flags and CR2; the outer handler waits on its token.
        s.StepTo(MicroOp.ReadCr2, vcpu: 0);
        Assert.Equal(FrameEvent.AsyncPfNotPresent, m.TopFrame(m.WorkloadTask(0)).Event);
        Assert.Equal(token, m.Vcpu(0).Cr2);
        Assert.Equal(1u, m.Vcpu(0).ApfFlags);
        BugAsserts.AssertFinishedClean(s);
    }

    /// <summary>The task's access becomes a not-present #PF; returns its token.</summary>
    private static uint NotPresentDelivered(Script s)
    {
        var events = s.Do(ActionKind.Step, 0);
        if (s.Machine.Vcpu(0).Run == RunState.InHost)
        {
            events = s.Do(ActionKind.Enter, 0);
        }

        var delivered = events.Find(e => e.Kind == ModelEventKind.ExceptionDelivered);
        Assert.Equal(FrameEvent.AsyncPfNotPresent, s.Machine.TopFrame(s.Machine.WorkloadTask(0)).Event);
        return delivered.Token;
    }
}
