namespace Vexlab.Simulation.Scheduling;

/// <summary>
/// The host's physical CPUs (<c>host.pcpus</c>) shared by the guest's vCPU threads. A vCPU that
/// can run (in guest mode or handling an exit in the host) holds a pCPU or waits for one; a vCPU
/// blocked in the host (a synchronous stall, an artificial halt, a guest HLT that exits) holds
/// none. A running thread's slice (its request, <c>host.sched.slice</c>) is used up when the
/// pCPU's tick, or a thread woken onto the queue, finds it served (<see cref="SliceCheckAt"/>,
/// <see cref="Want(int, long, out int, out int)"/>); then, and whenever a pCPU comes free,
/// the waiter EEVDF's pick_eevdf picks takes it: the eligible one with the earliest deadline, not
/// the one that queued first (see <see cref="Pick"/>).
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
/// deadline of the eligible waiters, pick_eevdf picks it and check_preempt_wakeup preempts:
/// the woken thread takes that pCPU at once and the preempted one queues. An eligible running
/// thread keeps its pCPU to its slice's end while its deadline is the one it was picked with
/// (RUN_TO_PARITY, 63304558ba5d: set_next_entity stashes it in vlag); one whose request was
/// renewed as it ran on is compared by deadline like any other. A vCPU thread that
/// blocks often (a stalled or halted vCPU) runs less than its share, wakes with positive lag and
/// gets its pCPU back at once, as the woken thread does under 5.x CFS too, whose sleeper credit
/// (place_entity: half of sched_latency) exceeds wakeup_granularity.
/// <para>
/// Without HRTICK (<c>SCHED_FEAT(HRTICK, false)</c>, kernel/sched/features.h) only the tick, a
/// wakeup (enqueue_entity's update_curr, see <see cref="Want(int, long, out int, out int)"/>) and
/// the thread's own stop look at a running thread's request: scheduler_tick -> task_tick_fair -> entity_tick -> update_curr
/// -> update_deadline reschedules once the request is served. The tick is the pCPU's, not the
/// thread's: tick_setup_sched_timer (kernel/time/tick-sched.c) starts every CPU's tick_sched timer
/// at the same tick_init_jiffy_update() and, with skew_tick=0 (the default, sched_skew_tick), adds
/// no per-CPU offset, so all pCPUs tick together every TICK_NSEC. A thread that got its pCPU
/// between two ticks is found used up at the first tick past its request, not whole periods after
/// it got the pCPU (see <see cref="SliceCheckAt"/> for a request that ends on a tick).
/// </para>
/// <para>
/// A thread that loses its pCPU before its request is served keeps its vruntime and deadline: it
/// is not dequeued (put_prev_entity puts it back on the tree), set_next_entity only stashes the
/// deadline in vlag when it is picked again, and update_deadline gives a new request only once
/// the vruntime passes the deadline. So it runs the rest of that request, not a new one, and the
/// tick then finds it used up. A request served before the tick came is renewed as the thread
/// stops (put_prev_entity and check_preempt_wakeup call update_curr first).
/// </para>
/// </remarks>
public sealed class HostCpus
{
    private readonly bool[] _running;
    private readonly bool[] _waiting;
    private readonly long[] _vruntime;
    private readonly long[] _since;
    private readonly long[] _lag;
    private readonly long[] _deadline;
    private readonly bool[] _protected;
    private readonly bool[] _blocking;
    private readonly long _request;
    private readonly long _lagLimit;
    private readonly long _tick;
    private readonly long _tickPhase;
    private readonly bool _wakeupPreemption;
    private readonly int[] _pcpuOf;
    private readonly int[] _lastPcpu;
    private readonly int[] _occupant;
    private readonly List<PcpuSwitch> _switches = [];
    private long _baseline;
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
        _occupant = new int[Math.Max(pcpus, 0)];
        Array.Fill(_occupant, -1);
        _pcpuOf = new int[vcpus];
        Array.Fill(_pcpuOf, -1);
        _lastPcpu = new int[vcpus];
        Array.Fill(_lastPcpu, -1);
        _running = new bool[vcpus];
        _waiting = new bool[vcpus];
        _vruntime = new long[vcpus];
        _since = new long[vcpus];
        _lag = new long[vcpus];
        _deadline = new long[vcpus];
        _protected = new bool[vcpus];
        _blocking = new bool[vcpus];
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

    /// <summary>When vCPU <paramref name="v"/>'s thread last got a pCPU (while <see cref="IsRunning"/>: since when it runs).</summary>
    public long RunningSince(int v) => _since[v];

    /// <summary>vCPU <paramref name="v"/> can run and waits for a pCPU.</summary>
    public bool IsWaiting(int v) => _waiting[v];

    /// <summary>The pCPUs' tick period in ns (1 s / <c>host.hz</c>); 0: no tick.</summary>
    public long TickNs => _tick;

    /// <summary>Where the pCPUs' tick grid falls in [0, <see cref="TickNs"/>): they tick at this time and every <see cref="TickNs"/> after it.</summary>
    public long TickPhaseNs => _tickPhase;

    /// <summary>vCPUs waiting for a pCPU.</summary>
    public int Waiters => _count;

    /// <summary>Physical CPUs.</summary>
    public int Count => _occupant.Length;

    /// <summary>The pCPU vCPU <paramref name="v"/>'s thread holds, or -1 when it holds none.</summary>
    public int PcpuOf(int v) => _pcpuOf[v];

    /// <summary>The pCPU vCPU <paramref name="v"/>'s thread last held (task_cpu after it left), or -1 if it never ran.</summary>
    public int LastPcpuOf(int v) => _lastPcpu[v];

    /// <summary>The vCPU thread pCPU <paramref name="p"/> runs, or -1 when it is idle (its swapper runs).</summary>
    public int Occupant(int p) => _occupant[p];

    /// <summary>
    /// Times a pCPU changed the thread it runs (a vCPU thread, or its idle task when none): each is one
    /// __schedule() that picks another task, one sched_switch on a real host.
    /// </summary>
    public long Handovers { get; private set; }

    /// <summary>
    /// The handovers since the last <see cref="ClearSwitches"/>, in the order they happened: which pCPU,
    /// which thread left (-1: its idle task) and which took it (-1: it went idle).
    /// </summary>
    public IReadOnlyList<PcpuSwitch> Switches => _switches;

    /// <summary>Forgets <see cref="Switches"/> once the driver has traced them.</summary>
    public void ClearSwitches() => _switches.Clear();

    /// <summary>vCPU <paramref name="v"/>'s lag, saved when it last blocked (avg_vruntime - vruntime; positive: it is owed time).</summary>
    public long Lag(int v) => _lag[v];

    /// <summary>
    /// Running vCPU <paramref name="v"/>'s thread is on its way to block (<paramref name="blocking"/>) or no longer
    /// (false: it blocked, or was woken before it did): it handles the exit it blocks in (kvm_mmu_page_fault,
    /// kvm_arch_async_page_not_present, the HLT exit) in its own context and then calls schedule() itself
    /// (kvm_vcpu_block, or the fault path's wait on its page). Until then no wakeup or tick takes its pCPU: they only
    /// set need_resched (resched_curr), and that schedule() is where the pick is made (<see cref="Block"/>). A tick that
    /// finds its request served still renews it (update_deadline).
    /// </summary>
    public void SetBlocking(int v, bool blocking) => _blocking[v] = blocking && _running[v];

    /// <summary>vCPU <paramref name="v"/>'s thread holds its pCPU until it blocks (<see cref="SetBlocking"/>).</summary>
    public bool IsBlocking(int v) => _blocking[v];

    /// <summary>vCPU <paramref name="v"/> can run: true if it got a pCPU now, false if it queues.</summary>
    public bool Want(int v, long now = 0) => Want(v, now, out _, out _);

    /// <summary>
    /// vCPU <paramref name="v"/> can run at <paramref name="now"/>: true if it got a pCPU, a free one
    /// or the one of the running thread it preempted; false if it queues. <paramref name="preempted"/>
    /// is the running thread that lost its pCPU and now waits, and <paramref name="granted"/> the
    /// thread that took it: v, or another waiter when the wakeup rescheduled a thread whose request
    /// was already served; -1 each when nothing moved.
    /// </summary>
    public bool Want(int v, long now, out int preempted, out int granted)
    {
        preempted = -1;
        granted = -1;
        if (_running[v] || _waiting[v])
        {
            return _running[v];
        }

        Place(v, now);
        if (_free > 0)
        {
            // The lowest idle pCPU: which one changes no decision (the run queue is shared), it only names it.
            _free--;
            Run(v, now, Array.IndexOf(_occupant, -1));
            granted = v;
            return true;
        }

        // enqueue_entity calls update_curr on the pCPU v is woken onto before counting v
        // (account_entity_enqueue comes after it): a running request already served, which only
        // the tick would otherwise find, is renewed now (update_deadline), and with another thread
        // already waiting (nr_running > 1 without v) resched_curr reschedules that pCPU at once:
        // pick_eevdf, v on the queue, decides who runs there. With nobody else waiting the renewal
        // only ends the thread's RUN_TO_PARITY protection (vlag no longer equals its deadline), so
        // check_preempt_wakeup compares deadlines below. The model has one queue for all
        // pCPUs: the pCPU taken is that of the thread furthest past its deadline.
        var served = Served(now);
        if (served >= 0)
        {
            var others = _count;
            Renew(served, now);
            if (others > 0)
            {
                Enqueue(v);
                var next = Pick(now, curr: served);
                if (next != served)
                {
                    Switch(served, next, now);
                    preempted = served;
                    granted = next;
                }

                return granted == v;
            }
        }

        if (_wakeupPreemption)
        {
            var victim = Victim(v, now);
            if (victim >= 0)
            {
                var p = _pcpuOf[victim];
                Stop(victim, now);
                Enqueue(victim);
                Run(v, now, p, preempting: true);
                preempted = victim;
                granted = v;
                return true;
            }
        }

        Enqueue(v);
        return false;
    }

    /// <summary>
    /// vCPU <paramref name="v"/> blocked: its pCPU (if it held one) goes to the waiter pick_eevdf
    /// picks once v is off the queue (dequeue_entity, then schedule()), returned; -1 if none.
    /// </summary>
    public int Block(int v, long now = 0)
    {
        if (!_running[v] && !_waiting[v])
        {
            return -1;
        }

        _blocking[v] = false;

        // update_entity_lag runs at dequeue, with the thread still in the average.
        var avg = Average(now);
        _lag[v] = Math.Clamp(avg - Vruntime(v, now), -_lagLimit, _lagLimit);
        var p = _pcpuOf[v];
        if (_running[v])
        {
            Stop(v, now);
        }

        if (_waiting[v])
        {
            Dequeue(v);
            SetBaseline(now, avg);
            return -1;
        }

        _free++;
        var next = GrantNext(now, p);
        if (next < 0)
        {
            // Nothing waits: the pCPU runs its idle task.
            Record(p, -1, preempted: false);
        }

        SetBaseline(now, avg);
        return next;
    }

    /// <summary>
    /// When the tick of running vCPU <paramref name="v"/>'s pCPU next finds its request used up:
    /// the first tick at which the rest of its request (deadline - vruntime) is served from
    /// <paramref name="now"/>. A thread preempted mid-request gets only that rest back.
    /// </summary>
    /// <remarks>
    /// A request counted from the thread's pick is found served only at a tick strictly after that
    /// point: the thread starts its run (set_next_entity -> update_stats_curr_start: exec_start =
    /// rq_clock_task) in the schedule() after the interrupt that handed it the pCPU, a little after
    /// the tick handler read the clock, and a tick whole periods later reads it a little sooner in
    /// its own handler, so update_curr there charges a little less than those periods: an explicit
    /// 2 ms slice at HZ=1000 runs 3 ms from a pick. A request renewed by the tick while the thread
    /// runs on counts from that tick's own reading, and the tick a whole request later finds it served.
    /// </remarks>
    public long SliceCheckAt(int v, long now)
    {
        var rest = Math.Max(_deadline[v] - Vruntime(v, now), 0);
        if (_tick == 0)
        {
            return now + Math.Max(rest, 1);
        }

        return NextTick(now + rest + (_protected[v] ? 1 : 0));
    }

    /// <summary>The first tick of the pCPUs at or after <paramref name="t"/> (with a tick: <see cref="SliceCheckAt"/> handles none).</summary>
    private long NextTick(long t)
    {
        var k = t <= _tickPhase ? 0 : (t - _tickPhase + _tick - 1) / _tick;
        return _tickPhase + (k * _tick);
    }

    /// <summary>
    /// The tick found vCPU <paramref name="v"/>'s request served: if others wait, the one pick_eevdf
    /// picks gets the pCPU (returned) and <paramref name="v"/> queues; -1 if v runs on.
    /// </summary>
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

        Renew(v, now);
        if (_count == 0 || _blocking[v])
        {
            return -1;
        }

        // resched_curr, then schedule() -> pick_next_task_fair -> pick_eevdf with v still on the
        // queue: the waiter pick_eevdf picks takes the pCPU, not the one that queued first. v
        // keeps it if it is still eligible with the earliest deadline (a thread that came back
        // owed more than its request); it then runs unprotected, since with FAIR_GROUP_SCHED
        // pick_next_task_fair does not call set_next_entity for the same task again.
        var next = Pick(now, curr: v);
        if (next == v)
        {
            return -1;
        }

        Switch(v, next, now);
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

    /// <summary>The running thread whose request is served (vruntime at or past its deadline) the longest, or -1; ties: the lowest index.</summary>
    private int Served(long now)
    {
        var served = -1;
        for (var c = 0; c < _running.Length; c++)
        {
            if (_running[c] && !_blocking[c] && Vruntime(c, now) >= _deadline[c]
                && (served < 0 || Vruntime(c, now) - _deadline[c] > Vruntime(served, now) - _deadline[served]))
            {
                served = c;
            }
        }

        return served;
    }

    /// <summary>
    /// The running thread the woken <paramref name="w"/> preempts, or -1: w is eligible and
    /// pick_eevdf, run for that thread's pCPU with w on the queue, picks w
    /// (check_preempt_wakeup: <c>if (pick_eevdf(cfs_rq) == pse) goto preempt;</c>). A running
    /// thread that is eligible and still protected by RUN_TO_PARITY keeps its pCPU, so only one no
    /// longer eligible, or one that runs on after a renewed request with a later deadline than
    /// w's, can go; of those the least eligible (the largest vruntime; then the lowest index).
    /// </summary>
    private int Victim(int w, long now)
    {
        // The average with w on the queue: w is counted as if waiting.
        _waiting[w] = true;
        var victim = -1;
        if (Vruntime(w, now) <= Average(now))
        {
            for (var c = 0; c < _running.Length; c++)
            {
                if (_running[c] && !_blocking[c] && (victim < 0 || Vruntime(c, now) > Vruntime(victim, now)) && Pick(now, curr: c) == w)
                {
                    victim = c;
                }
            }
        }

        _waiting[w] = false;
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

    /// <summary>
    /// <paramref name="v"/> runs on pCPU <paramref name="p"/>, taking it from the thread there (or its idle task);
    /// <paramref name="preempting"/>: that thread was still runnable and queues (prev_state R+ on a real host).
    /// </summary>
    private void Run(int v, long now, int p, bool preempting = false)
    {
        _running[v] = true;
        _since[v] = now;
        _pcpuOf[v] = p;
        _lastPcpu[v] = p;
        Record(p, v, preempting);

        // set_next_entity stashes the deadline in vlag: RUN_TO_PARITY keeps v on its pCPU, while
        // eligible, until that deadline changes.
        _protected[v] = true;
    }

    private void Stop(int v, long now)
    {
        _vruntime[v] += now - _since[v];
        _running[v] = false;
        _pcpuOf[v] = -1;

        // put_prev_entity -> update_curr -> update_deadline: a request served since the last tick
        // is renewed here, and one not yet served is kept for the thread's next turn.
        if (_vruntime[v] >= _deadline[v])
        {
            _deadline[v] = _vruntime[v] + _request;
        }
    }

    /// <summary>
    /// update_deadline while <paramref name="v"/> runs: a new request from its vruntime now, which ends
    /// its RUN_TO_PARITY protection (vlag no longer equals the deadline).
    /// </summary>
    private void Renew(int v, long now)
    {
        _deadline[v] = Vruntime(v, now) + _request;
        _protected[v] = false;
    }

    /// <summary>Running <paramref name="from"/> gives its pCPU to waiting <paramref name="to"/> and queues.</summary>
    private void Switch(int from, int to, long now)
    {
        var p = _pcpuOf[from];
        Stop(from, now);
        Dequeue(to);
        Run(to, now, p, preempting: true);
        Enqueue(from);
    }

    /// <summary>pCPU <paramref name="p"/> now runs <paramref name="next"/> (-1: idle): one handover, traced as a sched_switch.</summary>
    private void Record(int p, int next, bool preempted)
    {
        var prev = _occupant[p];
        _occupant[p] = next;
        Handovers++;
        _switches.Add(new PcpuSwitch(p, prev, next, preempted));
    }

    /// <summary>pCPU <paramref name="p"/> came free: pick_eevdf's pick of the waiters takes it (returned); -1 if none waits.</summary>
    private int GrantNext(long now, int p)
    {
        var w = Pick(now, curr: -1);
        if (w < 0)
        {
            return -1;
        }

        Dequeue(w);
        _free--;
        Run(w, now, p);
        return w;
    }

    /// <summary>
    /// pick_eevdf (kernel/sched/fair.c, v6.6) on the one run queue, with <paramref name="curr"/> the
    /// running thread whose pCPU is being rescheduled (-1: the pCPU is free). Of the waiters and
    /// curr, the eligible ones (vruntime at or below avg_vruntime, entity_eligible) are candidates
    /// and the earliest deadline wins; curr only if strictly earlier (<c>if (!best ||
    /// (curr &amp;&amp; deadline_gt(deadline, best, curr))) best = curr;</c>), and at once while it is eligible
    /// and its RUN_TO_PARITY protection holds (vlag == deadline, 63304558ba5d). With none eligible,
    /// the leftmost waiter (the least vruntime; pick_eevdf's fallback, __pick_first_entity). On one
    /// run queue some entity is always eligible; the model's queue also counts the threads running
    /// on the other pCPUs, so the fallback can be taken there.
    /// </summary>
    /// <remarks>
    /// Exact ties (equal deadlines) go to the lower vruntime, then to the lower vCPU index. The
    /// kernel's heap walk breaks them by the tree's shape, which the model does not have; the index
    /// keeps a run reproducible whatever order the driver handles events of one instant in.
    /// </remarks>
    private int Pick(long now, int curr)
    {
        var avg = Average(now);
        var currEligible = curr >= 0 && Vruntime(curr, now) <= avg;
        if (currEligible && _protected[curr])
        {
            return curr;
        }

        var best = -1;
        for (var q = 0; q < _waiting.Length; q++)
        {
            if (_waiting[q] && Vruntime(q, now) <= avg && (best < 0 || Earlier(q, best, now)))
            {
                best = q;
            }
        }

        if (currEligible && (best < 0 || _deadline[curr] < _deadline[best]))
        {
            return curr;
        }

        if (best >= 0)
        {
            return best;
        }

        for (var q = 0; q < _waiting.Length; q++)
        {
            if (_waiting[q] && (best < 0 || Vruntime(q, now) < Vruntime(best, now)))
            {
                best = q;
            }
        }

        return best >= 0 ? best : curr;
    }

    /// <summary><paramref name="a"/>'s deadline is before <paramref name="b"/>'s; on a tie its vruntime is lower.</summary>
    private bool Earlier(int a, int b, long now) =>
        _deadline[a] < _deadline[b] || (_deadline[a] == _deadline[b] && Vruntime(a, now) < Vruntime(b, now));

    private void Enqueue(int v)
    {
        _waiting[v] = true;
        _count++;
    }

    private void Dequeue(int v)
    {
        _waiting[v] = false;
        _count--;
    }

    private static long FloorDiv(long a, long b) => a >= 0 ? a / b : -((-a + b - 1) / b);
}

/// <summary>
/// One handover of a pCPU: <see cref="Prev"/>'s thread (-1: the idle task) leaves it and <see cref="Next"/>'s
/// (-1: the idle task) runs. <see cref="Preempted"/>: prev was still runnable (a slice's end or a wakeup
/// preemption) and waits on the run queue; otherwise it blocked, or the pCPU was idle.
/// </summary>
public readonly record struct PcpuSwitch(int Pcpu, int Prev, int Next, bool Preempted);
