namespace Vexlab.Simulation.Scheduling;

/// <summary>
/// The host's physical CPUs (<c>host.pcpus</c>) shared by the guest's vCPU threads. A vCPU that
/// can run (in guest mode or handling an exit in the host) holds a pCPU or waits for one in FIFO
/// order; a vCPU blocked in the host (a synchronous stall, an artificial halt, a guest HLT that
/// exits) holds none. vCPU threads have equal weight, so the host's fair scheduler runs them
/// round-robin: a waiting vCPU takes the pCPU of one whose slice (<c>host.sched.slice</c>) is used up,
/// which the pCPU's tick finds (<see cref="SliceCheckAt"/>).
/// Time a runnable vCPU spends waiting is its steal time: what the host reports to the guest in
/// the PV steal-time area (MSR_KVM_STEAL_TIME; record_steal_time adds the vCPU thread's
/// sched_info.run_delay, its time on the run queue). The driver counts it as
/// <see cref="Observation.VcpuCategory.Steal"/>.
/// </summary>
/// <remarks>
/// Wakeup preemption (<c>host.sched.wakeup_preemption</c>) follows EEVDF (kernel/sched/fair.c,
/// 6.6+), with one run queue for all the pCPUs and equal weights, so a thread's vruntime is the
/// time it ran. A thread that blocks keeps its lag, avg_vruntime - vruntime, clamped to
/// max(2 slices, a host tick) (update_entity_lag); when it wakes, place_entity puts it that lag
/// (scaled by (n + 1) / n) below the average. If that leaves a running thread ineligible (its
/// vruntime above the new average, entity_eligible) and the woken thread has the earliest
/// deadline of the eligible waiters, pick_eevdf picks it and check_preempt_wakeup_fair preempts:
/// the woken thread takes that pCPU at once and the preempted one queues. An eligible running
/// thread keeps its pCPU to its slice's end (RUN_TO_PARITY, 63304558ba5d). A vCPU thread that
/// blocks often (a stalled or halted vCPU) runs less than its share, wakes with positive lag and
/// gets its pCPU back at once, as the woken thread does under 5.x CFS too, whose sleeper credit
/// (place_entity: half of sched_latency) exceeds wakeup_granularity.
/// <para>
/// Without HRTICK (<c>SCHED_FEAT(HRTICK, false)</c>, kernel/sched/features.h) only the tick looks
/// at a running thread's request: scheduler_tick -> task_tick_fair -> entity_tick -> update_curr
/// -> update_deadline reschedules once the request is served. The tick is the pCPU's, not the
/// thread's: tick_setup_sched_timer (kernel/time/tick-sched.c) starts every CPU's tick_sched timer
/// at the same tick_init_jiffy_update() and, with skew_tick=0 (the default, sched_skew_tick), adds
/// no per-CPU offset, so all pCPUs tick together every TICK_NSEC. A thread that got its pCPU
/// between two ticks is found used up at the first tick at or after its request is served, not
/// whole periods after it got the pCPU.
/// </para>
/// <para>
/// A thread that loses its pCPU before its request is served keeps its vruntime and deadline: it
/// is not dequeued (put_prev_entity puts it back on the tree), set_next_entity only stashes the
/// deadline in vlag when it is picked again, and update_deadline gives a new request only once
/// the vruntime passes the deadline. So it runs the rest of that request, not a new one, and the
/// tick then finds it used up. A request served before the tick came is renewed as the thread
/// stops (put_prev_entity and check_preempt_wakeup_fair call update_curr first).
/// </para>
/// </remarks>
public sealed class HostCpus
{
    private readonly bool[] _running;
    private readonly bool[] _waiting;
    private readonly int[] _queue;
    private readonly long[] _vruntime;
    private readonly long[] _since;
    private readonly long[] _lag;
    private readonly long[] _deadline;
    private readonly long _request;
    private readonly long _lagLimit;
    private readonly long _tick;
    private readonly long _tickPhase;
    private readonly bool _wakeupPreemption;
    private long _baseline;
    private int _head;
    private int _count;
    private int _free;

    /// <param name="pcpus">Physical CPUs.</param>
    /// <param name="vcpus">vCPU threads.</param>
    /// <param name="sliceNs">
    /// A thread's request (se->slice), its deadline's distance from its vruntime: the base slice,
    /// not the whole ticks the driver lets a thread run before the tick finds it used up.
    /// </param>
    /// <param name="wakeupPreemption">A woken thread preempts as EEVDF decides; false: it always queues.</param>
    /// <param name="tickNs">
    /// The host's tick period (1 s / <c>host.hz</c>); 0: no tick, and a slice ends the moment its
    /// request is served (a setup built by hand; scenarios refuse no tick on shared pCPUs).
    /// </param>
    /// <param name="tickPhaseNs">When the pCPUs tick: at this time and every <paramref name="tickNs"/> before and after it.</param>
    public HostCpus(int pcpus, int vcpus, long sliceNs = 1_000_000, bool wakeupPreemption = true, long tickNs = 0, long tickPhaseNs = 0)
    {
        _free = pcpus;
        _running = new bool[vcpus];
        _waiting = new bool[vcpus];
        _queue = new int[vcpus];
        _vruntime = new long[vcpus];
        _since = new long[vcpus];
        _lag = new long[vcpus];
        _deadline = new long[vcpus];
        _request = Math.Max(sliceNs, 1);

        // update_entity_lag: limit = max(2 * se->slice, TICK_NSEC), TICK_NSEC being the host's
        // tick (host.hz): at HZ=250 the 0.75 ms base slice keeps a 4 ms tick of lag, not 1.5 ms.
        _lagLimit = Math.Max(2 * _request, Math.Max(tickNs, 0));
        _wakeupPreemption = wakeupPreemption;
        _tick = Math.Max(tickNs, 0);
        _tickPhase = _tick > 0 ? ((tickPhaseNs % _tick) + _tick) % _tick : 0;
    }

    /// <summary>vCPU <paramref name="v"/> holds a pCPU.</summary>
    public bool IsRunning(int v) => _running[v];

    /// <summary>vCPU <paramref name="v"/> can run and waits for a pCPU.</summary>
    public bool IsWaiting(int v) => _waiting[v];

    /// <summary>vCPUs waiting for a pCPU.</summary>
    public int Waiters => _count;

    /// <summary>vCPU <paramref name="v"/>'s lag, saved when it last blocked (avg_vruntime - vruntime; positive: it is owed time).</summary>
    public long Lag(int v) => _lag[v];

    /// <summary>vCPU <paramref name="v"/> can run: true if it got a pCPU now, false if it queues.</summary>
    public bool Want(int v, long now = 0) => Want(v, now, out _);

    /// <summary>
    /// vCPU <paramref name="v"/> can run at <paramref name="now"/>: true if it got a pCPU, a free one
    /// or, with <paramref name="preempted"/> set, the one of the running thread it preempted (that
    /// thread now waits); false if it queues.
    /// </summary>
    public bool Want(int v, long now, out int preempted)
    {
        preempted = -1;
        if (_running[v] || _waiting[v])
        {
            return _running[v];
        }

        Place(v, now);
        if (_free > 0)
        {
            _free--;
            Run(v, now);
            return true;
        }

        if (_wakeupPreemption)
        {
            var victim = Victim(v, now);
            if (victim >= 0)
            {
                Stop(victim, now);
                Enqueue(victim);
                Run(v, now);
                preempted = victim;
                return true;
            }
        }

        Enqueue(v);
        return false;
    }

    /// <summary>vCPU <paramref name="v"/> blocked: its pCPU (if it held one) goes to the first waiter, returned; -1 if none.</summary>
    public int Block(int v, long now = 0)
    {
        if (!_running[v] && !_waiting[v])
        {
            return -1;
        }

        // update_entity_lag runs at dequeue, with the thread still in the average.
        var avg = Average(now);
        _lag[v] = Math.Clamp(avg - Vruntime(v, now), -_lagLimit, _lagLimit);
        if (_running[v])
        {
            Stop(v, now);
        }

        if (_waiting[v])
        {
            Remove(v);
            SetBaseline(now, avg);
            return -1;
        }

        _free++;
        var next = GrantNext(now);
        SetBaseline(now, avg);
        return next;
    }

    /// <summary>
    /// When the tick of running vCPU <paramref name="v"/>'s pCPU next finds its request used up:
    /// the first tick at or after the rest of its request (deadline - vruntime) is served from
    /// <paramref name="now"/>. A thread preempted mid-request gets only that rest back.
    /// </summary>
    public long SliceCheckAt(int v, long now) => NextTick(now + Math.Max(_deadline[v] - Vruntime(v, now), 1));

    /// <summary>The first tick of the pCPUs at or after <paramref name="t"/>; <paramref name="t"/> itself without a tick.</summary>
    public long NextTick(long t)
    {
        if (_tick == 0)
        {
            return t;
        }

        var k = t <= _tickPhase ? 0 : (t - _tickPhase + _tick - 1) / _tick;
        return _tickPhase + (k * _tick);
    }

    /// <summary>vCPU <paramref name="v"/>'s slice is used up: if another waits, it gets the pCPU (returned) and <paramref name="v"/> queues.</summary>
    public int SliceEnd(int v, long now = 0)
    {
        if (!_running[v])
        {
            return -1;
        }

        // update_deadline: a new request of one slice once the old one is served, and only then
        // a resched (with another thread waiting).
        var vr = Vruntime(v, now);
        if (vr < _deadline[v])
        {
            return -1;
        }

        _deadline[v] = vr + _request;
        if (_count == 0)
        {
            return -1;
        }

        Stop(v, now);
        _free++;
        var next = GrantNext(now);
        Enqueue(v);
        return next;
    }

    /// <summary>place_entity: the thread comes back its lag below the average of the threads on the queue.</summary>
    private void Place(int v, long now)
    {
        var n = Queued(except: v);
        if (n == 0)
        {
            // An empty queue: no lag to keep (PLACE_LAG needs nr_running); start at its clock.
            _vruntime[v] = _baseline;
        }
        else
        {
            // The lag scaled by (W + w) / W with equal weights, so placing it leaves its lag intact.
            _vruntime[v] = Average(now) - (_lag[v] * (n + 1) / n);
        }

        _deadline[v] = _vruntime[v] + _request;
    }

    /// <summary>
    /// The running thread the woken <paramref name="w"/> preempts, or -1: pick_eevdf picks
    /// <paramref name="w"/> (the earliest deadline of the eligible waiters) and a running thread is
    /// no longer eligible, so RUN_TO_PARITY does not keep it (the least eligible goes).
    /// </summary>
    private int Victim(int w, long now)
    {
        // The average with w on the queue: w is counted as if waiting.
        _waiting[w] = true;
        var avg = Average(now);
        _waiting[w] = false;
        if (_vruntime[w] > avg)
        {
            return -1;
        }

        for (var i = 0; i < _count; i++)
        {
            var q = _queue[(_head + i) % _queue.Length];
            if (_vruntime[q] <= avg && _deadline[q] <= _deadline[w])
            {
                return -1;
            }
        }

        var victim = -1;
        var most = avg;
        for (var c = 0; c < _running.Length; c++)
        {
            if (_running[c] && Vruntime(c, now) > most)
            {
                most = Vruntime(c, now);
                victim = c;
            }
        }

        return victim;
    }

    /// <summary>avg_vruntime of the threads on the queue (running and waiting); the baseline when none is.</summary>
    private long Average(long now)
    {
        long sum = 0;
        var n = 0;
        for (var i = 0; i < _running.Length; i++)
        {
            if (_running[i] || _waiting[i])
            {
                sum += Vruntime(i, now);
                n++;
            }
        }

        return n == 0 ? _baseline : FloorDiv(sum, n);
    }

    /// <summary>Keeps the queue's clock for a thread that wakes onto an empty queue.</summary>
    private void SetBaseline(long now, long fallback)
    {
        _baseline = Queued(except: -1) > 0 ? Average(now) : fallback;
    }

    /// <summary>Threads on the queue (running or waiting), <paramref name="except"/> left out.</summary>
    private int Queued(int except)
    {
        var n = 0;
        for (var i = 0; i < _running.Length; i++)
        {
            if (i != except && (_running[i] || _waiting[i]))
            {
                n++;
            }
        }

        return n;
    }

    private long Vruntime(int v, long now) => _running[v] ? _vruntime[v] + (now - _since[v]) : _vruntime[v];

    private void Run(int v, long now)
    {
        _running[v] = true;
        _since[v] = now;
    }

    private void Stop(int v, long now)
    {
        _vruntime[v] += now - _since[v];
        _running[v] = false;

        // put_prev_entity -> update_curr -> update_deadline: a request served since the last tick
        // is renewed here, and one not yet served is kept for the thread's next turn.
        if (_vruntime[v] >= _deadline[v])
        {
            _deadline[v] = _vruntime[v] + _request;
        }
    }

    private int GrantNext(long now)
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
        Run(w, now);
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

    private static long FloorDiv(long a, long b) => a >= 0 ? a / b : -((-a + b - 1) / b);
}
