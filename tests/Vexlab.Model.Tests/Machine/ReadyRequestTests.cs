using Vexlab.Model.Guest;
using Vexlab.Model.Machine;
using Vexlab.Model.Scripting;
using static Vexlab.Model.Tests.Machine.TestMachines;

namespace Vexlab.Model.Tests.Machine;

/// <summary>
/// KVM_REQ_APF_READY under the 5.8+ host (kvm-pf-int). async_pf_execute adds a completion to the done list and calls
/// kvm_arch_async_page_present_queued, which makes the request and kicks, only when that list was empty (first =
/// list_empty(&amp;vcpu->async_pf.done), 557a961abbe0). vcpu_enter_guest serves the request with
/// kvm_check_async_pf_completion and clears it whether or not that dequeues anything; the guest's
/// MSR_KVM_ASYNC_PF_ACK write calls the check itself. So a completion queued behind one that is being notified waits
/// for the ACK, or for an exit while the first one's request still waits.
/// </summary>
public sealed class ReadyRequestTests
{
    public enum Between
    {
        /// <summary>Nothing happens between the two completions' queueing and the ACK but the guest's handler.</summary>
        Nothing,

        /// <summary>The second completion makes its own request while the first's page-ready is in the token slot; a host interrupt exits the vCPU and its entry uses the request up.</summary>
        ExitWhileSlotBusy,

        /// <summary>As <see cref="ExitWhileSlotBusy"/> without the exit: the request still waits when the guest clears the slot.</summary>
        NoExitWhileSlotBusy,

        /// <summary>As <see cref="ExitWhileSlotBusy"/>, the exit being the guest tick's own (the VMX preemption timer's).</summary>
        TickWhileSlotBusy,

        /// <summary>As <see cref="ExitWhileSlotBusy"/>, the exit being the kick of an NMI raised for the vCPU.</summary>
        NmiWhileSlotBusy,
    }

    [Theory]
    [InlineData("async_pf_execute: a completion on a non-empty done list makes no KVM_REQ_APF_READY (557a961abbe0)", Between.Nothing, false)]
    [InlineData("vcpu_enter_guest: kvm_check_request clears KVM_REQ_APF_READY though the token slot is busy", Between.ExitWhileSlotBusy, false)]
    [InlineData("vcpu_enter_guest serves a KVM_REQ_APF_READY still pending once the guest clears the token slot", Between.NoExitWhileSlotBusy, true)]
    [InlineData("handle_preemption_timer's exit: its vcpu_enter_guest clears KVM_REQ_APF_READY though the token slot is busy", Between.TickWhileSlotBusy, false)]
    [InlineData("__apic_accept_irq(APIC_DM_NMI): kvm_inject_nmi, kvm_vcpu_kick; the kick's re-entry clears KVM_REQ_APF_READY", Between.NmiWhileSlotBusy, false)]
    public void SecondPageReady_BeforeTheAck_OnlyWhileARequestWaits(string rule, Between between, bool dequeuedBeforeAck)
    {
        var s = TwoToldFaults(
            hostExits: between == Between.ExitWhileSlotBusy ? 1 : 0,
            ticks: between == Between.TickWhileSlotBusy ? 1 : 0,
            nmis: between == Between.NmiWhileSlotBusy ? 1 : 0);
        var m = s.Machine;
        var first = FindWork(m, page: 0);
        var second = FindWork(m, page: 1);
        s.Do(ActionKind.Complete, 0, first);
        Assert.Equal(1, m.Vcpu(0).ApfReadyRequest);
        if (between == Between.Nothing)
        {
            // Both on the list before the vCPU's thread runs: one request for the two.
            s.Do(ActionKind.Complete, 0, second);
            Assert.Equal(1, m.Vcpu(0).ApfReadyRequest);
        }

        // The kick: vcpu_enter_guest serves the request; the first page-ready fills the token slot, and the loop stops.
        var served = s.Do(ActionKind.Dequeue, 0, 0).FindAll(e => e.Kind == ModelEventKind.ReadyDequeued);
        Assert.Single(served);
        Assert.Equal(0, m.Vcpu(0).ApfReadyRequest);
        s.Do(ActionKind.DeliverInterrupt, 0);
        if (between != Between.Nothing)
        {
            // The handler runs; the second completion finds the done list empty and makes its request.
            s.Do(ActionKind.Complete, 0, second);
            Assert.Equal(1, m.Vcpu(0).ApfReadyRequest);
            Assert.False(s.IsEnabled(ActionKind.Dequeue, 0, 0), "the token slot is busy");
        }

        if (between is Between.ExitWhileSlotBusy or Between.TickWhileSlotBusy or Between.NmiWhileSlotBusy)
        {
            var kind = between switch
            {
                Between.TickWhileSlotBusy => ActionKind.Tick,
                Between.NmiWhileSlotBusy => ActionKind.RaiseNmi,
                _ => ActionKind.HostExit,
            };
            var exit = s.Do(kind, 0);
            Assert.DoesNotContain(exit, e => e.Kind == ModelEventKind.ReadyDequeued);
            Assert.Equal(0, m.Vcpu(0).ApfReadyRequest);
            Assert.Equal(RunState.InGuest, m.Vcpu(0).Run);
        }

        // The handler has cleared the token slot and is about to write the ACK.
        s.StepTo(MicroOp.WrmsrApfAck, 0);
        Assert.Equal(0u, m.Vcpu(0).ApfToken);
        Assert.Equal(1, m.Vcpu(0).Done);
        Assert.True(s.IsEnabled(ActionKind.Dequeue, 0, 0) == dequeuedBeforeAck, rule);

        // kvm_set_msr_common(MSR_KVM_ASYNC_PF_ACK) calls kvm_check_async_pf_completion whatever was requested.
        var atAck = s.Do(ActionKind.Step, 0).FindAll(e => e.Kind == ModelEventKind.ReadyDequeued);
        Assert.Single(atAck);
        Assert.Equal(0, m.Vcpu(0).Done);
        Assert.Equal(0, m.Vcpu(0).ApfReadyRequest);
    }

    /// <summary>The exit that uses up a request is offered only while one waits that the entry cannot serve, and only within the bound.</summary>
    [Fact]
    public void HostExit_IsOfferedOnlyForARequestTheEntryCannotServe()
    {
        var s = TwoToldFaults(hostExits: 1);
        Assert.False(s.IsEnabled(ActionKind.HostExit, 0), "no request");
        s.Do(ActionKind.Complete, 0, FindWork(s.Machine, page: 0));
        Assert.False(s.IsEnabled(ActionKind.HostExit, 0), "the request can be served: that exit is the Dequeue step");
        s.Do(ActionKind.Dequeue, 0, 0);
        s.Do(ActionKind.DeliverInterrupt, 0);
        s.Do(ActionKind.Complete, 0, FindWork(s.Machine, page: 1));
        Assert.True(s.IsEnabled(ActionKind.HostExit, 0));

        var none = TwoToldFaults(hostExits: 0);
        none.Do(ActionKind.Complete, 0, FindWork(none.Machine, page: 0));
        none.Do(ActionKind.Dequeue, 0, 0);
        none.Do(ActionKind.DeliverInterrupt, 0);
        none.Do(ActionKind.Complete, 0, FindWork(none.Machine, page: 1));
        Assert.False(none.IsEnabled(ActionKind.HostExit, 0), "bounds.host_exits: 0");
    }

    /// <summary>
    /// A guest tick of a vCPU in guest mode is a PREEMPTION_TIMER exit, and the entry after it serves a pending
    /// KVM_REQ_APF_READY before kvm_check_and_inject_events injects the tick (vcpu_enter_guest): the page-ready is
    /// dequeued in the same step and delivered first, its vector 0xf3 outranking the timer's 0xec (SDM Vol. 3A 10.8.3).
    /// The model used to raise the tick alone and leave the Dequeue for a later step, so the tick could be delivered first.
    /// </summary>
    [Fact]
    public void Tick_ServesAPendingRequest_BeforeItsInterrupt()
    {
        var m = Build("kvm-pf-int", [User("u", 0, Touch(0)), Spinner("k", TaskMode.User, 0)], bounds: new ExternalBounds(0, 1, 0, 0));
        var s = new Script(m);
        GuestRunsUntil(s, ModelEventKind.TaskSlept);
        s.Do(ActionKind.Complete, 0, FindWork(m, page: 0));
        Assert.Equal(1, m.Vcpu(0).ApfReadyRequest);
        Assert.True(s.IsEnabled(ActionKind.Dequeue, 0, 0), "the slot is free and the spinner runs with IF=1");

        var tick = s.Do(ActionKind.Tick, 0);
        Assert.Contains(tick, e => e.Kind == ModelEventKind.ReadyDequeued);
        Assert.Equal(0, m.Vcpu(0).ApfReadyRequest);
        Assert.False(s.IsEnabled(ActionKind.Dequeue, 0, 0));
        Assert.Equal((1 << (int)ModelVector.Timer) | (1 << (int)ModelVector.Callback), m.Vcpu(0).Irr);

        var delivered = s.Do(ActionKind.DeliverInterrupt, 0).Find(e => e.Kind == ModelEventKind.InterruptDelivered);
        Assert.Equal(ModelEventKind.InterruptDelivered, delivered.Kind);
        Assert.Equal((byte)ModelVector.Callback, delivered.Aux);
    }

    /// <summary>
    /// An interrupt raised for a vCPU in guest mode kicks it (__apic_accept_irq: kvm_lapic_set_irr, KVM_REQ_EVENT,
    /// kvm_vcpu_kick; the model has no APICv), and the entry after that exit serves a pending KVM_REQ_APF_READY: here the
    /// reschedule interrupt of a task's external wake, while the page-ready handler holds the token slot. The request is
    /// used up, and the completion waits for the ACK. The model used to leave it pending through the kick.
    /// </summary>
    [Fact]
    public void AKickedVcpu_UsesUpTheRequest_WhileTheSlotIsBusy()
    {
        var m = Build("kvm-pf-int", [User("s", 0, new Instr(MicroOp.Block, (byte)BlockKind.Timer, 1)), User("a", 0, Touch(0)), User("b", 0, Touch(1))]);
        var s = new Script(m);
        // s blocks, a and b each sleep on a told not-present #PF, and the idle vCPU halts (its HLT exits).
        for (var i = 0; i < 64 && m.Vcpu(0).Run != RunState.GuestHalt; i++)
        {
            s.Do(ActionKind.Step);
        }

        Assert.Equal(RunState.GuestHalt, m.Vcpu(0).Run);

        s.Do(ActionKind.Complete, 0, FindWork(m, page: 0));
        s.Do(ActionKind.Dequeue, 0, 0);
        s.Do(ActionKind.DeliverInterrupt, 0);
        s.Do(ActionKind.Complete, 0, FindWork(m, page: 1));
        Assert.Equal(1, m.Vcpu(0).ApfReadyRequest);
        Assert.Equal(RunState.InGuest, m.Vcpu(0).Run);

        var wake = s.Do(ActionKind.Wake, 0, 1);
        Assert.Contains(wake, e => e.Kind == ModelEventKind.InterruptRaised && e.Aux == (byte)ModelVector.Reschedule);
        Assert.DoesNotContain(wake, e => e.Kind == ModelEventKind.ReadyDequeued);
        Assert.Equal(0, m.Vcpu(0).ApfReadyRequest);

        s.StepTo(MicroOp.WrmsrApfAck, 0);
        Assert.Equal(1, m.Vcpu(0).Done);
        Assert.False(s.IsEnabled(ActionKind.Dequeue, 0, 0), "the request was used up at the kick: the completion waits for the ACK");
    }

    /// <summary>
    /// Under the 5.7 host (kvm-pf) nothing is requested: vcpu_run checks the done list after every exit, and the field stays 0.
    /// </summary>
    [Fact]
    public void The57Host_KeepsNoRequest()
    {
        var m = Build("kvm-pf", [User("a", 0, Touch(0)), User("b", 0, Touch(1))]);
        var s = new Script(m);
        GuestRunsUntil(s, ModelEventKind.TaskSlept);
        s.Do(ActionKind.Complete, 0, FindWork(m, page: 0));
        Assert.Equal(0, m.Vcpu(0).ApfReadyRequest);
    }

    /// <summary>
    /// Two user tasks on vCPU0, each asleep on a told not-present #PF (pages 0 and 1), the vCPU idle in the guest's
    /// HLT, which exits.
    /// </summary>
    private static Script TwoToldFaults(int hostExits, int ticks = 0, int nmis = 0)
    {
        var m = Build("kvm-pf-int", [User("a", 0, Touch(0)), User("b", 0, Touch(1))], bounds: ExternalBounds.None with { HostExits = hostExits, Ticks = ticks, Nmis = nmis });
        var s = new Script(m);
        s.StepUntil(ModelEventKind.TaskSlept, 0);
        s.StepUntil(ModelEventKind.TaskSlept, 0);
        s.StepUntil(ModelEventKind.VmExit, 0);
        Assert.Equal(RunState.GuestHalt, m.Vcpu(0).Run);
        return s;
    }
}
