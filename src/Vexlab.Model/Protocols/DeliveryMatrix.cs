using System.Globalization;
using Vexlab.Model.Guest;
using Vexlab.Model.Host;
using Vexlab.Model.Machine;
using Vexlab.Model.Scripting;

namespace Vexlab.Model.Protocols;

/// <summary>One row of a protocol's delivery matrix, with the interleavings that produced it.</summary>
public sealed record MatrixRow(string Context, string NotPresent, string Ready, IReadOnlyList<string> NotPresentSteps, IReadOnlyList<string> ReadySteps);

/// <summary>
/// The delivery matrix of `vexlab explain protocol`, computed by driving the model through
/// EnabledActions/Apply: for each interrupted context, what a host-absent, needs-I/O access leads
/// to, and whether a page-ready (or wakeup) for another task's fault can be delivered there.
/// </summary>
public static class DeliveryMatrix
{
    public static readonly string[] Contexts =
        ["user", "kernel-preemptible", "kernel-preempt-off", "irqs-off", "sti-shadow", "tpr-raised", "nmi-handler"];

    private const int TargetPage = 0;
    private const int OtherPage = 1;

    public static IReadOnlyList<MatrixRow> Compute(ProtocolSpec protocol)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        var rows = new List<MatrixRow>(Contexts.Length);
        foreach (var context in Contexts)
        {
            var (notPresent, npSteps) = NotPresent(protocol, context);
            var (ready, readySteps) = Ready(protocol, context);
            rows.Add(new MatrixRow(context, notPresent, ready, npSteps, readySteps));
        }

        return rows;
    }

    /// <summary>The ops that put a task in <paramref name="context"/>, and whether it is a user task.</summary>
    private static (Instr[] Prefix, TaskMode Mode) Prefix(string context) => context switch
    {
        "user" => ([], TaskMode.User),
        "kernel-preemptible" => ([], TaskMode.Kernel),
        "kernel-preempt-off" => ([new Instr(MicroOp.PreemptOff)], TaskMode.Kernel),
        "irqs-off" => ([new Instr(MicroOp.Cli)], TaskMode.Kernel),
        "sti-shadow" => ([new Instr(MicroOp.Cli), new Instr(MicroOp.Sti)], TaskMode.Kernel),
        "tpr-raised" => ([new Instr(MicroOp.SetTpr, 0xF0)], TaskMode.Kernel),
        _ => ([], TaskMode.Kernel),
    };

    private static Instr TouchTarget(TaskMode mode, int page) => mode == TaskMode.User
        ? new Instr(MicroOp.Touch, (byte)Addressing.Page, (ushort)page)
        : new Instr(MicroOp.KTouch, (byte)((byte)Addressing.Page | TouchFlags.Fixup), (ushort)page);

    private static (string, List<string>) NotPresent(ProtocolSpec protocol, string context)
    {
        var (prefix, mode) = Prefix(context);
        var nmi = context == "nmi-handler";
        Instr[] code = nmi
            ? [new Instr(MicroOp.Compute), new Instr(MicroOp.Jump, 0, 0)]
            : [.. prefix, TouchTarget(mode, TargetPage), new Instr(MicroOp.WorkDone), new Instr(MicroOp.Exit)];
        var machine = new Machine.Machine(new MachineConfig
        {
            Vcpus = 1,
            Pages = 2,
            Tasks = [new TaskSpec("a", mode, 0, new GuestProgram("a", code))],
            Protocol = protocol,
            PageGroups = [new PageGroupSpec(TargetPage, 1, HostPage.AbsentIo, true, 0, false)],
            Bounds = new ExternalBounds(nmi ? 1 : 0, 0, 0, 0),
            NmiTouchPage = nmi ? TargetPage : -1,
        });
        var script = new Script(machine);
        var steps = new List<string>();
        if (nmi)
        {
            Record(steps, script, ActionKind.RaiseNmi);
        }

        for (var i = 0; i < 40; i++)
        {
            var events = Record(steps, script, script.IsEnabled(ActionKind.Enter) ? ActionKind.Enter : ActionKind.Step);
            foreach (var e in events)
            {
                switch (e.Kind)
                {
                    case ModelEventKind.SyncStall:
                        return (protocol.Host.Convertible == VeConvertible.None ? "sync-stall" : "vm-exit-sync", steps);
                    case ModelEventKind.ArtificialHalt:
                        return ("artificial-halt", steps);
                    case ModelEventKind.ExceptionDelivered when e.Aux == Arch.Vectors.PF && machine.TopFrame(machine.Vcpu(0).CurrentTask).Event == FrameEvent.AsyncPfNotPresent:
                        return ("pf-not-present", steps);
                    case ModelEventKind.Hypercall:
                        return (e.Aux == 1 ? "ve-continue" : "ve-suspend", steps);
                }
            }
        }

        return ("unknown", steps);
    }

    private static (string, List<string>) Ready(ProtocolSpec protocol, string context)
    {
        var steps = new List<string>();
        if (protocol.Host.Ready == ReadyDelivery.None)
        {
            return ("none", steps);
        }

        var (prefix, mode) = Prefix(context);
        var nmi = context == "nmi-handler";
        var waiter = new GuestProgram("b", [TouchTarget(TaskMode.User, OtherPage), new Instr(MicroOp.WorkDone), new Instr(MicroOp.Exit)]);
        var loopAt = (ushort)prefix.Length;
        var spinner = new GuestProgram("a", [.. prefix, new Instr(MicroOp.Compute), new Instr(MicroOp.Jump, 0, loopAt)]);
        var machine = new Machine.Machine(new MachineConfig
        {
            Vcpus = 1,
            Pages = 2,
            Tasks = [new TaskSpec("b", TaskMode.User, 0, waiter), new TaskSpec("a", mode, 0, spinner)],
            Protocol = protocol,
            PageGroups = [new PageGroupSpec(OtherPage, 1, HostPage.AbsentIo, true, 0, false)],
            Bounds = new ExternalBounds(nmi ? 1 : 0, 1, 0, 0),
        });
        var script = new Script(machine);
        var b = machine.WorkloadTask(0);
        var a = machine.WorkloadTask(1);

        // Task b faults and waits for its page; the vCPU switches to task a.
        for (var i = 0; i < 40 && machine.Vcpu(0).CurrentTask != a; i++)
        {
            if (!script.IsEnabled(ActionKind.Step) && !script.IsEnabled(ActionKind.Enter))
            {
                return ("none", steps);
            }

            Record(steps, script, script.IsEnabled(ActionKind.Enter) ? ActionKind.Enter : ActionKind.Step);
        }

        if (machine.Task(b).Status != TaskPhase.Sleeping)
        {
            // The protocol never let b wait (it suspended the vCPU): nothing to wake.
            return ("none", steps);
        }

        // Task a enters the context.
        for (var i = 0; i < prefix.Length; i++)
        {
            Record(steps, script, ActionKind.Step);
        }

        if (nmi)
        {
            Record(steps, script, ActionKind.RaiseNmi);
        }

        RecordComplete(steps, script);
        if (protocol.Host.Ready == ReadyDelivery.PageFault)
        {
            // The 5.7 host dequeues only when the vCPU passes through the host: a tick exit.
            Record(steps, script, ActionKind.Tick);
            if (!script.IsEnabled(ActionKind.Dequeue))
            {
                return ("deferred", steps);
            }

            Record(steps, script, ActionKind.Dequeue);
            var entered = Record(steps, script, ActionKind.Enter);
            return (entered.Exists(e => e.Kind == ModelEventKind.ExceptionDelivered) ? "delivered" : "deferred", steps);
        }

        if (script.IsEnabled(ActionKind.Dequeue))
        {
            Record(steps, script, ActionKind.Dequeue);
        }

        return (script.IsEnabled(ActionKind.DeliverInterrupt) ? "delivered" : "deferred", steps);
    }

    private static List<ModelEvent> Record(List<string> steps, Script script, ActionKind kind)
    {
        var what = kind == ActionKind.Step ? " [" + script.Machine.DescribeNext(0) + "]" : string.Empty;
        var events = script.Do(kind, 0);
        steps.Add(Describe(script.Trace[^1], events, what));
        return events;
    }

    private static void RecordComplete(List<string> steps, Script script)
    {
        var events = script.CompleteAny();
        steps.Add(Describe(script.Trace[^1], events, string.Empty));
    }

    private static string Describe(MachineAction action, List<ModelEvent> events, string what)
    {
        var parts = new List<string>();
        foreach (var e in events)
        {
            parts.Add(e.Kind switch
            {
                ModelEventKind.VmExit => "exit " + ((ExitReason)e.Aux).ToString(),
                ModelEventKind.ExceptionDelivered => "deliver " + Arch.Vectors.Mnemonic(e.Aux),
                ModelEventKind.InterruptRaised or ModelEventKind.InterruptDelivered => e.Kind + " " + ((ModelVector)e.Aux),
                ModelEventKind.Hypercall => e.Aux == 1 ? "resolve_ept(true)" : "resolve_ept(false)",
                _ => e.Kind.ToString(),
            });
        }

        return string.Create(CultureInfo.InvariantCulture, $"{action}{what} -> {(parts.Count == 0 ? "-" : string.Join(", ", parts))}");
    }
}
