using Vexlab.Model.Guest;
using Vexlab.Model.Machine;

namespace Vexlab.Model.Scripting;

/// <summary>Records the model events of the steps it drives; used by scripted tests and `explain protocol`.</summary>
public struct EventLog : IModelEventSink
{
    private List<ModelEvent>? _events;
    private Machine.Machine? _machine;
    private byte _pick;

    public List<ModelEvent> Events => _events ??= [];

    public void On(in ModelEvent e) => Events.Add(e);

    /// <summary>The next Apply on <paramref name="machine"/> answers its first pick_next_task with choice <paramref name="pick"/> (<see cref="ScheduleChoice"/>).</summary>
    public void Choose(Machine.Machine machine, byte pick)
    {
        _machine = machine;
        _pick = pick;
    }

    public int PickNextTask(int vcpu, int current, int fallback)
    {
        var pick = _pick;
        _pick = 0;
        return pick == 0 || _machine is null ? fallback : ScheduleChoice.Resolve(_machine, vcpu, fallback, pick);
    }

    public readonly bool PreemptOnTick(int vcpu, int current) => true;

    public readonly bool PreemptOnWakeup(int vcpu, int woken) => true;

    public readonly bool PreemptOnAttach(int vcpu, int moved) => true;

    public readonly int SelectTaskRq(int vcpu, int woken) => -1;

    public readonly bool Has(ModelEventKind kind) => _events is not null && _events.Exists(e => e.Kind == kind);

    public readonly bool Has(ModelEventKind kind, byte aux) => _events is not null && _events.Exists(e => e.Kind == kind && e.Aux == aux);

    public void Clear() => _events?.Clear();
}

/// <summary>
/// Drives a machine through <see cref="Machine.Machine.EnabledActions"/> and <see cref="Machine.Machine.Apply{TSink}"/>
/// only: a scripted interleaving that fails loudly when a step it asks for is not enabled.
/// </summary>
public sealed class Script
{
    private readonly MachineAction[] _buffer;
    private EventLog _log;

    public Script(Machine.Machine machine)
    {
        ArgumentNullException.ThrowIfNull(machine);
        Machine = machine;
        _buffer = new MachineAction[machine.MaxActions];
        _log = default;
    }

    public Machine.Machine Machine { get; }

    /// <summary>Every action applied so far, in order: the interleaving.</summary>
    public List<MachineAction> Trace { get; } = [];

    public List<ModelEvent> Events => _log.Events;

    public ReadOnlySpan<MachineAction> Enabled()
    {
        var n = Machine.EnabledActions(_buffer);
        return _buffer.AsSpan(0, n);
    }

    public bool IsEnabled(ActionKind kind, int vcpu = 0, int arg = -1)
    {
        foreach (var a in Enabled())
        {
            if (a.Kind == kind && a.Vcpu == vcpu && (arg < 0 || a.Arg == arg))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Applies an action that must be enabled now; returns the events it caused. <paramref name="pick"/>
    /// is the scheduler's choice at the step's pick_next_task (<see cref="ScheduleChoice"/>; 0: the
    /// model's round robin), as a checker trace records it.
    /// </summary>
    public List<ModelEvent> Do(ActionKind kind, int vcpu = 0, int arg = -1, byte pick = 0)
    {
        foreach (var enabled in Enabled())
        {
            if (enabled.Kind == kind && enabled.Vcpu == vcpu && (arg < 0 || enabled.Arg == arg))
            {
                var a = enabled.WithPick(pick);
                var start = _log.Events.Count;
                _log.Choose(Machine, pick);
                Machine.Apply(a, ref _log);
                _log.Choose(Machine, 0);
                Trace.Add(a);
                return _log.Events.GetRange(start, _log.Events.Count - start);
            }
        }

        throw new InvalidOperationException($"{kind} on vCPU{vcpu} (arg {arg}) is not enabled; enabled: {string.Join(", ", Enabled().ToArray())}");
    }

    /// <summary>Steps vCPU <paramref name="vcpu"/> until an event of <paramref name="kind"/> happens (at most <paramref name="limit"/> steps).</summary>
    public List<ModelEvent> StepUntil(ModelEventKind kind, int vcpu = 0, int limit = 64)
    {
        var all = new List<ModelEvent>();
        for (var i = 0; i < limit; i++)
        {
            var events = Do(ActionKind.Step, vcpu);
            all.AddRange(events);
            if (events.Exists(e => e.Kind == kind))
            {
                return all;
            }
        }

        throw new InvalidOperationException($"no {kind} within {limit} steps of vCPU{vcpu}");
    }

    /// <summary>Steps vCPU <paramref name="vcpu"/> until its next micro-op is <paramref name="op"/> (not executed); returns the events.</summary>
    public List<ModelEvent> StepTo(MicroOp op, int vcpu = 0, int limit = 64)
    {
        var all = new List<ModelEvent>();
        for (var i = 0; i < limit; i++)
        {
            if (Machine.Vcpu(vcpu).Run == RunState.InGuest && Machine.NextInstr(vcpu).Op == op)
            {
                return all;
            }

            all.AddRange(Do(ActionKind.Step, vcpu));
        }

        throw new InvalidOperationException($"vCPU{vcpu} did not reach {op} within {limit} steps");
    }

    /// <summary>The first enabled host completion, for a test that does not care which.</summary>
    public List<ModelEvent> CompleteAny()
    {
        foreach (var a in Enabled())
        {
            if (a.Kind == ActionKind.Complete)
            {
                return Do(ActionKind.Complete, a.Vcpu, a.Arg);
            }
        }

        throw new InvalidOperationException("no host work in flight");
    }

    /// <summary>
    /// Runs to the end with a fixed preference (guest steps, deliveries, entries, dequeues, then
    /// completions): a deterministic schedule for smoke tests. Returns the number of actions.
    /// </summary>
    public int RunToEnd(int limit = 10_000)
    {
        for (var i = 0; i < limit; i++)
        {
            var enabled = Enabled();
            if (enabled.Length == 0)
            {
                return i;
            }

            var best = enabled[0];
            var bestRank = int.MaxValue;
            foreach (var a in enabled)
            {
                var rank = Preference(a.Kind);
                if (rank < bestRank)
                {
                    best = a;
                    bestRank = rank;
                }
            }

            if (bestRank == NotPreferred)
            {
                return i;
            }

            Machine.Apply(best, ref _log);
            Trace.Add(best);
        }

        return limit;
    }

    /// <summary>Rank of an action kind in the fixed schedule of <see cref="RunToEnd"/>: lower first.</summary>
    public const int NotPreferred = 99;

    /// <summary>
    /// The fixed preference smoke tests run with: deliveries, entries and dequeues before guest
    /// steps, host completions last, external events never.
    /// </summary>
    public static int Preference(ActionKind kind) => kind switch
    {
        ActionKind.DeliverNmi => 0,
        ActionKind.DeliverInterrupt => 1,
        ActionKind.Enter => 2,
        ActionKind.Dequeue => 3,
        ActionKind.Step => 4,
        ActionKind.Complete => 5,
        ActionKind.Unblock => 6,
        _ => NotPreferred,
    };

    /// <summary>A short program: the ops in order.</summary>
    public static GuestProgram Program(string name, params Instr[] code) => new(name, code);
}
