using System.Runtime.InteropServices;
using Vexlab.Model.Arch;
using Vexlab.Model.Guest;
using Vexlab.Model.Host;
using Vexlab.Model.Machine;
using Vexlab.Model.Scripting;
using static Vexlab.Model.Tests.Machine.TestMachines;

namespace Vexlab.Model.Tests.Machine;

/// <summary>
/// vmx_enable_nmi_window (arch/x86/kvm/vmx/vmx.c): with GUEST_INTR_STATE_STI in the guest's interruptibility
/// state KVM asks for an interrupt window, not an NMI window (SDM Vol. 3C 25.2: NMI-window exiting may be held
/// off by blocking by STI). An interrupt-window exit comes only with RFLAGS.IF=1 and no STI or MOV SS blocking,
/// so an NMI that found an STI shadow is not injected when the shadow ends with IF=0 (<c>sti; cli</c>): it waits
/// for the guest's next STI and the instruction after it, or for KVM_REQ_EVENT (an interrupt accepted into the
/// LAPIC, an exception KVM queues). An exit that makes no request (an EPT violation handled synchronously)
/// leaves it waiting: vcpu_enter_guest calls kvm_check_and_inject_events only on KVM_REQ_EVENT.
/// </summary>
public sealed class NmiIrqWindowTests
{
    /// <summary>What happens between the NMI's arrival (in the shadow of the first STI) and the check.</summary>
    public enum Between
    {
        /// <summary>Only the guest's own steps.</summary>
        Steps,

        /// <summary>A guest timer interrupt is accepted into the LAPIC (__apic_accept_irq: KVM_REQ_EVENT).</summary>
        Tick,

        /// <summary>The vCPU's access to a host-absent page with IF=0: an EPT violation stalled synchronously.</summary>
        SyncEptViolation,

        /// <summary>
        /// A second NMI after SECOND: kvm_inject_nmi, then process_nmi raises nmi_pending to 2 (the guest does not
        /// block NMIs) and makes KVM_REQ_EVENT.
        /// </summary>
        SecondNmi,

        /// <summary>A second NMI at once, still in the shadow of the first STI: KVM asks for the interrupt window again.</summary>
        SecondNmiInShadow,
    }

    /// <summary>
    /// The task runs <c>cli; sti; SECOND; compute; [touch]; compute; sti; compute; compute</c>; the NMI arrives between
    /// the first STI and SECOND. Each row gives how many of the task's steps after the NMI go by before the NMI
    /// may be delivered (the step that opens the window included), -1 for "the NMI is deliverable at once after
    /// <paramref name="between"/>".
    /// </summary>
    [Theory]
    // sti; nop: the shadow ends with IF=1, the interrupt window opens after the one shadowed instruction, as before.
    [InlineData("sync", MicroOp.Compute, Between.Steps, 1)]
    [InlineData("kvm-pf-int", MicroOp.Compute, Between.Steps, 1)]
    // sti; cli: the shadow ends with IF=0; the window opens after the second STI's shadowed instruction:
    // SECOND, compute, compute, sti, compute.
    [InlineData("sync", MicroOp.Cli, Between.Steps, 5)]
    [InlineData("kvm-pf-int", MicroOp.Cli, Between.Steps, 5)]
    [InlineData("kvm-pf", MicroOp.Cli, Between.Steps, 5)]
    // sti; cli, then a tick: the interrupt's KVM_REQ_EVENT makes KVM look again with IF=0 and no shadow:
    // vmx_nmi_allowed, and the NMI is injected before the timer interrupt (IF=0 holds that one).
    [InlineData("sync", MicroOp.Cli, Between.Tick, -1)]
    [InlineData("kvm-pf-int", MicroOp.Cli, Between.Tick, -1)]
    // sti; cli, then an EPT violation with IF=0 (kvm_can_do_async_pf is false: handled synchronously): no request,
    // the NMI still waits for the second STI: SECOND, compute, the touch that stalls, its retry once the page is in,
    // compute, sti, compute.
    [InlineData("kvm-pf-int", MicroOp.Cli, Between.SyncEptViolation, 7)]
    // sti; cli, then a second NMI: process_nmi makes KVM_REQ_EVENT, and kvm_check_and_inject_events finds the
    // shadow over: one NMI is injected with IF=0, the other waits for the NMI window (the handler's IRET).
    [InlineData("sync", MicroOp.Cli, Between.SecondNmi, -1)]
    [InlineData("kvm-pf", MicroOp.Cli, Between.SecondNmi, -1)]
    [InlineData("kvm-pf-int", MicroOp.Cli, Between.SecondNmi, -1)]
    // sti; nop with the second NMI still in the shadow: vmx_enable_nmi_window asks for the interrupt window again,
    // which opens after the shadowed instruction with IF=1; both NMIs are pending then.
    [InlineData("kvm-pf-int", MicroOp.Compute, Between.SecondNmiInShadow, 1)]
    // sti; cli with the second NMI in the shadow: the window still waits for the second STI, as with one NMI.
    [InlineData("kvm-pf-int", MicroOp.Cli, Between.SecondNmiInShadow, 5)]
    public void An_NMI_that_found_an_STI_shadow_waits_for_the_interrupt_window_vmx_enable_nmi_window(
        string protocol, MicroOp second, Between between, int stepsUntilDeliverable)
    {
        var touch = between == Between.SyncEptViolation;
        Instr[] code = touch
            ? [Op(MicroOp.Cli), Op(MicroOp.Sti), Op(second), Op(MicroOp.Compute), KTouch(0), Op(MicroOp.Compute), Op(MicroOp.Sti), Op(MicroOp.Compute), Op(MicroOp.Compute)]
            : [Op(MicroOp.Cli), Op(MicroOp.Sti), Op(second), Op(MicroOp.Compute), Op(MicroOp.Compute), Op(MicroOp.Sti), Op(MicroOp.Compute), Op(MicroOp.Compute)];
        var twoNmis = between is Between.SecondNmi or Between.SecondNmiInShadow;
        var m = Build(protocol, [Spinner("k", TaskMode.Kernel, 0, code)], absentCount: touch ? 1 : 0,
            absent: HostPage.AbsentIo, bounds: new ExternalBounds(twoNmis ? 2 : 1, between == Between.Tick ? 1 : 0, 0, 0));
        var s = new Script(m);
        StepToTask(s, MicroOp.Sti, occurrence: 1);
        s.Do(ActionKind.Step);
        Assert.Equal(InterruptShadow.Sti, m.Vcpu(0).Shadow);

        s.Do(ActionKind.RaiseNmi);
        Assert.Equal(1, m.Vcpu(0).NmiPending);
        Assert.Equal(1, m.Vcpu(0).NmiIrqWindow);
        Assert.False(s.IsEnabled(ActionKind.DeliverNmi));

        if (between == Between.Tick)
        {
            s.Do(ActionKind.Step); // SECOND (cli): IF=0, the shadow is over; the NMI still waits.
            Assert.False(s.IsEnabled(ActionKind.DeliverNmi));
            s.Do(ActionKind.Tick);
            Assert.True(s.IsEnabled(ActionKind.DeliverNmi));
            Assert.False(s.IsEnabled(ActionKind.DeliverInterrupt));
            return;
        }

        if (between == Between.SecondNmi)
        {
            s.Do(ActionKind.Step); // SECOND (cli): IF=0, the shadow is over; the NMI still waits.
            Assert.False(s.IsEnabled(ActionKind.DeliverNmi));
            var events = s.Do(ActionKind.RaiseNmi);

            // The raise itself injects one (the NMI is taken before the next instruction, SDM Vol. 3A 6.9).
            Assert.Contains(events, e => e.Kind == ModelEventKind.NmiDelivered);
            Assert.Equal(0, m.Vcpu(0).If);
            Assert.Equal(1, m.Vcpu(0).NmiBlocked);
            Assert.Equal(1, m.Vcpu(0).NmiPending);
            Assert.Equal(0, m.Vcpu(0).NmiIrqWindow);
            AssertSecondNmiAfterIret(s);
            return;
        }

        if (between == Between.SecondNmiInShadow)
        {
            s.Do(ActionKind.RaiseNmi);
            Assert.Equal(2, m.Vcpu(0).NmiPending);
            Assert.Equal(1, m.Vcpu(0).NmiIrqWindow);
            Assert.False(s.IsEnabled(ActionKind.DeliverNmi));
        }

        for (var i = 1; i <= 16; i++)
        {
            if (m.Vcpu(0).Run == RunState.HostStalled)
            {
                Assert.False(s.IsEnabled(ActionKind.DeliverNmi));
                s.CompleteAny();
            }

            s.Do(ActionKind.Step);
            if (s.IsEnabled(ActionKind.DeliverNmi))
            {
                Assert.Equal(stepsUntilDeliverable, i);
                Assert.Equal(1, m.Vcpu(0).If);
                s.Do(ActionKind.DeliverNmi);
                Assert.Equal(0, m.Vcpu(0).NmiIrqWindow);
                if (twoNmis)
                {
                    AssertSecondNmiAfterIret(s);
                }

                return;
            }
        }

        Assert.Fail("the NMI never became deliverable");
    }

    /// <summary>
    /// process_nmi (arch/x86/kvm/x86.c) caps nmi_pending at 1 while the guest blocks NMIs (vmx_get_nmi_mask): one
    /// NMI in service and one pending after it. A third NMI then is dropped, so no action raises it.
    /// </summary>
    [Fact]
    public void A_second_NMI_while_one_is_in_service_stays_pending_and_a_third_is_dropped_process_nmi()
    {
        var m = Build("kvm-pf-int", [Spinner("k", TaskMode.Kernel, 0, Op(MicroOp.Compute), Op(MicroOp.Compute))], absentCount: 0,
            bounds: new ExternalBounds(3, 0, 0, 0));
        var s = new Script(m);
        StepToTask(s, MicroOp.Compute, occurrence: 1);
        s.Do(ActionKind.RaiseNmi);
        Assert.Equal(1, m.Vcpu(0).NmiBlocked);
        Assert.Equal(0, m.Vcpu(0).NmiPending);

        s.Do(ActionKind.RaiseNmi);
        Assert.Equal(1, m.Vcpu(0).NmiPending);
        Assert.False(s.IsEnabled(ActionKind.DeliverNmi));
        Assert.False(s.IsEnabled(ActionKind.RaiseNmi));
        AssertSecondNmiAfterIret(s);
    }

    /// <summary>
    /// The NMI left pending after an injection comes through the NMI window kvm_check_and_inject_events asks for
    /// (enable_nmi_window: no STI shadow after the delivery): after the handler's IRET, not before.
    /// </summary>
    private static void AssertSecondNmiAfterIret(Script s)
    {
        var m = s.Machine;
        Assert.Equal(1, m.Vcpu(0).NmiPending);
        for (var i = 0; i < 64 && m.Vcpu(0).NmiBlocked == 1; i++)
        {
            Assert.False(s.IsEnabled(ActionKind.DeliverNmi));
            s.Do(ActionKind.Step);
        }

        Assert.Equal(0, m.Vcpu(0).NmiBlocked);
        Assert.True(s.IsEnabled(ActionKind.DeliverNmi));
        s.Do(ActionKind.DeliverNmi);
        Assert.Equal(0, m.Vcpu(0).NmiPending);
        Assert.Equal(1, m.Vcpu(0).NmiBlocked);
    }

    /// <summary>
    /// MOV SS blocking is no STI blocking: vmx_enable_nmi_window sets NMI-window exiting, which the MOV SS shadow
    /// holds off only for its one instruction (SDM Vol. 3C 25.2). The NMI comes after the shadowed instruction,
    /// with IF=0, as before. No micro-op makes a MOV SS shadow, so the test writes it into the state.
    /// </summary>
    [Fact]
    public void An_NMI_that_found_a_MOV_SS_shadow_waits_for_the_NMI_window_only()
    {
        var m = Build("sync", [Spinner("k", TaskMode.Kernel, 0, Op(MicroOp.Cli), Op(MicroOp.Compute))], absentCount: 0,
            bounds: new ExternalBounds(1, 0, 0, 0));
        var s = new Script(m);
        StepToTask(s, MicroOp.Compute, occurrence: 1);
        SetShadow(m, 0, InterruptShadow.MovSs);

        s.Do(ActionKind.RaiseNmi);
        Assert.Equal(0, m.Vcpu(0).NmiIrqWindow);
        Assert.False(s.IsEnabled(ActionKind.DeliverNmi));
        s.Do(ActionKind.Step);
        Assert.Equal(0, m.Vcpu(0).If);
        Assert.True(s.IsEnabled(ActionKind.DeliverNmi));
    }

    /// <summary>Steps vCPU 0 until task 1 (the workload task) is about to run its <paramref name="occurrence"/>-th <paramref name="op"/>.</summary>
    private static void StepToTask(Script s, MicroOp op, int occurrence)
    {
        var seen = 0;
        for (var i = 0; i < 64; i++)
        {
            if (s.Machine.Vcpu(0).CurrentTask == 1 && s.Machine.NextInstr(0).Op == op && ++seen == occurrence)
            {
                return;
            }

            s.Do(ActionKind.Step);
        }

        throw new InvalidOperationException($"task k never reached {op}");
    }

    private static void SetShadow(Model.Machine.Machine m, int v, InterruptShadow shadow)
    {
        var state = m.State.ToArray();
        var offset = m.Layout.VcpuOffset + (v * Marshal.SizeOf<VcpuState>()) + (int)Marshal.OffsetOf<VcpuState>(nameof(VcpuState.Shadow));
        state[offset] = (byte)shadow;
        m.LoadState(state);
    }
}
