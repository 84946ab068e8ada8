using Vexlab.Model.Guest;
using Vexlab.Model.Machine;

namespace Vexlab.Simulation.Scheduling;

/// <summary>
/// The guest's fair scheduler as the timed driver runs it beside the model: per-task runtime and
/// vruntime weighted by nice, EEVDF (lag, eligibility, virtual deadline) or CFS. The model decides
/// when the guest can schedule; this class answers the model's three questions (which task, does
/// the tick preempt, does a wakeup preempt) and keeps each task's <c>cpu_ns</c> and <c>wait_ns</c>.
/// <para>
/// Time is accounted from snapshots: between two model events nothing about a vCPU changes, so
/// <see cref="Advance"/> charges the interval since the last one to what the snapshot says ran (the
/// current task, unless the vCPU was idle) and waited (its runnable tasks), then
/// <see cref="Refresh"/> takes the new snapshot. Time the guest cannot see (a synchronous stall, an
/// artificial halt) is charged to the task that was current, as the guest's clock runs through it
/// and update_curr charges it to the running task.
/// </para>
/// </summary>
public sealed class GuestScheduler
{
    private readonly Machine _m;
    private readonly int _vcpus;
    private readonly SchedPolicy _policy;
    private readonly bool _runToParity;
    private readonly int[][] _rq;
    private readonly int[] _rqCount;
    private readonly long[] _weight;
    private readonly long[] _vruntime;
    private readonly long[] _deadline;
    private readonly long[] _vlag;
    private readonly long[] _lagForfeited;
    private readonly long[] _pickedDeadline;
    private readonly long[] _sumExec;
    private readonly long[] _prevSumExec;
    private readonly long[] _waitNs;
    private readonly bool[] _onRq;
    private readonly bool[] _waiting;
    private readonly long[] _last;
    private readonly int[] _curr;
    private readonly bool[] _charge;
    private readonly bool[] _reschedPending;
    private readonly int[] _skip;
    private readonly long[] _minVruntime;
    private readonly long _slice;
    private readonly long _latency;
    private readonly long _minGranularity;
    private readonly long _wakeupGranularity;
    private readonly long _tickNs;

    /// <param name="machine">The machine the driver runs.</param>
    /// <param name="vcpus">The guest's vCPUs; model tasks below this are their idle tasks.</param>
    /// <param name="policy">EEVDF or CFS.</param>
    /// <param name="nice">Nice level of each model task (idle tasks included; they are never queued).</param>
    /// <param name="tickNs">The guest's tick period, TICK_NSEC in the lag limit.</param>
    /// <param name="runToParity">EEVDF's RUN_TO_PARITY (on by default in 6.6): a wakeup does not preempt an eligible current task within the request it was picked with.</param>
    /// <param name="baseSliceNs">EEVDF's request (sysctl_sched_base_slice); 0: the kernel's 0.75 ms scaled by the vCPUs (update_sysctl).</param>
    public GuestScheduler(Machine machine, int vcpus, SchedPolicy policy, IReadOnlyList<int> nice, long tickNs, bool runToParity = true, long baseSliceNs = 0)
    {
        ArgumentNullException.ThrowIfNull(machine);
        ArgumentNullException.ThrowIfNull(nice);
        _m = machine;
        _policy = policy;
        _runToParity = runToParity;
        _vcpus = vcpus;
        var tasks = machine.TaskCount;
        _weight = new long[tasks];
        _vruntime = new long[tasks];
        _deadline = new long[tasks];
        _vlag = new long[tasks];
        _lagForfeited = new long[tasks];
        _pickedDeadline = new long[tasks];
        Array.Fill(_pickedDeadline, NotPicked);
        _sumExec = new long[tasks];
        _prevSumExec = new long[tasks];
        _waitNs = new long[tasks];
        _onRq = new bool[tasks];
        _waiting = new bool[tasks];
        _last = new long[_vcpus];
        _curr = new int[_vcpus];
        _charge = new bool[_vcpus];
        _reschedPending = new bool[_vcpus];
        _skip = new int[_vcpus];
        Array.Fill(_skip, -1);
        _minVruntime = new long[_vcpus];
        var factor = SchedConstants.TunableFactor(_vcpus);
        _slice = baseSliceNs > 0 ? baseSliceNs : SchedConstants.BaseSliceNs * factor;
        _latency = SchedConstants.CfsLatencyNs * factor;
        _minGranularity = SchedConstants.CfsMinGranularityNs * factor;
        _wakeupGranularity = SchedConstants.CfsWakeupGranularityNs * factor;
        _tickNs = tickNs > 0 ? tickNs : 4_000_000;
        _rq = new int[_vcpus][];
        _rqCount = new int[_vcpus];
        for (var v = 0; v < _vcpus; v++)
        {
            _rq[v] = new int[Math.Max(tasks - _vcpus, 1)];
        }

        for (var t = _vcpus; t < tasks; t++)
        {
            _weight[t] = SchedConstants.WeightOf(t < nice.Count ? nice[t] : 0);
            var v = _m.Task(t).Vcpu;
            _rq[v][_rqCount[v]++] = t;
        }

        for (var t = _vcpus; t < tasks; t++)
        {
            if (_m.Task(t).Status is TaskPhase.Running or TaskPhase.Runnable)
            {
                // Every task starts as a fresh fork: ENQUEUE_INITIAL places it with half a slice.
                Place(t, initial: true);
            }
        }

        for (var v = 0; v < _vcpus; v++)
        {
            // Each vCPU's first task was picked to run (set_next_entity) before the run starts.
            var c = (int)_m.Vcpu(v).CurrentTask;
            if (c >= _vcpus && _onRq[c])
            {
                _pickedDeadline[c] = _deadline[c];
            }

            Refresh(v);
        }
    }

    public SchedPolicy Policy => _policy;

    /// <summary>Time task <paramref name="t"/> was charged: it was current on a vCPU that was not idle.</summary>
    public long CpuNs(int t) => _sumExec[t];

    /// <summary>Time task <paramref name="t"/> was runnable but not running.</summary>
    public long WaitNs(int t) => _waitNs[t];

    /// <summary>
    /// EEVDF lag that update_entity_lag's clamp took from task <paramref name="t"/>, in ns of CPU time: positive
    /// for service it was owed and lost (it waited past the limit), negative for service it was forgiven.
    /// </summary>
    public long LagForfeitedNs(int t) => _lagForfeited[t];

    /// <summary>The task's virtual runtime (ns of a nice-0 task).</summary>
    public long Vruntime(int t) => _vruntime[t];

    /// <summary>The task's virtual deadline (EEVDF's se->deadline; CFS keeps none).</summary>
    public long Deadline(int t) => _deadline[t];

    /// <summary>Whether the task is on its vCPU's run queue (se->on_rq): running, or runnable and waiting.</summary>
    public bool Queued(int t) => _onRq[t];

    /// <summary>
    /// Charges vCPU <paramref name="v"/>'s time since its last snapshot. <paramref name="update"/>: this is one of the
    /// kernel's update_curr points (a tick, an enqueue or dequeue, a context switch, a pick), where update_deadline
    /// renews a used-up request and asks for a reschedule; false for the driver's own bookkeeping (the end of a step,
    /// the end of the run), where the kernel looks at nothing and the request is renewed at the next real update.
    /// </summary>
    public void Advance(int v, long now, bool update = true)
    {
        var delta = now - _last[v];
        if (delta <= 0)
        {
            return;
        }

        _last[v] = now;
        var c = _curr[v];
        if (c >= _vcpus && _charge[v])
        {
            // update_curr: sum_exec_runtime += delta; vruntime += calc_delta_fair(delta, se).
            _sumExec[c] += delta;
            _vruntime[c] += delta * SchedConstants.Nice0Weight / _weight[c];
            // A request counted from the pick (its deadline still the one set_next_entity stashed) is
            // served only past it: the task's run starts in the schedule() after the interrupt that
            // picked it, a little after that tick read the clock, so a tick whole periods later
            // charges it a little less than those periods, and a request of k ticks ends at tick k + 1.
            // One renewed as the task runs on counts from that update's own reading.
            var served = _vruntime[c] > _deadline[c] || (_vruntime[c] == _deadline[c] && _pickedDeadline[c] != _deadline[c]);
            if (_policy == SchedPolicy.Eevdf && update && served)
            {
                // 6.6's update_deadline, from every update_curr (the tick, enqueue_entity of a woken
                // task, check_preempt_wakeup, dequeue_entity, yield_task_fair, the pick): a
                // used-up request gets a new deadline, and resched_curr when cfs_rq->nr_running > 1.
                // nr_running counts the current task and, at a wakeup, not yet the woken one:
                // enqueue_entity calls update_curr before account_entity_enqueue. The reschedule is
                // pending until the model's next preemption point, which a tick or a wakeup on
                // this vCPU raises (TickPreempts, WakeupPreempts), or a schedule() clears (Pick).
                _deadline[c] = _vruntime[c] + VirtualSlice(c);
                if (NrRunning(v) > 1)
                {
                    _reschedPending[v] = true;
                }
            }
        }

        foreach (var t in Queue(v))
        {
            if (_waiting[t])
            {
                _waitNs[t] += delta;
            }
        }

        if (_policy == SchedPolicy.Cfs)
        {
            UpdateMinVruntime(v);
        }
    }

    /// <summary>Takes vCPU <paramref name="v"/>'s snapshot from the machine; <paramref name="charging"/>: the vCPU is not idle.</summary>
    public void Refresh(int v, bool charging = true)
    {
        ref readonly var cpu = ref _m.Vcpu(v);
        var c = (int)cpu.CurrentTask;
        _curr[v] = c;
        _charge[v] = charging && c >= _vcpus;
        foreach (var t in Queue(v))
        {
            var status = _m.Task(t).Status;
            _waiting[t] = t != c && status == TaskPhase.Runnable;
            if (status is TaskPhase.Exited or TaskPhase.Killed)
            {
                _onRq[t] = false;
            }
        }
    }

    /// <summary>The model switched to <paramref name="next"/>: its slice starts (set_next_entity).</summary>
    public void Switched(int next)
    {
        _prevSumExec[next] = _sumExec[next];

        // 5.14+ set_next_entity starts with clear_buddies (the skip buddy goes once it is picked;
        // message id 20210422123308.437092775@infradead.org moved it there from pick_next_entity).
        ClearSkip(next);

        // set_next_entity's HACK (63304558ba5d): stash the deadline at the point of pick, so
        // pick_eevdf can tell the request it was picked with from one update_deadline gave it since.
        // A re-pick of the task already running switches nothing and, as pick_next_task_fair's
        // prev == p path under CONFIG_FAIR_GROUP_SCHED, stashes nothing.
        _pickedDeadline[next] = _deadline[next];
    }

    /// <summary>
    /// 6.6 update_entity_lag: the lag task <paramref name="t"/> leaves vCPU <paramref name="v"/>'s queue with,
    /// clamped to max(2 slices, TICK_NSEC) of the task's own virtual time. What the clamp cuts off is
    /// forgotten: a task that waited long enough to be owed more comes back owed only the limit.
    /// </summary>
    private void UpdateEntityLag(int t, int v)
    {
        var lag = AverageVruntime(v) - _vruntime[t];
        var limit = Math.Max(2 * _slice, _tickNs) * SchedConstants.Nice0Weight / _weight[t];
        _vlag[t] = Math.Clamp(lag, -limit, limit);
        _lagForfeited[t] += (lag - _vlag[t]) * _weight[t] / SchedConstants.Nice0Weight;
    }

    /// <summary>Task <paramref name="t"/> left the run queue (slept or exited): remember its lag (update_entity_lag).</summary>
    public void Dequeue(int t)
    {
        if (!_onRq[t])
        {
            return;
        }

        if (_policy == SchedPolicy.Eevdf)
        {
            UpdateEntityLag(t, _m.Task(t).Vcpu);
        }

        // update_entity_lag overwrites the vlag that held the stash: the request is over.
        _pickedDeadline[t] = NotPicked;
        _onRq[t] = false;

        // 5.x dequeue_entity: clear_buddies.
        ClearSkip(t);
    }

    /// <summary>Task <paramref name="t"/> woke: place it in its vCPU's queue (place_entity).</summary>
    public void Enqueue(int t)
    {
        if (!_onRq[t])
        {
            Place(t, initial: false);
        }
    }

    /// <summary>
    /// schedule()'s pick_next_entity among the runnable tasks of <paramref name="v"/>, whose current
    /// task is <paramref name="current"/> (still queued unless it slept or exited); <paramref name="fallback"/> when none.
    /// </summary>
    public int Pick(int v, int current, int fallback)
    {
        // __schedule clears TIF_NEED_RESCHED: a reschedule update_deadline asked for is served.
        _reschedPending[v] = false;
        var best = -1;
        if (_policy == SchedPolicy.Eevdf)
        {
            var avg = Average(v);

            // 6.6's pick_next_task_fair under CONFIG_FAIR_GROUP_SCHED (the distributions' kernels)
            // picks before put_prev_entity: cfs_rq->curr is still the task that calls schedule(),
            // and pick_eevdf keeps it under RUN_TO_PARITY (63304558ba5d) while it is queued,
            // eligible and within the request it was picked with (curr->vlag == curr->deadline).
            // That holds here when it was woken before its schedule() (ttwu set it back to
            // TASK_RUNNING, so __schedule did not dequeue it), or when the wakeup that asked for
            // the reschedule has since stopped being a reason; a tick, a yield and a used-up
            // request all give it a new deadline first, and then it competes as any other task.
            if (_runToParity && current >= _vcpus && _onRq[current] && _m.Task(current).Status is TaskPhase.Runnable or TaskPhase.Running
                && avg.Eligible(_vruntime[current])
                && _pickedDeadline[current] == _deadline[current])
            {
                return current;
            }

            // pick_eevdf: the eligible entity (lag >= 0) with the earliest virtual deadline.
            foreach (var t in Queue(v))
            {
                if (Runnable(t) && avg.Eligible(_vruntime[t]) && (best < 0 || _deadline[t] < _deadline[best]))
                {
                    best = t;
                }
            }
        }

        if (best < 0)
        {
            // CFS: the leftmost entity, the smallest vruntime (and EEVDF's "picking leftmost").
            best = Leftmost(v, -1);
            if (_policy == SchedPolicy.Cfs && best >= 0 && best == _skip[v])
            {
                // 5.x/6.1 pick_next_entity: avoid the skip buddy sched_yield set, if the next one
                // in vruntime order is not more than wakeup_gran(left) behind it
                // (wakeup_preempt_entity(second, left) < 1).
                var second = Leftmost(v, best);
                if (second >= 0 && _vruntime[second] - _vruntime[best] <= WakeupGranularity(best))
                {
                    best = second;
                }
            }
        }

        return best < 0 ? fallback : best;
    }

    /// <summary>
    /// The tick's check on vCPU <paramref name="v"/> whose current task is <paramref name="current"/>,
    /// asked at every tick: entity_tick's update_curr runs whatever is queued, so a lone task's
    /// request is renewed at the tick (6.6's update_deadline) and a task woken beside it weighs its
    /// own deadline against that one, not one left from the task's last pick. The preemption tests
    /// need another runnable task (entity_tick: cfs_rq->nr_running > 1).
    /// </summary>
    public bool TickPreempts(int v, int current, long now)
    {
        Advance(v, now);
        if (current < _vcpus)
        {
            return true;
        }

        if (Leftmost(v, current) < 0)
        {
            return false;
        }

        if (_policy == SchedPolicy.Eevdf)
        {
            // 6.6's entity_tick -> update_curr -> update_deadline: reschedule once the request is
            // used up (now, or at an update since that asked for a reschedule no one served yet).
            var used = _reschedPending[v];
            _reschedPending[v] = false;
            return used;
        }

        // check_preempt_tick (5.x).
        var ideal = CfsSlice(v, current);
        var deltaExec = _sumExec[current] - _prevSumExec[current];
        if (deltaExec > ideal)
        {
            // check_preempt_tick: resched_curr, then clear_buddies(cfs_rq, curr).
            ClearSkip(current);
            return true;
        }

        if (deltaExec < _minGranularity)
        {
            return false;
        }

        var first = -1;
        foreach (var t in Queue(v))
        {
            if (t != current && _onRq[t] && _m.Task(t).Status == TaskPhase.Runnable && (first < 0 || _vruntime[t] < _vruntime[first]))
            {
                first = t;
            }
        }

        return first >= 0 && _vruntime[current] - _vruntime[first] > ideal;
    }

    /// <summary>
    /// sched_yield from task <paramref name="t"/>, current on vCPU <paramref name="v"/>, before its
    /// schedule(). yield_task_fair does nothing with one task on the queue. Otherwise 6.6's
    /// (147f3efaa241) updates the current task and pushes its deadline one request later, so that
    /// pick_eevdf prefers any other eligible task (79104becf42b, 6.17, forfeits the remaining
    /// vruntime instead); 5.x/6.1's marks it the skip buddy (set_skip_buddy), which
    /// pick_next_entity then passes over for a task not more than wakeup_gran behind it.
    /// </summary>
    public void Yield(int v, int t, long now)
    {
        Advance(v, now);
        if (t < _vcpus || _curr[v] != t)
        {
            return;
        }

        foreach (var q in Queue(v))
        {
            if (q != t && Runnable(q))
            {
                if (_policy == SchedPolicy.Eevdf)
                {
                    _deadline[t] += VirtualSlice(t);
                }
                else
                {
                    // clear_buddies(cfs_rq, se), then set_skip_buddy(se).
                    _skip[v] = t;
                }

                return;
            }
        }
    }

    /// <summary>check_preempt_wakeup: does woken task <paramref name="woken"/> preempt what runs on <paramref name="v"/>.</summary>
    public bool WakeupPreempts(int v, int woken, long now)
    {
        Advance(v, now);
        var curr = (int)_m.Vcpu(v).CurrentTask;
        if (curr < _vcpus)
        {
            return true;
        }

        if (curr == woken)
        {
            return false;
        }

        if (_policy == SchedPolicy.Eevdf)
        {
            if (_reschedPending[v])
            {
                // The wakeup's enqueue_entity -> update_curr found the current task's request used
                // up, with another task queued beside it: update_deadline already called
                // resched_curr, whatever check_preempt_wakeup says of the woken task. The
                // preemption point then picks by pick_eevdf among all of them, the woken one or not.
                _reschedPending[v] = false;
                return true;
            }

            // 6.6: preempt when pick_eevdf would pick the woken task now. pick_eevdf first drops
            // curr if it is off the queue or not eligible; with RUN_TO_PARITY (63304558ba5d, on by
            // default) it then keeps an eligible curr whose deadline is still the one it was picked
            // with (curr->vlag == curr->deadline): update_deadline (from update_curr, which
            // check_preempt_wakeup runs first, here Advance) ends that once the request is used.
            var avg = Average(v);
            if (_runToParity && _onRq[curr] && avg.Eligible(_vruntime[curr]) && _pickedDeadline[curr] == _deadline[curr])
            {
                return false;
            }

            var best = -1;
            foreach (var t in Queue(v))
            {
                var queued = t == curr || _m.Task(t).Status == TaskPhase.Runnable;
                if (queued && _onRq[t] && avg.Eligible(_vruntime[t]) && (best < 0 || _deadline[t] < _deadline[best]))
                {
                    best = t;
                }
            }

            return best == woken;
        }

        // wakeup_preempt_entity(curr, se): vdiff > wakeup_gran(se), in se's virtual time.
        var vdiff = _vruntime[curr] - _vruntime[woken];
        return vdiff > WakeupGranularity(woken);
    }

    /// <summary>
    /// Task <paramref name="t"/> moved from vCPU <paramref name="from"/> (the model already says it is
    /// on <paramref name="to"/>). A runnable one the load balancer moved: detach_task dequeues it,
    /// attach_task enqueues it. A sleeping one select_task_rq placed as it wakes: set_task_cpu, and
    /// <see cref="Enqueue"/> places it on the new queue next. EEVDF keeps its lag across the move
    /// (update_entity_lag, then place_entity on the new queue); CFS keeps its vruntime relative to
    /// each queue's min_vruntime (5.x: dequeue_entity, or for a waking task migrate_task_rq_fair,
    /// subtracts the old one; enqueue_entity adds the new one).
    /// </summary>
    public void Migrate(int t, int from, int to, long now)
    {
        Advance(from, now);
        Advance(to, now);
        var queued = _onRq[t];
        if (queued && _policy == SchedPolicy.Eevdf)
        {
            UpdateEntityLag(t, from);
        }
        else if (_policy == SchedPolicy.Cfs)
        {
            _vruntime[t] = _vruntime[t] - _minVruntime[from] + _minVruntime[to];
        }

        _onRq[t] = false;
        _waiting[t] = false;
        _pickedDeadline[t] = NotPicked;
        if (_skip[from] == t)
        {
            // detach_task -> dequeue_entity -> clear_buddies (the model already moved it: not ClearSkip).
            _skip[from] = -1;
        }

        Remove(from, t);
        Insert(to, t);
        if (queued && _policy == SchedPolicy.Eevdf)
        {
            Place(t, initial: false);
        }

        _onRq[t] = queued;
    }

    private bool Runnable(int t) => _m.Task(t).Status == TaskPhase.Runnable;

    /// <summary>cfs_rq->nr_running: the queued tasks of <paramref name="v"/>, the current one included.</summary>
    private int NrRunning(int v)
    {
        var n = 0;
        foreach (var t in Queue(v))
        {
            if (_onRq[t])
            {
                n++;
            }
        }

        return n;
    }

    /// <summary>The runnable task of <paramref name="v"/> with the smallest vruntime other than <paramref name="except"/>, or -1.</summary>
    private int Leftmost(int v, int except)
    {
        var best = -1;
        foreach (var t in Queue(v))
        {
            if (t != except && Runnable(t) && (best < 0 || _vruntime[t] < _vruntime[best]))
            {
                best = t;
            }
        }

        return best;
    }

    /// <summary>wakeup_gran(se): sysctl_sched_wakeup_granularity in <paramref name="t"/>'s virtual time.</summary>
    private long WakeupGranularity(int t) => _wakeupGranularity * SchedConstants.Nice0Weight / _weight[t];

    /// <summary>clear_buddies(cfs_rq, se) for the skip buddy: <paramref name="t"/> is no longer skipped.</summary>
    private void ClearSkip(int t)
    {
        var v = _m.Task(t).Vcpu;
        if (_skip[v] == t)
        {
            _skip[v] = -1;
        }
    }

    /// <summary>No deadline is stashed: the task has not been picked since it was last queued.</summary>
    private const long NotPicked = long.MinValue;

    /// <summary>The tasks whose home is vCPU <paramref name="v"/>, in task order.</summary>
    private ReadOnlySpan<int> Queue(int v) => _rq[v].AsSpan(0, _rqCount[v]);

    private void Remove(int v, int t)
    {
        var q = _rq[v];
        var n = _rqCount[v];
        var i = Array.IndexOf(q, t, 0, n);
        Array.Copy(q, i + 1, q, i, n - i - 1);
        _rqCount[v] = n - 1;
    }

    /// <summary>Keeps task order, so ties break as they did before any move.</summary>
    private void Insert(int v, int t)
    {
        var q = _rq[v];
        var n = _rqCount[v];
        var i = n;
        while (i > 0 && q[i - 1] > t)
        {
            q[i] = q[i - 1];
            i--;
        }

        q[i] = t;
        _rqCount[v] = n + 1;
    }

    private long VirtualSlice(int t) => _slice * SchedConstants.Nice0Weight / _weight[t];

    /// <summary>place_entity.</summary>
    private void Place(int t, bool initial)
    {
        var v = _m.Task(t).Vcpu;
        if (_policy == SchedPolicy.Eevdf)
        {
            // 6.6: vruntime = avg_vruntime - lag, the lag scaled by (W + w) / W so placing the
            // entity does not move the average; a fresh task's first request is half a slice.
            long load = 0;
            foreach (var q in Queue(v))
            {
                if (_onRq[q])
                {
                    load += _weight[q];
                }
            }

            var lag = 0L;
            if (load > 0)
            {
                // |vlag| <= max(2 slices, a tick) * 1024 / 15 and load <= 250 * 88761: no overflow.
                lag = _vlag[t] * (load + _weight[t]) / load;
            }

            var avg = load > 0 ? AverageVruntime(v) : _vruntime[t];
            _vruntime[t] = avg - lag;
            var vslice = VirtualSlice(t);
            _deadline[t] = _vruntime[t] + (initial ? vslice / 2 : vslice);
        }
        else
        {
            // 5.x: a sleeper comes back at most half a latency behind min_vruntime (GENTLE_FAIR_SLEEPERS).
            var floor = _minVruntime[v] - (initial ? 0 : _latency / 2);
            _vruntime[t] = Math.Max(_vruntime[t], floor);
        }

        _onRq[t] = true;
    }

    /// <summary>
    /// avg_vruntime: the load-weighted mean vruntime of the queued tasks, the current one included,
    /// rounded down as the kernel rounds it ("sign flips effective floor / ceil": a negative sum
    /// is floored, not truncated towards the base).
    /// </summary>
    private long AverageVruntime(int v) => Average(v).Vruntime;

    /// <summary>
    /// The sums avg_vruntime keeps for vCPU <paramref name="v"/>'s queued tasks, the current one
    /// included: the weighted keys (vruntime less a base, min_vruntime in the kernel, so the products
    /// stay small) and the load.
    /// </summary>
    private WeightedVruntime Average(int v)
    {
        long sum = 0, load = 0, origin = 0;
        var first = true;
        foreach (var t in Queue(v))
        {
            if (_onRq[t])
            {
                if (first)
                {
                    origin = _vruntime[t];
                    first = false;
                }

                sum += (_vruntime[t] - origin) * _weight[t];
                load += _weight[t];
            }
        }

        return new WeightedVruntime(origin, sum, load);
    }

    /// <summary>cfs_rq's avg_vruntime and avg_load, with the current task's key added (6.6).</summary>
    private readonly record struct WeightedVruntime(long Origin, long Sum, long Load)
    {
        /// <summary>avg_vruntime(): the mean, floored; 0 with nothing queued.</summary>
        public long Vruntime => Load == 0 ? 0 : Origin + FloorDiv(Sum, Load);

        /// <summary>
        /// entity_eligible (kernel/sched/fair.c, 6.6): lag >= 0, tested as
        /// <c>avg >= entity_key(se) * load</c> on the sums, with no division, so a task a fraction
        /// of a nanosecond above the mean is not eligible. Comparing against the rounded mean
        /// instead took such a task as eligible whenever the rounding went its way.
        /// </summary>
        public bool Eligible(long vruntime) => Load == 0 || Sum >= (vruntime - Origin) * Load;

        private static long FloorDiv(long a, long b) => a >= 0 ? a / b : -((-a + b - 1) / b);
    }

    /// <summary>sched_slice: the task's weighted share of the period (__sched_period).</summary>
    private long CfsSlice(int v, int current)
    {
        long load = 0;
        var nr = 0;
        foreach (var t in Queue(v))
        {
            if (_onRq[t])
            {
                load += _weight[t];
                nr++;
            }
        }

        var period = nr > SchedConstants.CfsNrLatency ? nr * _minGranularity : _latency;
        return load == 0 ? period : period * _weight[current] / load;
    }

    /// <summary>update_min_vruntime: monotonic, the smaller of the current task's and the leftmost queued one's.</summary>
    private void UpdateMinVruntime(int v)
    {
        var min = long.MaxValue;
        foreach (var t in Queue(v))
        {
            if (_onRq[t] && _vruntime[t] < min)
            {
                min = _vruntime[t];
            }
        }

        if (min != long.MaxValue && min > _minVruntime[v])
        {
            _minVruntime[v] = min;
        }
    }
}
