using Vexlab.Model.Arch;
using Vexlab.Model.Guest;
using Vexlab.Model.Properties;
using Vexlab.Model.Protocols;

namespace Vexlab.Model.Machine;

/// <summary>Event delivery through the guest IDT: exceptions, interrupts, NMIs.</summary>
public sealed partial class Machine
{
    private void PushFrame(int v, int program, FrameEvent e, uint info)
    {
        ref var cpu = ref VcpuRef(v);
        var t = cpu.CurrentTask;
        ref var task = ref TaskRef(t);
        if (task.Depth >= _maxDepth)
        {
            throw new InvalidOperationException($"frame stack of {TaskName(t)} overflows {_maxDepth}: raise MaxDepth");
        }

        FrameRef(t, task.Depth) = new Frame
        {
            Program = (byte)program,
            User = 0,
            SavedIf = cpu.If,
            Event = e,
            EventInfo = info,
        };
        task.Depth++;
    }

    /// <summary>
    /// Delivers an exception (#PF, #VE) through its interrupt gate: not blocked by IF, TPR or a
    /// shadow; the gate clears IF and the shadow ends; #PF delivery writes CR2.
    /// </summary>
    private void DeliverException<TSink>(int v, byte vector, FrameEvent e, uint info, ref TSink sink)
        where TSink : IModelEventSink
    {
        ref var cpu = ref VcpuRef(v);
        var t = cpu.CurrentTask;
        if (e == FrameEvent.AsyncPfNotPresent && cpu.If == 0)
        {
            Violated(SafetyProperty.DosOnlyIf1, v, t, ref sink);
        }

        if (e == FrameEvent.AsyncPfReady && !InterruptsAllowed(v))
        {
            Violated(SafetyProperty.ReadyOnlyIf1, v, t, ref sink);
        }

        if (vector == Vectors.PF)
        {
            cpu.Cr2 = info;
        }

        var program = vector == Vectors.VE ? HandlerProgram.Ve : HandlerProgram.PageFault;
        PushFrame(v, program, e, info);
        var after = GateDelivery.AfterDelivery(ArchState(v), vector, isNmi: false);
        cpu.If = after.If ? (byte)1 : (byte)0;
        cpu.Shadow = after.Shadow;
        sink.On(new ModelEvent(ModelEventKind.ExceptionDelivered, (byte)v, (byte)t, vector, info, -1));
    }

    private void DeliverInterrupt<TSink>(int v, ref TSink sink)
        where TSink : IModelEventSink
    {
        ref var cpu = ref VcpuRef(v);
        var bit = AcceptableVector(v);
        var vector = (ModelVector)bit;
        cpu.Irr &= (byte)~(1 << bit);
        cpu.Isr |= (byte)(1 << bit);
        WakeFromHalt(v, ref sink);
        var program = vector switch
        {
            ModelVector.Timer => HandlerProgram.Timer,
            ModelVector.Callback => HandlerProgram.Callback,
            _ => HandlerProgram.Reschedule,
        };
        PushFrame(v, program, FrameEvent.Interrupt, 0);
        var after = GateDelivery.AfterDelivery(ArchState(v), VectorNumber(vector), isNmi: false);
        cpu.If = after.If ? (byte)1 : (byte)0;
        cpu.Shadow = after.Shadow;
        sink.On(new ModelEvent(ModelEventKind.InterruptDelivered, (byte)v, cpu.CurrentTask, (byte)vector, 0, -1));
    }

    private void DeliverNmi<TSink>(int v, ref TSink sink)
        where TSink : IModelEventSink
    {
        ref var cpu = ref VcpuRef(v);
        // kvm_check_and_inject_events: --nmi_pending for the one injected; a second still pending waits for the
        // NMI window (enable_nmi_window with no STI shadow after the delivery): the handler's IRET.
        cpu.NmiPending--;
        cpu.NmiIrqWindow = 0;
        WakeFromHalt(v, ref sink);
        PushFrame(v, HandlerProgram.Nmi, FrameEvent.Nmi, 0);
        var after = GateDelivery.AfterDelivery(ArchState(v), Vectors.NMI, isNmi: true);
        cpu.If = after.If ? (byte)1 : (byte)0;
        cpu.Shadow = after.Shadow;
        cpu.NmiBlocked = after.NmiBlocked ? (byte)1 : (byte)0;
        sink.On(new ModelEvent(ModelEventKind.NmiDelivered, (byte)v, cpu.CurrentTask, 0, 0, -1));
    }

    /// <summary>HLT ends on an interrupt or NMI; KVM's artificial halt ends too and the access runs again later.</summary>
    private void WakeFromHalt<TSink>(int v, ref TSink sink)
        where TSink : IModelEventSink
    {
        ref var cpu = ref VcpuRef(v);
        if (cpu.Run == RunState.HostHalted)
        {
            cpu.ApfHalted = 0;
            sink.On(new ModelEvent(ModelEventKind.Unhalted, (byte)v, cpu.CurrentTask, 1, 0, -1));
        }

        if (HaltedInHost(v))
        {
            // A halt in the host ends in vcpu_enter_guest, which serves a pending KVM_REQ_APF_READY before it
            // injects the event; the event waited for that check (EntryDue), so it dequeues nothing.
            cpu.ApfReadyRequest = 0;
        }

        cpu.Run = RunState.InGuest;
    }
}
