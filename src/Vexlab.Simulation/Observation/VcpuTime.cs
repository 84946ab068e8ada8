using Vexlab.Model.Machine;
using Vexlab.Simulation.Tracing;

namespace Vexlab.Simulation.Observation;

/// <summary>Where a vCPU's time goes, as the host sees it.</summary>
public enum VcpuCategory
{
    /// <summary>Running a workload task in the guest.</summary>
    Guest = 0,

    /// <summary>Stalled in the host on a synchronous fault.</summary>
    Stalled = 1,

    /// <summary>Halted in the host (kvm-halt's artificial halt).</summary>
    Halted = 2,

    /// <summary>The guest's idle task, or a guest HLT.</summary>
    Idle = 3,

    /// <summary>Runnable but waiting for a physical CPU (host.pcpus): steal time.</summary>
    Steal = 4,

    /// <summary>
    /// In the host handling a VM exit between its kvm_exit and kvm_entry: the exit's cost, an async PF's
    /// setup, a hypercall, an MSR write, an injection. Only counted: the vCPU keeps the category of the task it runs
    /// (guest, or idle for the idle task) for the scheduler, so <see cref="VcpuTime.Current"/> never returns it.
    /// </summary>
    HostExit = 5,
}

/// <summary>
/// Each vCPU's simulated time split by <see cref="VcpuCategory"/>: the category changes only at
/// events, so the split is exact and the categories of a vCPU sum to the simulated time.
/// <para>
/// Time between a vCPU's kvm_exit and its next kvm_entry (as <see cref="Tracing.KvmTracepoints"/> stamps them, the
/// span perf kvm stat reports) counts as <see cref="VcpuCategory.HostExit"/> while the vCPU would otherwise count as
/// guest, or as idle with the idle task current but not halted: the host handles the exit then and no guest code
/// runs. Stalled, halted, a guest HLT exit's halt and steal keep their category inside an exit; a vCPU that blocks (a stall, the
/// artificial halt, a HLT exit) counts so only once the exit's handling ends and its thread blocks (the driver's
/// FinishingBlockingExit). The simulator charges an exit's
/// handling inside the step that takes it, so an exit's stamps fall after the step's start, where the category
/// changes: they are queued here and applied in time order.
/// </para>
/// <para>
/// With HLT kept in the guest (host.hlt_in_guest, KVM_X86_DISABLE_EXITS_HLT) a halted vCPU is in guest mode, and an
/// exit it takes there (the host tick's EXTERNAL_INTERRUPT: handle_external_interrupt_irqoff, then vcpu_enter_guest
/// again) is the host's time, host_exit, as it is for a running vCPU: counted idle, perf kvm stat's exit time held
/// 23 us more than host_exit in a 30 ms swap-overcommit run on 4 vCPUs (kvm-pf-int).
/// </para>
/// </summary>
public sealed class VcpuTime
{
    private const int Categories = 6;
    private readonly int _vcpus;
    private readonly bool _hltInGuest;
    private readonly VcpuCategory[] _category;
    private readonly bool[] _halted;
    private readonly bool[] _inExit;
    private readonly VcpuCategory[] _counted;
    private readonly Queue<(long At, bool InExit)>[] _pending;
    private readonly ITraceSink? _sink;
    private readonly long[] _since;
    private readonly long[] _ns;
    private readonly long[] _idleExitNs;

    /// <param name="vcpus">vCPUs.</param>
    /// <param name="sink">Where to write each change of the category a vCPU's time counts in (<see cref="TraceKind.VcpuTime"/>), if anywhere.</param>
    /// <param name="hltInGuest">Whether a guest HLT halts in guest mode (host.hlt_in_guest), so an exit taken halted is host_exit.</param>
    public VcpuTime(int vcpus, ITraceSink? sink = null, bool hltInGuest = false)
    {
        _vcpus = vcpus;
        _hltInGuest = hltInGuest;
        _category = new VcpuCategory[vcpus];
        _halted = new bool[vcpus];
        _inExit = new bool[vcpus];
        _counted = new VcpuCategory[vcpus];
        _pending = new Queue<(long, bool)>[vcpus];
        for (var v = 0; v < vcpus; v++)
        {
            _pending[v] = new Queue<(long, bool)>();
        }

        _sink = sink;
        _since = new long[vcpus];
        _ns = new long[vcpus * Categories];
        _idleExitNs = new long[vcpus];
    }

    public VcpuCategory Current(int v) => _category[v];

    /// <summary>The category the machine's state puts vCPU <paramref name="v"/> in.</summary>
    public static VcpuCategory Of(Machine m, int v, int vcpus)
    {
        ArgumentNullException.ThrowIfNull(m);
        ref readonly var cpu = ref m.Vcpu(v);
        return cpu.Run switch
        {
            RunState.HostStalled => VcpuCategory.Stalled,
            RunState.HostHalted => VcpuCategory.Halted,
            RunState.GuestHalt => VcpuCategory.Idle,
            _ => cpu.CurrentTask < vcpus ? VcpuCategory.Idle : VcpuCategory.Guest,
        };
    }

    /// <summary>
    /// Whether vCPU <paramref name="v"/>'s thread can run on a physical CPU: in guest mode or
    /// handling an exit. A synchronous stall and the artificial halt block it in the host, and so
    /// does a guest HLT unless HLT stays in the guest (host.hlt_in_guest: the pCPU idles in guest mode), until
    /// an interrupt or NMI can wake it: kvm_vcpu_has_events ends kvm_vcpu_block and the thread is runnable from
    /// then, so it waits for a pCPU before it injects the event and enters (kvm_inj_virq, kvm_entry), not after.
    /// </summary>
    public static bool WantsPcpu(Machine m, int v, bool hltInGuest)
    {
        ArgumentNullException.ThrowIfNull(m);
        return m.Vcpu(v).Run switch
        {
            RunState.HostStalled or RunState.HostHalted => false,
            RunState.GuestHalt => hltInGuest
                || m.IsEnabled(new MachineAction(ActionKind.DeliverInterrupt, (byte)v, 0))
                || m.IsEnabled(new MachineAction(ActionKind.DeliverNmi, (byte)v, 0)),
            _ => true,
        };
    }

    /// <summary>Sets the category at start, before any time is counted; <paramref name="halted"/>: in a guest HLT.</summary>
    public void Start(int v, VcpuCategory category, bool halted)
    {
        _category[v] = category;
        _halted[v] = halted;
        _counted[v] = Counted(v);
        _sink?.Write(TraceRecord.At(0, TraceKind.VcpuTime, v) with { Value = (long)_counted[v] });
    }

    /// <summary>vCPU <paramref name="v"/>'s kvm_exit, stamped <paramref name="at"/> (never before the last change counted).</summary>
    public void ExitAt(int v, long at) => _pending[v].Enqueue((at, true));

    /// <summary>vCPU <paramref name="v"/>'s kvm_entry, stamped <paramref name="at"/>.</summary>
    public void EntryAt(int v, long at) => _pending[v].Enqueue((at, false));

    /// <summary>
    /// Moves vCPU <paramref name="v"/> to <paramref name="category"/> at <paramref name="now"/>, in a guest HLT or not
    /// (<paramref name="halted"/>); false if its category stays.
    /// </summary>
    public bool Move(int v, VcpuCategory category, long now, bool halted)
    {
        Drain(v, now, now);
        var moved = category != _category[v];
        if (!moved && halted == _halted[v])
        {
            return false;
        }

        Count(v, now);
        _category[v] = category;
        _halted[v] = halted;
        Recount(v, now);
        return moved;
    }

    /// <summary>Counts every vCPU's time up to <paramref name="now"/>; exits and entries stamped later count from it.</summary>
    public void Close(long now)
    {
        for (var v = 0; v < _vcpus; v++)
        {
            Drain(v, long.MaxValue, now);
            Count(v, now);
        }
    }

    /// <summary>Counted ns of vCPU <paramref name="v"/> in <paramref name="category"/>.</summary>
    public long Ns(int v, VcpuCategory category) => _ns[(v * Categories) + (int)category];

    /// <summary>Counted ns of every vCPU in <paramref name="category"/>.</summary>
    public long Total(VcpuCategory category)
    {
        long sum = 0;
        for (var v = 0; v < _vcpus; v++)
        {
            sum += Ns(v, category);
        }

        return sum;
    }

    /// <summary>
    /// Of every vCPU's <see cref="VcpuCategory.HostExit"/> time, the part with the idle task current (a wakeup from a
    /// HLT exit, a tick's exit): the guest's clock charges it to no task, as it does idle time.
    /// </summary>
    public long IdleTaskExitTotal() => _idleExitNs.Sum();

    /// <summary>Applies vCPU <paramref name="v"/>'s exits and entries stamped up to <paramref name="until"/>, none later than <paramref name="limit"/>.</summary>
    private void Drain(int v, long until, long limit)
    {
        var pending = _pending[v];
        while (pending.TryPeek(out var p) && p.At <= until)
        {
            pending.Dequeue();
            var at = Math.Min(p.At, limit);
            Count(v, at);
            _inExit[v] = p.InExit;
            Recount(v, at);
        }
    }

    private void Count(int v, long at)
    {
        var to = Math.Max(at, _since[v]);
        _ns[(v * Categories) + (int)_counted[v]] += to - _since[v];
        if (_counted[v] == VcpuCategory.HostExit && _category[v] == VcpuCategory.Idle)
        {
            _idleExitNs[v] += to - _since[v];
        }

        _since[v] = to;
    }

    private void Recount(int v, long at)
    {
        var counted = Counted(v);
        if (counted != _counted[v])
        {
            _counted[v] = counted;
            _sink?.Write(TraceRecord.At(Math.Max(at, _since[v]), TraceKind.VcpuTime, v) with { Value = (long)counted });
        }
    }

    private VcpuCategory Counted(int v) => _inExit[v] && (_category[v] == VcpuCategory.Guest || (_category[v] == VcpuCategory.Idle && (!_halted[v] || _hltInGuest)))
        ? VcpuCategory.HostExit
        : _category[v];
}
