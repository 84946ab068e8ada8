using System.Numerics;
using Vexlab.Checking.Engine;
using Vexlab.Checking.Models;
using Vexlab.Model.Configuration;
using Vexlab.Model.Guest;
using Vexlab.Model.Host;
using Vexlab.Model.Machine;
using Vexlab.Model.Properties;

namespace Vexlab.Checking;

/// <summary>
/// The checker's view of one <see cref="Machine"/> configuration: states are the machine's byte
/// array, actions its packed <see cref="MachineAction"/>s. Each thread that calls in gets its
/// own machine (the machine is a mutable interpreter over one state buffer), so the engine may
/// expand states from several workers at once.
/// </summary>
public sealed class MachineSystem : ITransitionSystem, IInPlaceTransitionSystem, IActionKinds, IDisposable
{
    private static readonly string[] s_kindNames = Enum.GetNames<ActionKind>();

    private readonly ThreadLocal<Worker> _workers;
    private readonly SafetyProperty[] _safety;
    private readonly LivenessProperty[] _liveness;
    private readonly ulong[] _bitOf;
    private readonly string[] _safetyNames;
    private readonly string[] _livenessNames;
    private readonly int _vcpus;

    // The most alternatives one step's pick_next_task can have: 0 when no vCPU can ever hold two
    // workload tasks, and then no step is tried for them.
    private readonly int _pickWidth;
    private readonly int _workloadTasks;
    private readonly int _completeClasses;
    private readonly UserInvariant[] _invariants;
    private readonly int _invariantShift;

    /// <summary>
    /// Builds the system; <paramref name="properties"/> null or empty selects every property.
    /// <paramref name="invariants"/> are user safety properties checked on every successor state.
    /// </summary>
    public MachineSystem(MachineConfig config, IReadOnlyCollection<string>? properties = null, IReadOnlyList<UserInvariant>? invariants = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        _workers = new ThreadLocal<Worker>(() => new Worker(new Machine(config)));
        var machine = Current.Machine;
        StateSize = machine.StateSize;
        _vcpus = config.Vcpus;
        _pickWidth = PickWidth(config);
        MaxActions = Math.Min(ushort.MaxValue, machine.MaxActions * (1 + _pickWidth));
        _workloadTasks = Math.Min(64, config.Tasks.Count);

        var all = properties is null || properties.Count == 0;
        var safety = new List<SafetyProperty>();
        var liveness = new List<LivenessProperty>();
        if (!all)
        {
            foreach (var name in properties!)
            {
                if (!IsKnownProperty(name) && !(invariants ?? []).Any(i => i.Name == name))
                {
                    throw new InputException(NearestName.Unknown("property", name, [.. AllPropertyNames, .. (invariants ?? []).Select(i => i.Name)]));
                }
            }
        }

        for (var p = 0; p < PropertyNames.Safety.Length; p++)
        {
            if (all || properties!.Contains(PropertyNames.Safety[p]))
            {
                safety.Add((SafetyProperty)p);
            }
        }

        for (var p = 0; p < PropertyNames.Liveness.Length; p++)
        {
            if (all || properties!.Contains(PropertyNames.Liveness[p]))
            {
                liveness.Add((LivenessProperty)p);
            }
        }

        CheckDeadlock = all || properties!.Contains(Checker.DeadlockProperty);
        _safety = [.. safety];
        _liveness = [.. liveness];
        _bitOf = new ulong[32];
        for (var i = 0; i < _safety.Length; i++)
        {
            _bitOf[(int)_safety[i]] = 1UL << i;
        }

        _invariants = [.. (invariants ?? []).Where(i => all || properties!.Contains(i.Name))];
        _invariantShift = _safety.Length;
        if (_safety.Length + _invariants.Length > 64)
        {
            throw new InputException("too many safety properties (at most 64 including invariants)");
        }

        _safetyNames = [.. _safety.Select(PropertyNames.Of), .. _invariants.Select(i => i.Name)];
        _livenessNames = [.. _liveness.Select(PropertyNames.Of)];
        _completeClasses = Math.Max(1, Math.Min(machine.WorkCapacity, 64 - (4 * _vcpus)));
        FairnessClasses = Math.Min(64, (4 * _vcpus) + _completeClasses);
    }

    /// <summary>Every property name the checker knows: safety, the deadlock check, liveness.</summary>
    public static IReadOnlyList<string> AllPropertyNames { get; } =
        [.. PropertyNames.Safety, Checker.DeadlockProperty, .. PropertyNames.Liveness];

    public MachineConfig Config { get; }

    /// <summary>True when the deadlock check ("no-deadlock") is among the selected properties.</summary>
    public bool CheckDeadlock { get; }

    public int StateSize { get; }

    public int MaxActions { get; }

    public IReadOnlyList<string> SafetyProperties => _safetyNames;

    public IReadOnlyList<string> LivenessProperties => _livenessNames;

    public int FairnessClasses { get; }

    public IReadOnlyList<string> ActionKindNames => s_kindNames;

    public static bool IsKnownProperty(string name) => AllPropertyNames.Contains(name, StringComparer.Ordinal);

    public void Dispose() => _workers.Dispose();

    // The calling thread's worker of the system it used last: the search calls in a few times a state, and a
    // ThreadLocal lookup each time cost more than the thread-static check of the owner.
    [ThreadStatic]
    private static MachineSystem? t_owner;

    [ThreadStatic]
    private static Worker? t_worker;

    private Worker Current
    {
        get
        {
            if (ReferenceEquals(t_owner, this))
            {
                return t_worker!;
            }

            var worker = _workers.Value!;
            t_owner = this;
            t_worker = worker;
            return worker;
        }
    }

    public void WriteInitialState(Span<byte> state)
    {
        var m = Current.Machine;
        m.Reset();
        m.SaveState(state);
    }

    public int ListActions(ReadOnlySpan<byte> state, Span<ulong> actions)
    {
        var w = Current;
        w.Machine.LoadState(state);
        var n = w.Machine.EnabledActions(w.Buffer);
        var choosing = _pickWidth > 0 && MayChoose(w.Machine);
        if (choosing)
        {
            state.CopyTo(w.Scratch);
        }

        return WithPicks(w, n, choosing, actions);
    }

    public int ListActions(byte[] states, int offset, Span<ulong> actions)
    {
        var w = Current;
        var m = w.Machine;

        // Listing only reads the state: the machine looks at it where it lies.
        m.Attach(states, offset);
        var n = m.EnabledActions(w.Buffer);
        var choosing = _pickWidth > 0 && MayChoose(m);
        m.Detach();
        if (choosing)
        {
            states.AsSpan(offset, StateSize).CopyTo(w.Scratch);
        }

        return WithPicks(w, n, choosing, actions);
    }

    /// <summary>
    /// The enabled actions, each followed by its variants for the scheduler's other choices: the
    /// guest's choice of the next task is the checker's, any runnable task of the vCPU (a superset
    /// of every policy). Which steps schedule, and among how many tasks, is found by applying each
    /// to a copy of the state (<see cref="Worker.Scratch"/>) with the model's default choice.
    /// </summary>
    private int WithPicks(Worker w, int n, bool choosing, Span<ulong> actions)
    {
        if (!choosing)
        {
            for (var i = 0; i < n; i++)
            {
                actions[i] = w.Buffer[i].Pack();
            }

            return n;
        }

        var m = w.Machine;
        var count = 0;
        for (var i = 0; i < n; i++)
        {
            var a = w.Buffer[i];
            actions[count++] = a.Pack();
            w.Scratch.AsSpan().CopyTo(w.Trial);
            m.Attach(w.Trial, 0);
            var sink = new ViolationSink(m, 0);
            m.Apply(a, ref sink);
            m.Detach();
            for (var k = 1; k <= sink.Alternatives; k++)
            {
                actions[count++] = a.WithPick(k).Pack();
            }
        }

        return count;
    }

    /// <summary>Whether some vCPU holds two workload tasks that have not ended: only then can a step choose.</summary>
    private bool MayChoose(Machine m)
    {
        ulong seen = 0;
        for (var t = _vcpus; t < m.TaskCount; t++)
        {
            ref readonly var task = ref m.Task(t);
            if (task.Status is TaskPhase.Exited or TaskPhase.Killed)
            {
                continue;
            }

            var bit = 1UL << (task.Vcpu & 63);
            if ((seen & bit) != 0)
            {
                return true;
            }

            seen |= bit;
        }

        return false;
    }

    /// <summary>The most other tasks one vCPU can hold: with migrations any workload task can join any vCPU.</summary>
    private static int PickWidth(MachineConfig config)
    {
        var perVcpu = new int[config.Vcpus];
        foreach (var t in config.Tasks)
        {
            perVcpu[Math.Clamp(t.Vcpu, 0, config.Vcpus - 1)]++;
        }

        var most = config.Bounds.Migrations > 0 ? config.Tasks.Count : perVcpu.DefaultIfEmpty().Max();
        return Math.Clamp(most - 1, 0, ScheduleChoice.MaxAlternatives);
    }

    public ulong Apply(byte[] states, int offset, ulong action, byte[] next, int nextOffset)
    {
        states.AsSpan(offset, StateSize).CopyTo(next.AsSpan(nextOffset, StateSize));
        return ApplyInPlace(next, nextOffset, action);
    }

    public ulong ApplyInPlace(byte[] state, int offset, ulong action)
    {
        var m = Current.Machine;
        m.Attach(state, offset);
        var a = MachineAction.Unpack(action);
        var sink = new ViolationSink(m, a.Pick);
        m.Apply(a, ref sink);
        var bits = MapViolations(sink.Raw) | InvariantViolations(m);
        m.Detach();
        return bits;
    }

    public ulong Apply(ReadOnlySpan<byte> state, ulong action, Span<byte> next)
    {
        var m = Current.Machine;
        m.LoadState(state);
        var a = MachineAction.Unpack(action);
        var sink = new ViolationSink(m, a.Pick);
        m.Apply(a, ref sink);
        m.SaveState(next);
        return MapViolations(sink.Raw) | InvariantViolations(m);
    }

    /// <summary>Bits of the user invariants the machine's current state breaks.</summary>
    public ulong InvariantViolations(Machine m)
    {
        ulong result = 0;
        for (var i = 0; i < _invariants.Length; i++)
        {
            if (!_invariants[i].Holds(m))
            {
                result |= 1UL << (_invariantShift + i);
            }
        }

        return result;
    }

    /// <summary>Maps raw <see cref="SafetyProperty"/> bits to the selected properties' bits.</summary>
    public ulong MapViolations(uint raw)
    {
        ulong result = 0;
        while (raw != 0)
        {
            var p = BitOperations.TrailingZeroCount(raw);
            result |= _bitOf[p];
            raw &= raw - 1;
        }

        return result;
    }

    public ulong PendingObligations(ReadOnlySpan<byte> state, int property)
    {
        var m = Current.Machine;
        m.LoadState(state);
        return Obligations(m, _liveness[property]);
    }

    /// <summary>
    /// The obligations of <paramref name="property"/> in the machine's current state: bit i =
    /// workload task i, or vCPU i for <see cref="LivenessProperty.NoHaltLivelock"/>.
    /// </summary>
    public ulong Obligations(Machine m, LivenessProperty property)
    {
        ArgumentNullException.ThrowIfNull(m);
        ulong bits = 0;
        if (property == LivenessProperty.NoHaltLivelock)
        {
            for (var v = 0; v < _vcpus; v++)
            {
                if (m.Vcpu(v).WokenByCompletion == 1)
                {
                    bits |= 1UL << v;
                }
            }

            return bits;
        }

        for (var i = 0; i < _workloadTasks; i++)
        {
            var t = m.WorkloadTask(i);
            var pending = property == LivenessProperty.NoLostWakeup ? Waiting(m, t) : OnUnrecoverable(m, t);
            if (pending)
            {
                bits |= 1UL << i;
            }
        }

        return bits;
    }

    /// <summary>Weak fairness: per vCPU guest steps, deliveries, entries and dequeues; per work item completions; external events none.</summary>
    public int FairnessClass(ulong action)
    {
        var a = MachineAction.Unpack(action);
        var v = a.Vcpu;
        return a.Kind switch
        {
            Model.Machine.ActionKind.Step => v,
            Model.Machine.ActionKind.DeliverInterrupt or Model.Machine.ActionKind.DeliverNmi => _vcpus + v,
            Model.Machine.ActionKind.Enter or Model.Machine.ActionKind.Unblock => (2 * _vcpus) + v,
            Model.Machine.ActionKind.Dequeue => (3 * _vcpus) + v,
            Model.Machine.ActionKind.Complete => Math.Min(63, (4 * _vcpus) + (a.Arg % _completeClasses)),
            _ => -1,
        };
    }

    public int ActionKind(ulong action) => (int)MachineAction.Unpack(action).Kind;

    public bool IsValidEnd(ReadOnlySpan<byte> state)
    {
        var m = Current.Machine;
        m.LoadState(state);
        return m.Outcome != GuestOutcome.Running;
    }

    public bool IsAlive(ReadOnlySpan<byte> state)
    {
        var m = Current.Machine;
        m.LoadState(state);
        // A VM the VMM closed is not a guest that stays alive, even while workers still hold it.
        return m.Outcome is (GuestOutcome.Running or GuestOutcome.Finished) && !m.TornDown;
    }

    /// <summary>A fresh machine of this configuration, for replaying traces.</summary>
    public Machine CreateMachine() => new(Config);

    /// <summary>
    /// The task waits for a wakeup: asleep, or running inside a wait loop (TASK_UNINTERRUPTIBLE
    /// set and not yet woken), or its vCPU is artificially halted by the host for its fault.
    /// </summary>
    private static bool Waiting(Machine m, int t)
    {
        ref readonly var task = ref m.Task(t);
        if (task.Status == TaskPhase.Sleeping)
        {
            return true;
        }

        if (task.Status != TaskPhase.Running)
        {
            return false;
        }

        ref readonly var cpu = ref m.Vcpu(task.Vcpu);
        if (cpu.CurrentTask != t)
        {
            return false;
        }

        return task.Uninterruptible == 1 || cpu.Run == RunState.HostHalted || cpu.ApfHalted == 1;
    }

    /// <summary>The task's next access, or a fault handler on its stack, is for an unrecoverable page.</summary>
    private static bool OnUnrecoverable(Machine m, int t)
    {
        ref readonly var task = ref m.Task(t);
        if (task.Status is TaskPhase.Exited or TaskPhase.Killed || task.Depth == 0)
        {
            return false;
        }

        ref readonly var bottom = ref m.FrameAt(t, 0);
        var page = NextPage(m, t, in bottom);
        if (page >= 0 && m.Page(page).Host == HostPage.Unrecoverable)
        {
            return true;
        }

        for (var d = 1; d < task.Depth; d++)
        {
            ref readonly var f = ref m.FrameAt(t, d);
            if (f.Event is FrameEvent.PageFault or FrameEvent.Ve)
            {
                var p = m.PageOfAddress(f.EventInfo);
                if (p >= 0 && m.Page(p).Host == HostPage.Unrecoverable)
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static int NextPage(Machine m, int t, in Frame f)
    {
        var code = m.ProgramOf(f.Program).Code;
        var pc = (int)f.Pc;
        for (var guard = 0; guard < 8 && pc < code.Length && code[pc].Op == MicroOp.Jump; guard++)
        {
            pc = code[pc].B;
        }

        if (pc >= code.Length)
        {
            return -1;
        }

        var ins = code[pc];
        if (ins.Op is not (MicroOp.Touch or MicroOp.KTouch))
        {
            return -1;
        }

        var regions = m.Config.Regions;
        return (Addressing)(ins.A & TouchFlags.AddressingMask) switch
        {
            Addressing.Page => ins.B,
            Addressing.Sequential when ins.B < regions.Count =>
                regions[ins.B].FirstPage + (int)(m.Task(t).Cursor % (uint)Math.Max(1, regions[ins.B].PageCount)),
            Addressing.Random when ins.B < regions.Count && f.R0 != 0 => regions[ins.B].FirstPage + (int)f.R0 - 1,
            _ => -1,
        };
    }

    /// <summary>
    /// Collects the raw safety bits a step reports, and answers its first pick_next_task with the
    /// action's choice (<see cref="ScheduleChoice"/>), counting the alternatives there were.
    /// </summary>
    private struct ViolationSink(Machine machine, byte pick) : IModelEventSink
    {
        public uint Raw;

        /// <summary>Other runnable tasks the step's first pick_next_task could have taken.</summary>
        public int Alternatives;

        private bool _asked;

        public void On(in ModelEvent e)
        {
            if (e.Kind == ModelEventKind.PropertyViolated)
            {
                Raw |= 1u << e.Aux;
            }
        }

        public int PickNextTask(int vcpu, int current, int fallback)
        {
            if (_asked)
            {
                return fallback;
            }

            _asked = true;
            Alternatives = ScheduleChoice.Alternatives(machine, vcpu, fallback);
            return ScheduleChoice.Resolve(machine, vcpu, fallback, pick);
        }

        public readonly bool PreemptOnTick(int vcpu, int current) => true;

        public readonly bool PreemptOnWakeup(int vcpu, int woken) => true;

        public readonly bool PreemptOnAttach(int vcpu, int moved) => true;

        public readonly int SelectTaskRq(int vcpu, int woken) => -1;
    }

    private sealed class Worker(Machine machine)
    {
        public Machine Machine { get; } = machine;

        public MachineAction[] Buffer { get; } = new MachineAction[Math.Max(1, machine.MaxActions)];

        /// <summary>A copy of the state being listed, and the state a trial step writes.</summary>
        public byte[] Scratch { get; } = new byte[machine.StateSize];

        public byte[] Trial { get; } = new byte[machine.StateSize];
    }
}
