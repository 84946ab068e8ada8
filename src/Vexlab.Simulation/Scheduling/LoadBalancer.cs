using Vexlab.Model.Guest;
using Vexlab.Model.Machine;

namespace Vexlab.Simulation.Scheduling;

/// <summary>
/// The guest's load balancer in outline (kernel/sched/fair.c), as the timed driver runs it beside
/// the model (<c>guest.sched.balance</c>). It only decides; the driver applies each move as the
/// model's <see cref="ActionKind.Migrate"/> (detach_task / attach_task), which the model allows for
/// a runnable user task not pinned by the scenario. Three places move a task:
/// <list type="bullet">
/// <item>wakeup placement, select_task_rq_fair -> select_idle_sibling: the woken task stays on its
/// previous vCPU if that one is idle (available_idle_cpu), else goes to the first idle vCPU after
/// it (select_idle_cpu's for_each_cpu_wrap), else stays;</item>
/// <item>new-idle balance, newidle_balance (sched_balance_newidle since 6.10): a vCPU whose
/// runqueue just emptied pulls a queued task from the busiest vCPU;</item>
/// <item>periodic balance, trigger_load_balance -> rebalance_domains -> load_balance
/// (sched_balance_trigger, sched_balance_domains, sched_balance_rq since 6.10): at the tick, once
/// the domain's interval has passed (balance_interval = sd_weight ms, times busy_factor 16 while
/// the vCPU is busy, sd_init in kernel/sched/topology.c), the vCPU pulls one task from the busiest
/// runqueue (find_busiest_queue) when that one runs at least two tasks more than it does
/// (calculate_imbalance's migrate_task case: half the difference in nr_running).</item>
/// <item>with NO_HZ_IDLE an idle vCPU has no tick: trigger_load_balance's nohz_balancer_kick on a
/// busy vCPU that runs two tasks, once <c>nohz.next_balance</c> has passed, kicks an idle vCPU
/// (find_new_ilb), whose _nohz_idle_balance runs that periodic balance for each idle vCPU whose
/// interval has passed, itself last (<see cref="IdleBalanceDue"/>, <see cref="IdleLoadBalancer"/>).</item>
/// </list>
/// detach_tasks takes from the tail of cfs_tasks, the least recently run task first; this class
/// does the same. Not modelled: cache hotness (task_hot, sysctl_sched_migration_cost), load
/// averages (PELT) and the scheduling-domain hierarchy (one flat domain of all vCPUs).
/// </summary>
public sealed class LoadBalancer
{
    /// <summary>sd_init: busy_factor, the stretch of the balance interval while the CPU is busy.</summary>
    public const int BusyFactor = 16;

    private readonly Machine _m;
    private readonly int _vcpus;
    private readonly bool[] _pinned;
    private readonly long[] _migrations;
    private readonly long[] _lastRan;
    private readonly long[] _nextBalance;
    private readonly long _intervalNs;

    /// <param name="machine">The machine the driver runs.</param>
    /// <param name="vcpus">The guest's vCPUs; model tasks below this are their idle tasks.</param>
    /// <param name="pinned">Per workload task: the scenario pinned it to its vCPU (cpus_allowed is one CPU).</param>
    /// <param name="intervalNs">The balance interval of an idle vCPU; 0: sd_weight ms, the kernel's.</param>
    public LoadBalancer(Machine machine, int vcpus, IReadOnlyList<bool> pinned, long intervalNs = 0)
    {
        ArgumentNullException.ThrowIfNull(machine);
        ArgumentNullException.ThrowIfNull(pinned);
        _m = machine;
        _vcpus = vcpus;
        var tasks = machine.TaskCount;
        _pinned = new bool[tasks];
        for (var i = 0; i < pinned.Count && vcpus + i < tasks; i++)
        {
            _pinned[vcpus + i] = pinned[i];
        }

        _migrations = new long[tasks];
        _lastRan = new long[tasks];
        _nextBalance = new long[vcpus];
        _intervalNs = intervalNs > 0 ? intervalNs : vcpus * 1_000_000L;
    }

    /// <summary>Times task <paramref name="t"/> was moved to another vCPU.</summary>
    public long Migrations(int t) => _migrations[t];

    /// <summary>Every move so far.</summary>
    public long TotalMigrations { get; private set; }

    /// <summary>Task <paramref name="t"/> was switched in: it is now the most recently run (cfs_tasks is MRU-ordered).</summary>
    public void Ran(int t, long now) => _lastRan[t] = now;

    /// <summary>The driver applied a move of task <paramref name="t"/>.</summary>
    public void Moved(int t)
    {
        _migrations[t]++;
        TotalMigrations++;
    }

    /// <summary>nr_running of vCPU <paramref name="v"/>: its workload tasks that are running or runnable.</summary>
    public int NrRunning(int v)
    {
        var n = 0;
        for (var t = _vcpus; t < _m.TaskCount; t++)
        {
            ref readonly var task = ref _m.Task(t);
            if (task.Vcpu == v && task.Status is TaskPhase.Runnable or TaskPhase.Running)
            {
                n++;
            }
        }

        return n;
    }

    /// <summary>available_idle_cpu: vCPU <paramref name="v"/> runs its idle task with nothing queued.</summary>
    public bool IsIdle(int v) => _m.Vcpu(v).CurrentTask < _vcpus && NrRunning(v) == 0;

    /// <summary>Whether task <paramref name="t"/> may go to vCPU <paramref name="to"/> now.</summary>
    public bool CanMove(int t, int to) =>
        !_pinned[t] && _m.IsEnabled(new MachineAction(ActionKind.Migrate, (byte)to, (ushort)t));

    /// <summary>select_task_rq_fair for woken task <paramref name="t"/>: the vCPU it should run on.</summary>
    public int WakeTarget(int t)
    {
        var prev = _m.Task(t).Vcpu;
        if (_pinned[t] || (_m.Vcpu(prev).CurrentTask < _vcpus && NrRunning(prev) <= 1))
        {
            return prev;
        }

        for (var k = 1; k < _vcpus; k++)
        {
            var u = (prev + k) % _vcpus;
            if (IsIdle(u) && CanMove(t, u))
            {
                return u;
            }
        }

        return prev;
    }

    /// <summary>
    /// The periodic balance of vCPU <paramref name="v"/> at its tick: whether its interval has
    /// passed (the next one is then set).
    /// </summary>
    public bool TickDue(int v, long now)
    {
        if (now < _nextBalance[v])
        {
            return false;
        }

        var busy = _m.Vcpu(v).CurrentTask >= _vcpus;
        _nextBalance[v] = now + (busy ? _intervalNs * BusyFactor : _intervalNs);
        return true;
    }

    /// <summary>
    /// nohz_balancer_kick's test of <c>nohz.next_balance</c>, the earliest next balance of the CPUs
    /// in <c>nohz.idle_cpus_mask</c>: some idle vCPU's balance interval has passed.
    /// </summary>
    public bool IdleBalanceDue(long now)
    {
        for (var u = 0; u < _vcpus; u++)
        {
            if (now >= _nextBalance[u] && IsIdle(u))
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
    /// load_balance for vCPU <paramref name="v"/>: the task to pull from the busiest vCPU, or -1
    /// (balanced, or nothing there may move). <paramref name="from"/> is that vCPU.
    /// </summary>
    public int Pull(int v, out int from)
    {
        from = -1;
        var local = NrRunning(v);
        var most = 0;
        for (var u = 0; u < _vcpus; u++)
        {
            var n = u == v ? 0 : NrRunning(u);
            if (n > most)
            {
                most = n;
                from = u;
            }
        }

        if (from < 0 || most - local < 2)
        {
            return -1;
        }

        // detach_tasks walks cfs_tasks from its tail: the least recently run queued task first.
        var best = -1;
        for (var t = _vcpus; t < _m.TaskCount; t++)
        {
            if (_m.Task(t).Vcpu == from && CanMove(t, v) && (best < 0 || _lastRan[t] < _lastRan[best]))
            {
                best = t;
            }
        }

        return best;
    }
}
