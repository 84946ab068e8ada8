namespace Vexlab.Simulation.Scheduling;

/// <summary>
/// The host's physical CPUs (<c>host.pcpus</c>) shared by the guest's vCPU threads. A vCPU that
/// can run (in guest mode or handling an exit in the host) holds a pCPU or waits for one in FIFO
/// order; a vCPU blocked in the host (a synchronous stall, an artificial halt, a guest HLT that
/// exits) holds none. vCPU threads have equal weight, so the host's fair scheduler runs them
/// round-robin: a waiting vCPU takes the pCPU of one whose slice (<c>host.sched.slice</c>) is used up.
/// Time a runnable vCPU spends waiting is its steal time: what the host reports to the guest in
/// the PV steal-time area (MSR_KVM_STEAL_TIME; record_steal_time adds the vCPU thread's
/// sched_info.run_delay, its time on the run queue). The driver counts it as
/// <see cref="Observation.VcpuCategory.Steal"/>.
/// </summary>
public sealed class HostCpus
{
    private readonly bool[] _running;
    private readonly bool[] _waiting;
    private readonly int[] _queue;
    private int _head;
    private int _count;
    private int _free;

    public HostCpus(int pcpus, int vcpus)
    {
        _free = pcpus;
        _running = new bool[vcpus];
        _waiting = new bool[vcpus];
        _queue = new int[vcpus];
    }

    /// <summary>vCPU <paramref name="v"/> holds a pCPU.</summary>
    public bool IsRunning(int v) => _running[v];

    /// <summary>vCPU <paramref name="v"/> can run and waits for a pCPU.</summary>
    public bool IsWaiting(int v) => _waiting[v];

    /// <summary>vCPUs waiting for a pCPU.</summary>
    public int Waiters => _count;

    /// <summary>vCPU <paramref name="v"/> can run: true if it got a pCPU now, false if it queues.</summary>
    public bool Want(int v)
    {
        if (_running[v] || _waiting[v])
        {
            return _running[v];
        }

        if (_free > 0)
        {
            _free--;
            _running[v] = true;
            return true;
        }

        Enqueue(v);
        return false;
    }

    /// <summary>vCPU <paramref name="v"/> blocked: its pCPU (if it held one) goes to the first waiter, returned; -1 if none.</summary>
    public int Block(int v)
    {
        if (_waiting[v])
        {
            Remove(v);
            return -1;
        }

        if (!_running[v])
        {
            return -1;
        }

        _running[v] = false;
        _free++;
        return GrantNext();
    }

    /// <summary>vCPU <paramref name="v"/>'s slice is used up: if another waits, it gets the pCPU (returned) and <paramref name="v"/> queues.</summary>
    public int SliceEnd(int v)
    {
        if (!_running[v] || _count == 0)
        {
            return -1;
        }

        _running[v] = false;
        _free++;
        var next = GrantNext();
        Enqueue(v);
        return next;
    }

    private int GrantNext()
    {
        if (_count == 0)
        {
            return -1;
        }

        var w = _queue[_head];
        _head = (_head + 1) % _queue.Length;
        _count--;
        _waiting[w] = false;
        _free--;
        _running[w] = true;
        return w;
    }

    private void Enqueue(int v)
    {
        _queue[(_head + _count) % _queue.Length] = v;
        _count++;
        _waiting[v] = true;
    }

    private void Remove(int v)
    {
        var n = _queue.Length;
        var kept = 0;
        for (var i = 0; i < _count; i++)
        {
            var q = _queue[(_head + i) % n];
            if (q != v)
            {
                _queue[(_head + kept) % n] = q;
                kept++;
            }
        }

        _count = kept;
        _waiting[v] = false;
    }
}
