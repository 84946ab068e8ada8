using System.IO.Hashing;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Vexlab.Model.Guest;
using Vexlab.Model.Host;
using Vexlab.Model.Protocols;

namespace Vexlab.Model.Machine;

public enum GuestOutcome : byte
{
    Running,
    Finished,
    Oops,
    VmError,

    /// <summary>The VMM closed the VM and KVM destroyed it (kvm_destroy_vm).</summary>
    Destroyed,
}

/// <summary>Machine-wide state: the guest's fate and the budgets of external events.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct Globals
{
    public GuestOutcome Outcome;
    public PanicReason Panic;
    public byte NmiBudget;
    public byte TickBudget;
    public byte TruncateBudget;
    public byte ReenableBudget;
    public byte Truncated;

    /// <summary>How many more <see cref="ActionKind.HostExit"/>s the checker may take (255: unbounded, the driver's).</summary>
    public byte HostExitBudget;
    public byte SmiBudget;
    public byte InitBudget;
    public byte TeardownBudget;

    /// <summary>
    /// 1 once the VMM closed the VM while async work still held references to it (before
    /// 3d75b8aa5c29): the vCPUs are gone and the last worker destroys the VM.
    /// </summary>
    public byte TornDown;
    public byte MigrateBudget;

    /// <summary>
    /// Dummies apf_task_wake_one unhashed without freeing them, up to <see cref="Machine.LeakedDummiesCounted"/>. A
    /// leaked dummy is never found again, so it is counted here, not kept in the sleep table: the kernel's leak has
    /// no bound, the table has one.
    /// </summary>
    public byte LeakedDummies;
}

/// <summary>A record in a vCPU's wakeup ring (the #VE design): {token, status}.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct WakeRecord
{
    public uint Token;
    public byte Used;
    public byte Error;
    public ushort Reserved;
}

/// <summary>
/// The whole VM as one deterministic state machine. All state lives in one byte array of
/// fixed-size regions (vCPUs, tasks, frames, pages, host work, sleep table, wakeup rings), so
/// the checker copies and hashes it as a block. <see cref="EnabledActions"/> lists what may
/// happen next; <see cref="Apply{TSink}"/> does it and reports model events. Nothing here reads
/// a clock, a random source or a file.
/// </summary>
public sealed partial class Machine
{
    /// <summary>A wait or completion ended in an error (the page is unrecoverable).</summary>
    public const uint ErrorStatus = 0xEFA;

    /// <summary>KVM's broadcast token (~0): wake every sleeper of this vCPU.</summary>
    public const uint BroadcastToken = 0xFFFFFFFF;

    /// <summary>Guest-virtual address of page 0; page p is at PageBase + p * 4096.</summary>
    public const uint PageBase = 0x7F000000;

    private readonly MachineConfig _config;
    private readonly GuestProgram[] _programs;

    /// <summary>
    /// Per program: it runs kvm_cpu_down_prepare (<see cref="MicroOp.ApfDisable"/>), so a task running it as its own
    /// program is its CPU's hotplug thread (cpuhp/N), whose teardown starts with sched_cpu_deactivate.
    /// </summary>
    private readonly bool[] _takesCpuDown;

    /// <summary>Where the idle loop starts again after schedule_idle(): its <see cref="MicroOp.SetPolling"/>.</summary>
    private readonly byte _idleResumePc;

    /// <summary>Where a CPU's bring-up enters the idle loop: the interrupts kvm_cpu_online left off come on first.</summary>
    private readonly byte _idleOnlinePc;

    /// <summary>
    /// The idle program's places, as its frame holds them, where the loop polls: bit p for pc p. From after its
    /// SetPolling through the need_resched test, and on the way out from that test to its ClearPolling.
    /// </summary>
    private readonly ulong _idlePollingPcs;

    /// <summary>
    /// The #PF handler's halt-wait loop (5.7's kvm_async_pf_task_wait with n.halted), from its WaitCheck of argument 1 to
    /// the jump back to it: [start, end], or (-1, -1) where the handler has none.
    /// </summary>
    private readonly (int Start, int End) _haltLoop;
    private readonly HostPolicy _host;
    private readonly GuestPolicy _guest;
    private readonly int _vcpus;
    private readonly int _tasks;
    private readonly int _maxDepth;
    private readonly int _sleepCapacity;
    private readonly int _ringCapacity;
    private readonly int _workCapacity;
    private readonly int _vcpuOffset;
    private readonly int _taskOffset;
    private readonly int _frameOffset;
    private readonly int _workOffset;
    private readonly int _sleepOffset;
    private readonly int _ringOffset;
    private readonly int _globalsOffset;
    private readonly int _pageOffset;
    private readonly byte[] _own;
    private readonly byte[] _initial;
    private readonly int _size;

    // The buffer the machine works on: its own, or one attached by a driver (state at _base).
    private byte[] _state;
    private int _base;

    public Machine(MachineConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        Validate(config);
        _config = config;
        _host = config.Protocol.Host;
        _guest = config.Protocol.Guest;
        _vcpus = config.Vcpus;
        _tasks = config.Vcpus + config.Tasks.Count;
        _maxDepth = config.MaxDepth;
        var workload = config.Tasks.Count;
        // Regions a protocol never touches take no bytes: the checker copies and hashes every state.
        _sleepCapacity = _host.PvApf ? workload + 4 : 0;
        _ringCapacity = _host.Ready == ReadyDelivery.WakeupRing ? workload + 2 : 0;
        _workCapacity = (_vcpus * (Math.Min(_host.MaxPerVcpu, workload) + 3)) + workload;

        _programs = new GuestProgram[HandlerProgram.Count + workload];
        for (var i = 0; i < HandlerProgram.Count; i++)
        {
            _programs[i] = config.Protocol.Handlers[i];
        }

        for (var i = 0; i < workload; i++)
        {
            _programs[HandlerProgram.Count + i] = config.Tasks[i].Program;
        }

        var idle = _programs[HandlerProgram.Idle].Code;
        _idleResumePc = (byte)Math.Max(0, Array.FindIndex(idle, ins => ins.Op == MicroOp.SetPolling));
        // The bring-up's entry is the IrqEnable that jumps straight on; the way out's is followed by ClearPolling.
        var online = -1;
        for (var pc = 0; pc + 1 < idle.Length && online < 0; pc++)
        {
            online = idle[pc].Op == MicroOp.IrqEnable && idle[pc + 1].Op == MicroOp.Jump ? pc : -1;
        }

        _idleOnlinePc = online < 0 ? _idleResumePc : (byte)online;
        _idlePollingPcs = IdlePollingPcs(idle);
        var pf = _programs[HandlerProgram.PageFault].Code;
        var haltStart = Array.FindIndex(pf, ins => ins.Op == MicroOp.WaitCheck && ins.A == 1);
        var haltEnd = haltStart < 0 ? -1 : Array.FindIndex(pf, haltStart, ins => ins.Op == MicroOp.Jump && ins.B == haltStart);
        _haltLoop = haltEnd < 0 ? (-1, -1) : (haltStart, haltEnd);
        _takesCpuDown = new bool[_programs.Length];
        for (var i = HandlerProgram.Count; i < _programs.Length; i++)
        {
            _takesCpuDown[i] = Array.Exists(_programs[i].Code, ins => ins.Op == MicroOp.ApfDisable);
        }

        var offset = 0;
        _globalsOffset = offset;
        offset += Unsafe.SizeOf<Globals>();
        _vcpuOffset = offset;
        offset += _vcpus * Unsafe.SizeOf<VcpuState>();
        _taskOffset = offset;
        offset += _tasks * Unsafe.SizeOf<TaskState>();
        _frameOffset = offset;
        offset += _tasks * _maxDepth * Unsafe.SizeOf<Frame>();
        _workOffset = offset;
        offset += _workCapacity * Unsafe.SizeOf<WorkItem>();
        _sleepOffset = offset;
        offset += _sleepCapacity * Unsafe.SizeOf<SleepNode>();
        _ringOffset = offset;
        offset += _vcpus * _ringCapacity * Unsafe.SizeOf<WakeRecord>();
        _pageOffset = offset;
        offset += config.Pages * Unsafe.SizeOf<PageState>();
        _size = offset;
        _own = new byte[offset];
        _state = _own;
        WriteInitialState();
        _initial = (byte[])_own.Clone();
    }

    public MachineConfig Config => _config;

    public ProtocolSpec Protocol => _config.Protocol;

    public int StateSize => _size;

    /// <summary>Number of tasks including the per-vCPU idle tasks (0..Vcpus-1).</summary>
    public int TaskCount => _tasks;

    public int WorkCapacity => _workCapacity;

    /// <summary>The whole state, for hashing and copying.</summary>
    public ReadOnlySpan<byte> State => _state.AsSpan(_base, _size);

    public GuestOutcome Outcome => GlobalsRef.Outcome;

    public PanicReason Panic => GlobalsRef.Panic;

    /// <summary>The VMM closed the VM and only workers holding it alive run on (before 3d75b8aa5c29).</summary>
    public bool TornDown => GlobalsRef.TornDown == 1;

    public GuestProgram ProgramOf(int index) => _programs[index];

    /// <summary>The task index of workload task <paramref name="i"/> (after the idle tasks).</summary>
    public int WorkloadTask(int i) => _vcpus + i;

    public string TaskName(int t) => t < _vcpus ? $"swapper/{t}" : _config.Tasks[t - _vcpus].Name;

    public void SaveState(Span<byte> destination) => State.CopyTo(destination);

    /// <summary>Copies <paramref name="source"/> into the machine's own buffer and works on that again.</summary>
    public void LoadState(ReadOnlySpan<byte> source)
    {
        if (source.Length != _size)
        {
            throw new ArgumentException("state size mismatch", nameof(source));
        }

        Detach();
        source.CopyTo(_own);
    }

    /// <summary>
    /// Works on the state at <paramref name="offset"/> in <paramref name="buffer"/> in place, without copying:
    /// reads see it and steps change it. <see cref="LoadState"/>, <see cref="Reset"/> or <see cref="Detach"/>
    /// return to the machine's own buffer.
    /// </summary>
    public void Attach(byte[] buffer, int offset)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        if ((uint)offset > (uint)buffer.Length || buffer.Length - offset < _size)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), "the buffer holds no whole state at this offset");
        }

        _state = buffer;
        _base = offset;
    }

    /// <summary>Returns to the machine's own buffer (its contents are those before <see cref="Attach"/>).</summary>
    public void Detach()
    {
        _state = _own;
        _base = 0;
    }

    public void Reset()
    {
        Detach();
        _initial.CopyTo(_own, 0);
    }

    /// <summary>An order-aware 128-bit fingerprint of the canonical state; stable across processes.</summary>
    public UInt128 Fingerprint() => XxHash128.HashToUInt128(State);

    public ulong Fingerprint64() => XxHash3.HashToUInt64(State);

    public ref readonly VcpuState Vcpu(int v) => ref VcpuRef(v);

    public ref readonly TaskState Task(int t) => ref TaskRef(t);

    public ref readonly PageState Page(int p) => ref PageRef(p);

    public ref readonly WorkItem Work(int i) => ref WorkRef(i);

    public ref readonly Frame TopFrame(int t) => ref FrameRef(t, TaskRef(t).Depth - 1);

    public ref readonly Frame FrameAt(int t, int depth) => ref FrameRef(t, depth);

    public int SleepCapacity => _sleepCapacity;

    public ref readonly SleepNode SleepNodeAt(int i) => ref SleepRef(i);

    /// <summary>
    /// The most leaked dummies the state tells apart: <see cref="LeakedDummies"/> reads this for as many or more. The
    /// leak repeats as long as faults do (every retry of an unrecoverable access under B2's host), and an exact count
    /// would make every such loop a new state.
    /// </summary>
    public const int LeakedDummiesCounted = 3;

    /// <summary>Dummies leaked so far (unhashed, never freed), or <see cref="LeakedDummiesCounted"/> for as many or more.</summary>
    public int LeakedDummies => GlobalsRef.LeakedDummies;

    /// <summary>Hashed nodes in the APF sleep table (waiters and dummies).</summary>
    public int SleepNodeCount()
    {
        var n = 0;
        for (var i = 0; i < _sleepCapacity; i++)
        {
            n += SleepRef(i).Used == SleepNode.Hashed ? 1 : 0;
        }

        return n;
    }

    public static uint AddressOf(int page) => PageBase + ((uint)page << 12);

    public int PageOfAddress(uint address)
    {
        if (address < PageBase || (address & 0xFFF) != 0)
        {
            return -1;
        }

        var page = (int)((address - PageBase) >> 12);
        return page < _config.Pages ? page : -1;
    }

    private ref Globals GlobalsRef => ref Unsafe.As<byte, Globals>(ref _state[_base + _globalsOffset]);

    private ref VcpuState VcpuRef(int v) =>
        ref Unsafe.As<byte, VcpuState>(ref _state[_base + _vcpuOffset + (v * Unsafe.SizeOf<VcpuState>())]);

    private ref TaskState TaskRef(int t) =>
        ref Unsafe.As<byte, TaskState>(ref _state[_base + _taskOffset + (t * Unsafe.SizeOf<TaskState>())]);

    private ref Frame FrameRef(int t, int depth) =>
        ref Unsafe.As<byte, Frame>(ref _state[_base + _frameOffset + (((t * _maxDepth) + depth) * Unsafe.SizeOf<Frame>())]);

    private ref WorkItem WorkRef(int i) =>
        ref Unsafe.As<byte, WorkItem>(ref _state[_base + _workOffset + (i * Unsafe.SizeOf<WorkItem>())]);

    private ref SleepNode SleepRef(int i) =>
        ref Unsafe.As<byte, SleepNode>(ref _state[_base + _sleepOffset + (i * Unsafe.SizeOf<SleepNode>())]);

    private ref WakeRecord RingRef(int v, int i) =>
        ref Unsafe.As<byte, WakeRecord>(ref _state[_base + _ringOffset + (((v * _ringCapacity) + i) * Unsafe.SizeOf<WakeRecord>())]);

    private ref PageState PageRef(int p) =>
        ref Unsafe.As<byte, PageState>(ref _state[_base + _pageOffset + (p * Unsafe.SizeOf<PageState>())]);

    /// <summary>The most tasks a machine runs, one idle task per vCPU included: task ids are a byte of the state, with room for sentinels.</summary>
    public const int MaxTasks = 250;

    /// <summary>
    /// The pcs of the idle program <paramref name="code"/> at which its loop polls (<see cref="_idlePollingPcs"/>): a
    /// pc is taken through its plain jumps, and polls from the loop's start through the need_resched test, and from
    /// the test's exit through ClearPolling. The SetPolling still to run does not poll yet.
    /// </summary>
    private static ulong IdlePollingPcs(Instr[] code)
    {
        // The last test is cpuidle_idle_call's, with interrupts off; do_idle's while test, if the program has it, is before it.
        var test = Array.FindLastIndex(code, ins => ins.Op == MicroOp.JumpIf && ins.A == (byte)Condition.NeedResched);
        var clear = Array.FindIndex(code, ins => ins.Op == MicroOp.ClearPolling);
        if (test < 0 || clear < 0 || code.Length > 64)
        {
            return 0;
        }

        var exit = code[test].B;
        var mask = 0UL;
        for (var pc = 0; pc < code.Length; pc++)
        {
            var at = pc;
            for (var guard = 0; guard < code.Length && code[at].Op == MicroOp.Jump; guard++)
            {
                at = code[at].B;
            }

            if (at <= test || (at >= exit && at <= clear))
            {
                mask |= 1UL << pc;
            }
        }

        return mask;
    }

    private static void Validate(MachineConfig config)
    {
        if (config.Vcpus is < 1 or > 64)
        {
            throw new ArgumentException("vcpus must be 1..64", nameof(config));
        }

        if (config.Tasks.Count + config.Vcpus > MaxTasks)
        {
            throw new ArgumentException($"at most {MaxTasks} tasks including idle tasks", nameof(config));
        }

        if (config.Pages < 1)
        {
            throw new ArgumentException("at least one page", nameof(config));
        }

        foreach (var task in config.Tasks)
        {
            if (task.Vcpu < 0 || task.Vcpu >= config.Vcpus)
            {
                throw new ArgumentException($"task {task.Name} pinned to missing vCPU {task.Vcpu}", nameof(config));
            }
        }

        foreach (var group in config.PageGroups)
        {
            if (group.FirstPage < 0 || group.PageCount < 0 || group.FirstPage + group.PageCount > config.Pages)
            {
                throw new ArgumentException("page group outside guest memory", nameof(config));
            }
        }
    }

    private void WriteInitialState()
    {
        Array.Clear(_own);
        ref var g = ref GlobalsRef;
        g.NmiBudget = (byte)_config.Bounds.Nmis;
        g.TickBudget = (byte)_config.Bounds.Ticks;
        g.TruncateBudget = (byte)_config.Bounds.Truncations;
        g.ReenableBudget = (byte)_config.Bounds.Reenables;
        g.SmiBudget = (byte)_config.Bounds.Smis;
        g.InitBudget = (byte)_config.Bounds.Inits;
        g.TeardownBudget = (byte)_config.Bounds.Teardowns;
        g.MigrateBudget = (byte)_config.Bounds.Migrations;
        g.HostExitBudget = (byte)_config.Bounds.HostExits;

        for (var p = 0; p < _config.Pages; p++)
        {
            PageRef(p) = new PageState { Host = HostPage.Resident, Flags = PageFlags.GuestPresent };
        }

        foreach (var group in _config.PageGroups)
        {
            for (var p = group.FirstPage; p < group.FirstPage + group.PageCount; p++)
            {
                ref var page = ref PageRef(p);
                page.Host = group.Host;
                page.Backing = group.Backing;
                page.Flags = (group.GuestPresent ? PageFlags.GuestPresent : PageFlags.None) | (group.Dax ? PageFlags.Dax : PageFlags.None);
            }
        }

        if (_config.EntryPage >= 0)
        {
            ref var entry = ref PageRef(_config.EntryPage);
            entry.Flags |= PageFlags.EntryText | PageFlags.GuestPresent;
            if (_guest.RegisterNeverConvertible)
            {
                entry.Flags |= PageFlags.NeverConvertible;
            }
        }

        for (var v = 0; v < _vcpus; v++)
        {
            ref var cpu = ref VcpuRef(v);
            cpu.Run = RunState.InGuest;
            cpu.LapicEnabled = _guest.LapicEnabledAtStart ? (byte)1 : (byte)0;
            cpu.ApfEnabled = _host.PvApf ? (byte)1 : (byte)0;
            cpu.StallPage = -1;
            cpu.ApfNextId = 0;
            cpu.CurrentTask = (byte)v;

            // The idle task of each vCPU: kernel mode, its do_idle loop.
            ref var idle = ref TaskRef(v);
            idle.Status = TaskPhase.Runnable;
            idle.Vcpu = (byte)v;
            idle.Depth = 1;
            FrameRef(v, 0) = new Frame { Program = HandlerProgram.Idle, User = 0, Event = FrameEvent.Task };
        }

        for (var i = 0; i < _config.Tasks.Count; i++)
        {
            var spec = _config.Tasks[i];
            var t = _vcpus + i;
            ref var task = ref TaskRef(t);
            task.Status = TaskPhase.Runnable;
            task.Vcpu = (byte)spec.Vcpu;
            task.Depth = 1;
            task.SavedIf = 1;
            FrameRef(t, 0) = new Frame
            {
                Program = (byte)(HandlerProgram.Count + i),
                User = spec.Mode == TaskMode.User ? (byte)1 : (byte)0,
                SavedIf = 1,
                Event = FrameEvent.Task,
            };
        }

        // Each vCPU starts running its first workload task (or idles), with interrupts on.
        for (var v = 0; v < _vcpus; v++)
        {
            ref var cpu = ref VcpuRef(v);
            var first = v;
            for (var t = _vcpus; t < _tasks; t++)
            {
                if (TaskRef(t).Vcpu == v)
                {
                    first = t;
                    break;
                }
            }

            cpu.CurrentTask = (byte)first;
            TaskRef(first).Status = TaskPhase.Running;
            // An idle vCPU is in do_idle's loop, past its __current_set_polling(), at the while test: interrupts on.
            cpu.If = 1;
            if (first != v)
            {
                // The idle loop picked the first task.
                IdleSwitchedOut(v);
            }
        }
    }
}
