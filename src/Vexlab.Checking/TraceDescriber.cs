using System.Globalization;
using Vexlab.Model.Guest;
using Vexlab.Model.Machine;
using Vexlab.Model.Properties;
using Vexlab.Model.Scripting;

namespace Vexlab.Checking;

/// <summary>One step of a counterexample in kernel terms.</summary>
public sealed record TraceStep(
    int Number,
    uint Action,
    string Text,
    IReadOnlyList<string> Events,
    IReadOnlyList<string> Changes,
    bool InLoop);

/// <summary>Replays packed actions on a fresh machine and describes each step.</summary>
public static class TraceDescriber
{
    public static IReadOnlyList<TraceStep> Describe(Machine machine, IReadOnlyList<ulong> actions, int loopStart = -1)
    {
        ArgumentNullException.ThrowIfNull(machine);
        ArgumentNullException.ThrowIfNull(actions);
        machine.Reset();
        var steps = new List<TraceStep>(actions.Count);
        var log = default(EventLog);
        for (var i = 0; i < actions.Count; i++)
        {
            var action = MachineAction.Unpack(actions[i]);
            if (!machine.IsEnabled(action))
            {
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"step {i + 1}: {action} is not enabled"));
            }

            var text = ActionText(machine, action);
            var before = Snapshot.Take(machine);
            log.Clear();
            log.Choose(machine, action.Pick);
            machine.Apply(action, ref log);
            log.Choose(machine, 0);
            var after = Snapshot.Take(machine);
            var events = log.Events.Select(e => EventText(machine, e)).Where(s => s.Length > 0).ToList();
            if (action.Pick != 0)
            {
                // Not the model's round robin: the checker's choice among the runnable tasks.
                events.Add($"schedule() picks {machine.TaskName(machine.Vcpu(action.Vcpu).CurrentTask)} (any runnable task may run next)");
            }

            steps.Add(new TraceStep(i + 1, (uint)actions[i], text, events, Snapshot.Diff(machine, before, after), loopStart >= 0 && i >= loopStart));
        }

        return steps;
    }

    /// <summary>Writes the steps as numbered lines.</summary>
    public static void Write(TextWriter writer, IReadOnlyList<TraceStep> steps, int loopStart)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(steps);
        foreach (var step in steps)
        {
            if (loopStart >= 0 && step.Number == loopStart + 1)
            {
                writer.WriteLine("  -- loop: the steps below repeat forever --");
            }

            var line = string.Create(CultureInfo.InvariantCulture, $"  {step.Number,3}. {step.Text}");
            if (step.Events.Count > 0)
            {
                line += ": " + string.Join("; ", step.Events);
            }

            writer.WriteLine(line);
            if (step.Changes.Count > 0)
            {
                writer.WriteLine("       " + string.Join(", ", step.Changes));
            }
        }

        if (loopStart >= 0 && loopStart >= steps.Count)
        {
            writer.WriteLine("  -- then nothing that makes progress: the last state stutters forever --");
        }
    }

    /// <summary>What the action is about to do, with the program and micro-op at the top frame for a guest step.</summary>
    public static string ActionText(Machine machine, MachineAction action)
    {
        ArgumentNullException.ThrowIfNull(machine);
        var v = action.Vcpu;
        switch (action.Kind)
        {
            case ActionKind.Step:
                var t = machine.Vcpu(v).CurrentTask;
                var task = machine.Task(t);
                if (task.Depth == 0)
                {
                    return $"vCPU{v} [{machine.TaskName(t)}]: step";
                }

                var next = machine.NextInstr(v);
                var op = next.ToString();
                if (next.Op == MicroOp.ReadCr2)
                {
                    op = string.Create(CultureInfo.InvariantCulture, $"reads CR2=0x{machine.Vcpu(v).Cr2:x}");
                }

                var choice = action.Arg != 0 ? string.Create(CultureInfo.InvariantCulture, $" (choice {action.Arg - 1})") : string.Empty;
                return $"vCPU{v} [{machine.TaskName(t)}]: {machine.ProgramPrefix(t)}{op}{choice}";
            case ActionKind.DeliverInterrupt:
                return $"vCPU{v}: interrupt delivered";
            case ActionKind.DeliverNmi:
                return $"vCPU{v}: NMI delivered";
            case ActionKind.Enter:
                return $"vCPU{v}: VM entry";
            case ActionKind.RaiseNmi:
                return $"vCPU{v}: NMI arrives (perf)";
            case ActionKind.Tick:
                return $"vCPU{v}: timer tick";
            default:
                return action.ToString();
        }
    }

    public static string EventText(Machine machine, in ModelEvent e)
    {
        ArgumentNullException.ThrowIfNull(machine);
        var task = e.Task < machine.TaskCount ? machine.TaskName(e.Task) : e.Task.ToString(CultureInfo.InvariantCulture);
        var page = e.Page >= 0 ? $"0x{Machine.AddressOf(e.Page):x}" : "-";
        return e.Kind switch
        {
            ModelEventKind.VmExit => $"VM exit ({(ExitReason)e.Aux})",
            ModelEventKind.ExceptionDelivered => e.Aux == 14 ? $"#PF delivered (CR2/token=0x{e.Token:x})" : $"exception {e.Aux} delivered (info 0x{e.Token:x})",
            ModelEventKind.InterruptRaised => $"{(ModelVector)e.Aux} interrupt raised",
            ModelEventKind.InterruptDropped => "interrupt dropped (LAPIC disabled)",
            ModelEventKind.InterruptDelivered => "interrupt handler entered",
            ModelEventKind.NmiDelivered => "NMI handler entered",
            ModelEventKind.VeDelivered => $"#VE delivered for {page}",
            ModelEventKind.SyncStall => $"vCPU stalled in the host for {page}",
            ModelEventKind.ArtificialHalt => "host halts the vCPU (APF halt)",
            ModelEventKind.Unhalted => e.Aux switch
            {
                2 => "page ready makes the vCPU runnable: HLT ends",
                3 => "a completion it cannot dequeue wakes the vCPU (kvm_vcpu_has_events): halt ends, access retried",
                4 => "the SMI ends the halt (kvm_vcpu_has_events); after RSM the vCPU runs on, past its HLT or to retry its access",
                5 => "the migration's destination vCPU is not APF-halted (a new vCPU): it retries its access",
                _ => "vCPU unhalted",
            },
            ModelEventKind.AsyncStarted => $"async work for {page}, token 0x{e.Token:x}{(e.Aux == 1 ? ", guest told (not present)" : ", guest not told")}",
            ModelEventKind.WorkCompleted => e.Aux == 1 ? $"host work for {page} failed" : $"host work for {page} done",
            ModelEventKind.ReadyDequeued => $"completion token 0x{e.Token:x} dequeued{(e.Aux == 1 ? ", page ready sent" : string.Empty)}",
            ModelEventKind.TaskWoken => $"{task} woken",
            ModelEventKind.TaskSlept => $"{task} sleeps",
            ModelEventKind.ContextSwitch => $"switch to {task}",
            ModelEventKind.Signal => $"{(Signal)e.Aux} to {task}",
            ModelEventKind.Oops => $"guest oops ({(PanicReason)e.Aux})",
            ModelEventKind.VmError => e.Aux == 1 ? "triple fault: KVM_EXIT_SHUTDOWN to the VMM" : $"VMM error exit for {page}",
            ModelEventKind.TaskExited => $"{task} exits",
            ModelEventKind.IterationDone => $"{task} finished its work",
            ModelEventKind.AccessFault => $"{task} access to {page} misses in the host",
            ModelEventKind.AccessDone => $"{task} access to {page} done",
            ModelEventKind.Fixup => $"{task}: fixup returns -EFAULT",
            ModelEventKind.Hypercall => e.Aux == 1 ? "resolve_ept(can_continue=true)" : "hypercall",
            ModelEventKind.MinorEptFault => e.Aux == 1 ? $"host maps {page}, which its async work brought in" : $"host maps {page} without I/O",
            ModelEventKind.GuestMinorFault => $"guest maps {page}",
            ModelEventKind.PropertyViolated => $"VIOLATION {PropertyNames.Of((SafetyProperty)e.Aux)}",
            ModelEventKind.GuestHalted => "HLT",
            ModelEventKind.External => string.Empty,
            ModelEventKind.Compute or ModelEventKind.KernelStep => string.Empty,
            _ => e.Kind.ToString(),
        };
    }

    /// <summary>A few named fields per vCPU and task, to list what a step changed.</summary>
    private sealed class Snapshot
    {
        private readonly List<(string Name, string Value)> _fields = [];

        public static Snapshot Take(Machine m)
        {
            var s = new Snapshot();
            s.Add("outcome", m.Outcome.ToString());
            for (var v = 0; v < m.Config.Vcpus; v++)
            {
                var c = m.Vcpu(v);
                var p = string.Create(CultureInfo.InvariantCulture, $"vCPU{v}.");
                s.Add(p + "run", c.Run.ToString());
                s.Add(p + "if", c.If.ToString(CultureInfo.InvariantCulture));
                s.Add(p + "nmi_blocked", c.NmiBlocked.ToString(CultureInfo.InvariantCulture));
                s.Add(p + "nmi_pending", c.NmiPending.ToString(CultureInfo.InvariantCulture));
                s.Add(p + "cr2", Hex(c.Cr2));
                s.Add(p + "apf_flags", Hex(c.ApfFlags));
                s.Add(p + "apf_token", Hex(c.ApfToken));
                s.Add(p + "pending", c.Pending.ToString());
                s.Add(p + "irr", Hex(c.Irr));
                s.Add(p + "lapic", c.LapicEnabled.ToString(CultureInfo.InvariantCulture));
                s.Add(p + "current", m.TaskName(c.CurrentTask));
                s.Add(p + "active", c.Inactive == 0 ? "1" : "0");
                s.Add(p + "ve_busy", Hex(c.VeBusy));
            }

            for (var t = m.Config.Vcpus; t < m.TaskCount; t++)
            {
                var task = m.Task(t);
                var p = m.TaskName(t) + ".";
                s.Add(p + "status", task.Status.ToString());
                s.Add(p + "vcpu", task.Vcpu.ToString(CultureInfo.InvariantCulture));
                s.Add(p + "depth", task.Depth.ToString(CultureInfo.InvariantCulture));
                s.Add(p + "wait_token", Hex(task.WaitToken));
                s.Add(p + "uninterruptible", task.Uninterruptible.ToString(CultureInfo.InvariantCulture));
            }

            return s;
        }

        public static List<string> Diff(Machine m, Snapshot before, Snapshot after)
        {
            _ = m;
            var changes = new List<string>();
            for (var i = 0; i < before._fields.Count && i < after._fields.Count; i++)
            {
                if (!string.Equals(before._fields[i].Value, after._fields[i].Value, StringComparison.Ordinal))
                {
                    changes.Add($"{before._fields[i].Name} {before._fields[i].Value}->{after._fields[i].Value}");
                }
            }

            return changes;
        }

        private static string Hex(uint value) => string.Create(CultureInfo.InvariantCulture, $"0x{value:x}");

        private void Add(string name, string value) => _fields.Add((name, value));
    }
}
