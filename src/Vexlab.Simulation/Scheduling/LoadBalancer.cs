using Vexlab.Model.Guest;
using Vexlab.Model.Machine;

namespace Vexlab.Simulation.Scheduling;

/// <summary>
/// The guest's load balancer in outline (kernel/sched/fair.c), as the timed driver runs it beside
/// the model (<c>guest.sched.balance</c>). It only decides; the driver applies each move as the
/// model's <see cref="ActionKind.Migrate"/> (detach_task / attach_task), which the model allows for
/// a runnable user task not pinned by the scenario. Three places move a task:
/// <list type="bullet">
/// <item>wakeup placement, select_task_rq_fair -> select_idle_sibling, before the task is enqueued
/// (try_to_wake_up calls select_task_rq, then ttwu_queue): the woken task stays on its previous
/// vCPU if that one is idle (available_idle_cpu), else goes to the first idle vCPU after it
/// (select_idle_cpu's for_each_cpu_wrap), else stays; the model then enqueues it and checks
/// wakeup preemption on that vCPU only;</item>
/// <item>new-idle balance, newidle_balance (sched_balance_newidle since 6.10): a vCPU whose
/// runqueue just emptied pulls a queued task from the busiest vCPU;</item>
/// <item>periodic balance, trigger_load_balance -> rebalance_domains -> load_balance
/// (sched_balance_trigger, sched_balance_domains, sched_balance_rq since 6.10): at the tick, once
/// the domain's interval has passed (balance_interval = sd_weight ms, times busy_factor 16 while
/// the vCPU is busy, sd_init in kernel/sched/topology.c), the vCPU pulls one task from the busiest
/// runqueue (find_busiest_queue) as find_busiest_group and calculate_imbalance (6.6) judge them,
/// with every runnable task counted as a busy nice-0 task of load 1024 (no PELT):
/// <list type="bullet">
/// <item>an idle vCPU (group_has_spare) pulls when the busiest runs two or more
/// (migrate_task, half the difference in nr_running);</item>
/// <item>a busy vCPU (group_fully_busy with one task, group_overloaded with more) pulls from a
/// busier one (group_overloaded: decision matrix of 0b0695f2b34a "sched/fair: Rework
/// load_balance()"; between two overloaded groups only when 100 x busiest > imbalance_pct 117 x
/// local) with migrate_load: imbalance = min(busiest - avg, avg - local) in load, none when the
/// local vCPU is at or above the domain's average (91dcf1e8068e "sched/fair: Fix imbalance
/// overflow"). detach_tasks skips a task while shr_bound(load, nr_balance_failed) exceeds it, so
/// an imbalance of one task (half a task's load) moves one only once an attempt has failed:
/// load_balance bumps sd->nr_balance_failed on a periodic attempt that moved nothing (never on a
/// new-idle one, 58b26c4c0257) and clears it when a task moves or the domain is balanced.</item>
/// </list></item>
/// <item>with NO_HZ_IDLE an idle vCPU has no tick: trigger_load_balance's nohz_balancer_kick on a
/// busy vCPU that runs two tasks, once <c>nohz.next_balance</c> has passed, kicks an idle vCPU
/// (find_new_ilb), whose _nohz_idle_balance runs that periodic balance for each idle vCPU whose
/// interval has passed, itself last (<see cref="IdleBalanceDue"/>, <see cref="IdleLoadBalancer"/>).</item>
/// </list>
/// detach_tasks takes from the tail of cfs_tasks (list_last_entry), which account_entity_enqueue
/// (a wakeup, a migration's attach) and pick_next_task_fair fill from the head: the task least
/// recently enqueued or picked goes first; this class keeps that order, and a task the walk passes
/// over goes to the head (detach_tasks' list_move at its next: label). can_migrate_task passes over a
/// task that is cache hot (task_hot: it ran within sysctl_sched_migration_cost of the attempt,
/// <c>guest.sched.migration_cost</c>, 0.5 ms by default) until sd->nr_balance_failed exceeds
/// cache_nice_tries (1, sd_init); a migrated task is cold until it runs again (exec_start = 0 on a
/// migrated enqueue). Not modelled: active balance (need_active_balance, after cache_nice_tries + 2
/// failures), load averages (PELT), a pull of more than one task, the CACHE_HOT_BUDDY test (a buddy
/// of a destination that runs tasks: 6.6's next buddy, which only yield_to sets by default, and 5.7's
/// last buddy too, set by wakeup preemption with 8 or more tasks queued), steal and interrupt time
/// left out of rq_clock_task, newidle_balance's avg_idle skips (5.7: below sysctl_sched_migration_cost;
/// 6.6: below the balance's own cost), and the scheduling-domain hierarchy (one flat domain of all vCPUs).
/// sd->balance_interval backs off as load_balance backs it off (<see cref="BalanceInterval"/>).
/// </summary>
public sealed class LoadBalancer
{
    /// <summary>sd_init: busy_factor, the stretch of the balance interval while the CPU is busy.</summary>
    public const int BusyFactor = 16;

    /// <summary>sd_init: imbalance_pct of an MC domain (SD_SHARE_PKG_RESOURCES), the margin between two overloaded groups.</summary>
    public const int ImbalancePct = 117;

    /// <summary>sd_init: cache_nice_tries of an MC domain (and of a package one): failed periodic attempts before a cache-hot task may move.</summary>
    public const int CacheNiceTries = 1;

    /// <summary>sysctl_sched_migration_cost, 500000 ns: a task that ran within it of a balance is cache hot.</summary>
    public const long DefaultMigrationCostNs = 500_000;

    /// <summary>sysctl_sched_nr_migrate (SCHED_NR_MIGRATE_BREAK in 6.6): detach_tasks walks at most this many entries.</summary>
    public const int NrMigrate = 32;

    /// <summary>NICE_0_LOAD scaled down, and SCHED_CAPACITY_SCALE: a busy nice-0 task's load and a CPU's capacity.</summary>
    private const long TaskLoad = 1024;

    /// <summary>exec_start of a task that never ran or was migrated since (0 in the kernel, whose clock is then far past it).</summary>
    private const long Cold = long.MinValue / 4;

    private readonly Machine _m;
    private readonly int _vcpus;
    private readonly bool[] _pinned;
    private readonly long[] _migrations;
    private readonly long[] _lastRan;
    private readonly long[] _lastBalance;
    private readonly int[] _balanceFailed;
    private readonly long[] _balanceInterval;
    private readonly long[] _execStart;
    private readonly int[] _current;
    private readonly long _migrationCostNs;
    private readonly long[] _hotPassedOver = new long[2];
    private long _listOrder;
    private readonly long _intervalNs;
    private readonly long _pinnedIntervalNs;
    private readonly long _maxIntervalNs;

    /// <param name="machine">The machine the driver runs.</param>
    /// <param name="vcpus">The guest's vCPUs; model tasks below this are their idle tasks.</param>
    /// <param name="pinned">Per workload task: the scenario pinned it to its vCPU (cpus_allowed is one CPU). Kernel threads count as pinned whatever it says.</param>
    /// <param name="intervalNs">The balance interval of an idle vCPU; 0: sd_weight ms, the kernel's.</param>
    /// <param name="migrationCostNs">sysctl_sched_migration_cost: how recently a task ran and still counts as cache hot; 0: never.</param>
    public LoadBalancer(Machine machine, int vcpus, IReadOnlyList<bool> pinned, long intervalNs = 0, long migrationCostNs = DefaultMigrationCostNs)
    {
        ArgumentNullException.ThrowIfNull(machine);
        ArgumentNullException.ThrowIfNull(pinned);
        _m = machine;
        _vcpus = vcpus;
        var tasks = machine.TaskCount;
        _pinned = new bool[tasks];
        // A kernel thread is a per-CPU kworker, bound to its CPU (kthread_bind): can_migrate_task finds dst_cpu outside
        // its cpus_ptr as for a pinned task, and a busiest queue of such tasks only is LBF_ALL_PINNED.
        var specs = machine.Config.Tasks;
        for (var i = 0; vcpus + i < tasks; i++)
        {
            _pinned[vcpus + i] = (i < pinned.Count && pinned[i]) || (i < specs.Count && specs[i].Mode == TaskMode.Kernel);
        }

        _migrations = new long[tasks];
        _lastRan = new long[tasks];
        _execStart = new long[tasks];
        Array.Fill(_execStart, Cold);
        _current = new int[vcpus];
        for (var v = 0; v < vcpus; v++)
        {
            _current[v] = (int)machine.Vcpu(v).CurrentTask;
        }

        _migrationCostNs = migrationCostNs;
        _lastBalance = new long[vcpus];

        // No balance yet: the first tick's is due.
        Array.Fill(_lastBalance, long.MinValue / 2);
        _balanceFailed = new int[vcpus];
        _intervalNs = intervalNs > 0 ? intervalNs : vcpus * 1_000_000L;

        // MAX_PINNED_INTERVAL, 512 ms, and max_load_balance_interval, HZ * num_online_cpus() / 10 jiffies (vCPUs x
        // 100 ms), taken relative to min_interval (vCPUs ms) so that a setup that scales the interval scales them too.
        _pinnedIntervalNs = _intervalNs * 512 / vcpus;
        _maxIntervalNs = _intervalNs * 100;
        _balanceInterval = new long[vcpus];
        Array.Fill(_balanceInterval, _intervalNs);
    }

    /// <summary>Times task <paramref name="t"/> was moved to another vCPU.</summary>
    public long Migrations(int t) => _migrations[t];

    /// <summary>Every move so far.</summary>
    public long TotalMigrations { get; private set; }

    /// <summary>
    /// Task <paramref name="t"/> went to the head of its vCPU's cfs_tasks: switched in
    /// (pick_next_task_fair's list_move) or enqueued by a wakeup (account_entity_enqueue's list_add).
    /// </summary>
    public void Ran(int t) => _lastRan[t] = ++_listOrder;

    /// <summary>
    /// vCPU <paramref name="v"/> switched to task <paramref name="next"/> at <paramref name="now"/>: the task it ran stops
    /// (put_prev_entity's update_curr leaves its exec_start at now), <paramref name="next"/> starts (set_next_entity's
    /// exec_start) and goes to the head of cfs_tasks.
    /// </summary>
    public void Switched(int v, int next, long now)
    {
        _execStart[_current[v]] = now;
        _execStart[next] = now;
        _current[v] = next;
        Ran(next);
    }

    /// <summary>
    /// task_hot at <paramref name="now"/>: task <paramref name="t"/> ran within sysctl_sched_migration_cost
    /// (rq_clock_task - exec_start below it), so moving it would lose its cache.
    /// </summary>
    public bool CacheHot(int t, long now) => _migrationCostNs > 0 && now - _execStart[t] < _migrationCostNs;

    /// <summary>
    /// Tasks can_migrate_task refused as cache hot (schedstat nr_failed_migrations_hot), in new-idle attempts
    /// (<paramref name="newIdle"/>) or periodic ones.
    /// </summary>
    public long HotPassedOver(bool newIdle) => _hotPassedOver[newIdle ? 1 : 0];

    /// <summary>sd->nr_balance_failed of vCPU <paramref name="v"/>'s domain: periodic attempts in a row that found an imbalance and moved nothing.</summary>
    public int BalanceFailed(int v) => _balanceFailed[v];

    /// <summary>The driver applied a move of task <paramref name="t"/>: attach_task enqueued it at the head of the new vCPU's cfs_tasks.</summary>
    public void Moved(int t)
    {
        _migrations[t]++;
        TotalMigrations++;
        Ran(t);

        // migrate_task_rq_fair (5.7) and enqueue_entity's ENQUEUE_MIGRATED (6.6) zero exec_start: no longer hot.
        _execStart[t] = Cold;
    }

    /// <summary>nr_running of vCPU <paramref name="v"/>: its workload tasks that are running or runnable.</summary>
    public int NrRunning(int v) => NrRunning(_m, v);

    /// <summary>available_idle_cpu: vCPU <paramref name="v"/> runs its idle task with nothing queued.</summary>
    public bool IsIdle(int v) => IsIdle(_m, v);

    /// <summary>nr_running of vCPU <paramref name="v"/> of <paramref name="machine"/>: its workload tasks that are running or runnable.</summary>
    public static int NrRunning(Machine machine, int v)
    {
        ArgumentNullException.ThrowIfNull(machine);
        var n = 0;
        for (var t = machine.Config.Vcpus; t < machine.TaskCount; t++)
        {
            ref readonly var task = ref machine.Task(t);
            if (task.Vcpu == v && task.Status is TaskPhase.Runnable or TaskPhase.Running)
            {
                n++;
            }
        }

        return n;
    }

    /// <summary>
    /// Whether vCPU <paramref name="v"/> of <paramref name="machine"/> is idle: its idle task runs and no
    /// workload task is queued on it (available_idle_cpu; nothing for the idle loop's need_resched(), so
    /// NO_HZ_IDLE stops its tick). Whether or not the guest balances, the driver asks it.
    /// </summary>
    public static bool IsIdle(Machine machine, int v)
    {
        ArgumentNullException.ThrowIfNull(machine);
        return machine.Vcpu(v).CurrentTask < machine.Config.Vcpus && NrRunning(machine, v) == 0;
    }

    /// <summary>
    /// select_task_rq_fair for sleeping task <paramref name="t"/> as it wakes (TASK_WAKING, on no
    /// runqueue yet, so not counted in any nr_running): the vCPU it should be enqueued on. The model
    /// decides whether the task may move (<see cref="IModelEventSink.SelectTaskRq"/>).
    /// </summary>
    public int WakeTarget(int t)
    {
        var prev = _m.Task(t).Vcpu;
        if (_pinned[t] || IsIdle(prev))
        {
            return prev;
        }

        for (var k = 1; k < _vcpus; k++)
        {
            var u = (prev + k) % _vcpus;
            if (IsIdle(u))
            {
                return u;
            }
        }

        return prev;
    }

    /// <summary>
    /// The periodic balance of vCPU <paramref name="v"/> at its tick (rebalance_domains): whether sd->last_balance plus
    /// get_sd_balance_interval has passed, the interval taken with the vCPU as it is now: sd->balance_interval, times
    /// busy_factor unless it is idle, at most max_load_balance_interval. A vCPU balanced while busy that went idle is due
    /// after the idle interval from that balance, as newidle_balance brings rq->next_balance in.
    /// </summary>
    public bool TickDue(int v, long now) => now >= _lastBalance[v] + Interval(v);

    /// <summary>rebalance_domains after load_balance ran for vCPU <paramref name="v"/>: sd->last_balance is now.</summary>
    public void Balanced(int v, long now) => _lastBalance[v] = now;

    /// <summary>get_sd_balance_interval for vCPU <paramref name="v"/> as it is now.</summary>
    private long Interval(int v) => Math.Min(IsIdle(v) ? _balanceInterval[v] : _balanceInterval[v] * BusyFactor, _maxIntervalNs);

    /// <summary>sd->balance_interval of vCPU <paramref name="v"/>'s domain, before busy_factor.</summary>
    public long BalanceInterval(int v) => _balanceInterval[v];

    /// <summary>
    /// load_balance's out_balanced and out_all_pinned, which fall into out_one_pinned: sd->nr_balance_failed = 0, and
    /// for a periodic attempt sd->balance_interval doubles, up to max_interval (twice min_interval), or up to
    /// MAX_PINNED_INTERVAL when all were pinned (LBF_ALL_PINNED). A new-idle attempt leaves the interval. Nothing moves: -1.
    /// </summary>
    private int OutBalanced(int v, bool periodic, bool allPinned)
    {
        _balanceFailed[v] = 0;
        if (periodic && ((allPinned && _balanceInterval[v] < _pinnedIntervalNs) || _balanceInterval[v] < 2 * _intervalNs))
        {
            _balanceInterval[v] *= 2;
        }

        return -1;
    }

    /// <summary>sds->nr_busy_cpus of the one LLC: the vCPUs not idle (set_cpu_sd_state_busy; nohz_balance_enter_idle sets them idle).</summary>
    public int BusyVcpus()
    {
        var n = 0;
        for (var u = 0; u < _vcpus; u++)
        {
            if (!IsIdle(u))
            {
                n++;
            }
        }

        return n;
    }

    /// <summary>
    /// nohz_balancer_kick's test of <c>nohz.next_balance</c>, the earliest next balance of the CPUs
    /// in <c>nohz.idle_cpus_mask</c>: some idle vCPU's balance interval has passed.
    /// </summary>
    public bool IdleBalanceDue(long now)
    {
        for (var u = 0; u < _vcpus; u++)
        {
            if (IsIdle(u) && TickDue(u, now))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// find_new_ilb: the first idle vCPU other than the kicking one (<paramref name="kicker"/>), which
    /// runs the idle load balance for every idle vCPU; -1 when there is none.
    /// </summary>
    public int IdleLoadBalancer(int kicker)
    {
        for (var u = 0; u < _vcpus; u++)
        {
            if (u != kicker && IsIdle(u))
            {
                return u;
            }
        }

        return -1;
    }

    /// <summary>
    /// load_balance for vCPU <paramref name="v"/> at <paramref name="now"/>: the task to pull from the busiest vCPU, or -1
    /// (balanced, the imbalance is too small for a task yet, or nothing there may move now).
    /// <paramref name="from"/> is that vCPU. <paramref name="periodic"/>: the tick's balance, whose
    /// failures count in nr_balance_failed (a new-idle one's do not).
    /// </summary>
    public int Pull(int v, bool periodic, long now, out int from)
    {
        // env.cpus: a busiest vCPU whose tasks are all pinned is cleared from it, and the balance is redone over the
        // rest (LBF_ALL_PINNED's redo) while a vCPU other than this one is left.
        var excluded = 0UL;
        while (true)
        {
            from = -1;
            var local = NrRunning(v);
            var most = 0;
            var total = (long)local;
            var cpus = 1;

            // update_sd_lb_stats walks the domain's groups from sd->groups, which build_sched_groups
            // makes the local CPU's (for_each_cpu_wrap(i, span, cpu)), and update_sd_pick_busiest
            // takes a group only when it is busier than the busiest so far: among equally busy vCPUs
            // the first after v, wrapping, is the busiest, not the lowest-numbered for every v.
            for (var k = 1; k < _vcpus; k++)
            {
                var u = (v + k) % _vcpus;
                if ((excluded & (1UL << u)) != 0)
                {
                    continue;
                }

                var n = NrRunning(u);
                total += n;
                cpus++;
                if (n > most)
                {
                    most = n;
                    from = u;
                }
            }

            if (!Imbalanced(local, most, total, cpus, out var imbalance))
            {
                // out_balanced; LBF_ALL_PINNED, set by a pass before the redo, stays.
                return OutBalanced(v, periodic, allPinned: excluded != 0);
            }

            var taken = DetachTasks(v, from, Math.Min(most, NrMigrate), imbalance, now, periodic, out var allPinned);
            if (allPinned)
            {
                excluded |= 1UL << from;
                if (cpus > 2)
                {
                    continue;
                }

                // out_all_pinned: every task there is pinned (LBF_ALL_PINNED) and no other vCPU is left.
                return OutBalanced(v, periodic, allPinned: true);
            }

            return Detached(v, periodic, taken);
        }
    }

    /// <summary>
    /// detach_tasks from vCPU <paramref name="from"/> to vCPU <paramref name="v"/>: walks cfs_tasks from its tail, the
    /// least recently enqueued or run first, for at most <paramref name="loopMax"/> entries (min(sysctl_sched_nr_migrate,
    /// the busiest's nr_running)), and returns the first task can_migrate_task and the imbalance let go, or -1. Each task
    /// passed over goes to the head of the list (list_move at next:). <paramref name="allPinned"/>: LBF_ALL_PINNED, no
    /// task walked may run on <paramref name="v"/>.
    /// </summary>
    private int DetachTasks(int v, int from, int loopMax, long imbalance, long now, bool periodic, out bool allPinned)
    {
        allPinned = true;
        for (var loop = 0; loop < loopMax; loop++)
        {
            // list_last_entry: the walk's next entry is the tail, passed-over tasks having gone to the head.
            var t = -1;
            for (var u = _vcpus; u < _m.TaskCount; u++)
            {
                if (_m.Task(u).Vcpu == from && _m.Task(u).Status is TaskPhase.Runnable or TaskPhase.Running
                    && (t < 0 || _lastRan[u] < _lastRan[t]))
                {
                    t = u;
                }
            }

            if (t < 0)
            {
                break;
            }

            if (CanMigrate(t, v, now, periodic, ref allPinned)

                // migrate_load: a task moves once shr_bound(load, nr_balance_failed) fits the imbalance (migrate_task's
                // imbalance of an idle vCPU counts whole tasks: any task fits).
                && (imbalance == 0 || (TaskLoad >> Math.Min(_balanceFailed[v], 63)) <= imbalance))
            {
                return t;
            }

            Ran(t);
        }

        return -1;
    }

    /// <summary>
    /// can_migrate_task: task <paramref name="t"/> may run on vCPU <paramref name="v"/> (its cpus_ptr; clears
    /// LBF_ALL_PINNED in <paramref name="allPinned"/>), is not running there (task_on_cpu; the model's other refusals
    /// with it), and is cache cold at <paramref name="now"/> or the domain has failed more than cache_nice_tries times.
    /// </summary>
    private bool CanMigrate(int t, int v, long now, bool periodic, ref bool allPinned)
    {
        if (_pinned[t])
        {
            return false;
        }

        allPinned = false;
        if (!_m.IsEnabled(new MachineAction(ActionKind.Migrate, (byte)v, (ushort)t)))
        {
            return false;
        }

        if (CacheHot(t, now) && _balanceFailed[v] <= CacheNiceTries)
        {
            _hotPassedOver[periodic ? 0 : 1]++;
            return false;
        }

        return true;
    }

    /// <summary>load_balance's ends after detach_tasks in a domain found unbalanced, <paramref name="taken"/> the task it detached or -1.</summary>
    private int Detached(int v, bool periodic, int taken)
    {
        // The domain was unbalanced: whether or not a task moves, load_balance resets sd->balance_interval to
        // min_interval (no active balance is modelled), a new-idle attempt's too.
        _balanceInterval[v] = _intervalNs;
        if (taken < 0)
        {
            // load_balance with ld_moved == 0: only a periodic attempt counts the failure.
            if (periodic)
            {
                _balanceFailed[v]++;
            }

            return -1;
        }

        _balanceFailed[v] = 0;
        return taken;
    }

    /// <summary>
    /// find_busiest_group and calculate_imbalance for local vCPU running <paramref name="local"/>
    /// tasks against the busiest running <paramref name="most"/>, <paramref name="total"/> on the
    /// <paramref name="cpus"/> vCPUs of env.cpus: whether to pull, and the migrate_load imbalance in
    /// load (0: migrate_task, any task).
    /// </summary>
    private bool Imbalanced(int local, int most, long total, int cpus, out long imbalance)
    {
        imbalance = 0;
        if (local == 0)
        {
            // group_has_spare: migrate_task, half the difference in nr_running; a lone task stays
            // (busiest->sum_h_nr_running == 1: out_balanced).
            return most >= 2;
        }

        // A busy local vCPU pulls only from an overloaded one (two or more tasks), and between two
        // overloaded ones only past imbalance_pct (find_busiest_group).
        if (most < 2 || most <= local || (local >= 2 && 100L * most <= (long)ImbalancePct * local))
        {
            return false;
        }

        // calculate_imbalance: local->avg_load >= sds->avg_load pulls nothing; else migrate_load,
        // min(busiest - average, average - local) (each group is one CPU of capacity 1024).
        var average = total * TaskLoad / cpus;
        if (local * TaskLoad >= average)
        {
            return false;
        }

        imbalance = Math.Min((most * TaskLoad) - average, average - (local * TaskLoad));
        return imbalance > 0;
    }
}
