using Vexlab.Model.Machine;

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
}

/// <summary>
/// Each vCPU's simulated time split by <see cref="VcpuCategory"/>: the category changes only at
/// events, so the split is exact and the categories of a vCPU sum to the simulated time.
/// </summary>
public sealed class VcpuTime
{
    private const int Categories = 5;
    private readonly int _vcpus;
    private readonly VcpuCategory[] _category;
    private readonly long[] _since;
    private readonly long[] _ns;

    public VcpuTime(int vcpus)
    {
        _vcpus = vcpus;
        _category = new VcpuCategory[vcpus];
        _since = new long[vcpus];
        _ns = new long[vcpus * Categories];
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
    /// does a guest HLT unless HLT stays in the guest (host.hlt_in_guest: the pCPU idles in guest mode).
    /// </summary>
    public static bool WantsPcpu(Machine m, int v, bool hltInGuest)
    {
        ArgumentNullException.ThrowIfNull(m);
        return m.Vcpu(v).Run switch
        {
            RunState.HostStalled or RunState.HostHalted => false,
            RunState.GuestHalt => hltInGuest,
            _ => true,
        };
    }

    /// <summary>Sets the category at start, before any time is counted.</summary>
    public void Start(int v, VcpuCategory category) => _category[v] = category;

    /// <summary>Moves vCPU <paramref name="v"/> to <paramref name="category"/> at <paramref name="now"/>; false if it was already there.</summary>
    public bool Move(int v, VcpuCategory category, long now)
    {
        if (category == _category[v])
        {
            return false;
        }

        _ns[(v * Categories) + (int)_category[v]] += now - _since[v];
        _category[v] = category;
        _since[v] = now;
        return true;
    }

    /// <summary>Counts every vCPU's time up to <paramref name="now"/>.</summary>
    public void Close(long now)
    {
        for (var v = 0; v < _vcpus; v++)
        {
            _ns[(v * Categories) + (int)_category[v]] += now - _since[v];
            _since[v] = now;
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
}
