using CsCheck;
using Vexlab.Model.Machine;
using Vexlab.Model.Protocols;
using Vexlab.Scenarios.Documents;
using Vexlab.Simulation.Driver;
using Vexlab.Simulation.Scenarios;
using Vexlab.Simulation.Scheduling;
using Vexlab.Simulation.Tracing;

namespace Vexlab.Simulation.Tests.Laws;

/// <summary>
/// The guest load balancer's laws (guest.sched.balance; kernel/sched/fair.c select_task_rq_fair,
/// newidle_balance, load_balance): it spreads runnable tasks over idle vCPUs, it moves nothing when
/// off or when tasks are pinned, time stays conserved across moves, and a moved task that touches
/// a gfn another vCPU has queued starts a second fetch, since KVM's gfn hash is per vCPU.
/// </summary>
public sealed class BalanceLawTests
{
    private static readonly string[] Protocols = [.. ProtocolCatalog.Names];

    /// <summary>Four compute-only tasks on four vCPUs, optionally all started on vCPU 0.</summary>
    private static SimulationResult FourTasksOnVcpu0(bool balance, string policy = "eevdf")
    {
        const string yaml = """
            name: four-on-one
            duration: 200ms
            guest:
              vcpus: 4
            tasks:
              - name: c
                count: 4
                loop: compute 10
            """;
        var entry = Overrides.ParseProtocols("sync")[0];
        var document = ScenarioDocument.Parse(yaml, "law.yaml");
        var run = ScenarioRunner.Prepare(document, "law.yaml", entry,
            Overrides.ParseSets(["guest.sched.balance=" + (balance ? "true" : "false"), "guest.sched.policy=" + policy]), [entry.Protocol]);

        // Forked on vCPU 0 and not pinned: only the balancer can spread them.
        var machine = run.Setup.Machine with { Tasks = [.. run.Setup.Machine.Tasks.Select(t => t with { Vcpu = 0 })] };
        return new Simulator(run.Setup with { Machine = machine }).Run();
    }

    [Theory]
    [InlineData("eevdf")]
    [InlineData("cfs")]
    public void RunnableTasksOnOneVcpu_SpreadSoEveryVcpuIsBusy(string policy)
    {
        var on = FourTasksOnVcpu0(balance: true, policy);
        var task = on.Task("c");

        // Each idle vCPU pulls one task (new-idle or its first periodic balance, within a tick or two).
        Assert.InRange(task.Migrations, 3, 12);
        Assert.True(on.VcpuIdleNs < on.SimulatedNs * 4 / 20, $"idle {on.VcpuIdleNs} of {on.SimulatedNs * 4}");

        // Four tasks, four vCPUs: each task gets about a whole vCPU.
        Assert.InRange(task.Share, 3.6, 4.0);

        var off = FourTasksOnVcpu0(balance: false, policy);
        Assert.Equal(0, off.Task("c").Migrations);
        // The other three run only the idle task: idle, or in the host when a guest tick wakes them from their HLT.
        Assert.Equal(off.SimulatedNs * 3, off.VcpuIdleNs + off.VcpuHostExitIdleTaskNs);
        Assert.InRange(off.Task("c").Share, 0.99, 1.0);
        Assert.True(on.WorkDone > 3 * off.WorkDone, $"{on.WorkDone} vs {off.WorkDone}");
    }

    /// <summary>
    /// N compute-only tasks on M vCPUs: each task gets M / N of a vCPU over 10 s, within 6 % under EEVDF and 10 % under
    /// CFS, whose slices round up to the tick, as the balancer's pulls rotate which tasks share. Each pulling vCPU takes
    /// from the first of the busiest vCPUs after itself (update_sd_lb_stats walks the groups from the local one, as
    /// build_sched_groups linked them with for_each_cpu_wrap, and update_sd_pick_busiest keeps the first of equals).
    /// When every vCPU took the lowest-numbered of the busiest, the pulls hit the same vCPUs' tasks again and again,
    /// and the split drifted far from M / N: 6 on 4 gave two tasks 0.508 of a vCPU and one 0.818 against a fair 0.667.
    /// With every tick on the grid in vCPU order (guest.tick_jitter=0) one task more than vCPUs fell into a cycle
    /// between the same two tasks: 5 on 4 under EEVDF over 10 s gave one task 0.683 and another 0.863 against 0.8,
    /// and 3 on 2 under CFS over 2 s one task 0.500 and another 0.832 against 0.667. The tick's jitter, the race of
    /// which vCPU's tick and balance go first, breaks the cycle as a real kernel's timing does.
    /// </summary>
    [Theory]
    [InlineData("eevdf", 3, 2)]
    [InlineData("eevdf", 5, 4)]
    [InlineData("eevdf", 5, 3)]
    [InlineData("eevdf", 8, 3)]
    [InlineData("eevdf", 6, 4)]
    [InlineData("eevdf", 7, 4)]
    [InlineData("eevdf", 10, 4)]
    [InlineData("eevdf", 8, 6)]
    [InlineData("cfs", 3, 2)]
    [InlineData("cfs", 5, 4)]
    [InlineData("cfs", 6, 4)]
    [InlineData("cfs", 8, 6)]
    public void NComputeTasksOnMVcpus_EachGetMOverNOfAVcpu(string policy, int tasks, int vcpus)
    {
        var names = string.Concat(Enumerable.Range(0, tasks).Select(i => $"\n  - name: t{i}\n    loop: compute 10"));
        var r = ScenarioRuns.Run($"name: n-on-m\nduration: 10s\nguest:\n  vcpus: {vcpus}\ntasks:{names}\n", "sync", "guest.sched.policy=" + policy);
        var fair = (double)vcpus / tasks;
        var within = policy == "eevdf" ? 0.06 : 0.10;
        Assert.All(r.Tasks, t => Assert.InRange(t.Share, fair * (1 - within), fair * (1 + within)));
        Assert.True(r.Tasks.Sum(t => t.Migrations) > 0);
    }

    /// <summary>Three compute-only tasks, not pinned, on two vCPUs: a and c start on vCPU 0, b on vCPU 1.</summary>
    private const string ThreeOnTwo = """
        name: three-on-two
        duration: 1s
        guest:
          vcpus: 2
        tasks:
          - name: a
            loop: compute 10
          - name: b
            loop: compute 10
          - name: c
            loop: compute 10
        """;

    /// <summary>
    /// An imbalance of one task between busy vCPUs: the kernel's find_busiest_group forces the
    /// balance (local group_fully_busy, busiest group_overloaded), calculate_imbalance asks for
    /// half a task's load (migrate_load), and detach_tasks moves a task of load 1024 once
    /// shr_bound(load, nr_balance_failed) fits: on the periodic attempt after a failed one. The
    /// tasks then take turns on the shared vCPU and each gets about 2/3 of a vCPU over a second;
    /// without the failure count the lone task kept a whole vCPU and the other two half of one.
    /// Under EEVDF (6.6) the moved task, with the lag it waited for, preempts at attach
    /// (check_preempt_curr), so the next pull takes the task it displaced and all three rotate.
    /// </summary>
    [Fact]
    public void ImbalanceOfOneTask_MovesAfterAFailedAttempt_SoTasksShareTheVcpus()
    {
        const string policy = "eevdf";
        string[] names = ["a", "b", "c"];
        var on = ScenarioRuns.Run(ThreeOnTwo, "sync", "guest.sched.policy=" + policy);
        foreach (var name in names)
        {
            Assert.InRange(on.Task(name).Share, 0.55, 0.8);
        }

        Assert.True(names.Sum(n => on.Task(n).Migrations) >= 4, string.Join(", ", names.Select(n => $"{n}: {on.Task(n).Migrations}")));
        var busy = on.VcpuGuestNs + on.VcpuHostExitNs - on.VcpuHostExitIdleTaskNs + on.VcpuStalledNs + on.VcpuHaltedNs;
        Assert.Equal(busy, on.Tasks.Sum(t => t.CpuNs));

        var off = ScenarioRuns.Run(ThreeOnTwo, "sync", "guest.sched.policy=" + policy, "guest.sched.balance=false");
        Assert.Equal([0.5, 0.5, 1.0], names.Select(n => Math.Round(off.Task(n).Share, 2)).Order());
        Assert.Equal(0, names.Sum(n => off.Task(n).Migrations));
        Assert.Equal(off.VcpuGuestNs + off.VcpuHostExitNs - off.VcpuHostExitIdleTaskNs + off.VcpuStalledNs + off.VcpuHaltedNs, off.Tasks.Sum(t => t.CpuNs));
    }

    /// <summary>The machine of <see cref="ThreeOnTwo"/> at its start, and a balancer for it with nothing pinned.</summary>
    private static (Machine Machine, LoadBalancer Balancer) ThreeOnTwoAtStart(int tasksOnVcpu0 = 2, bool pinned = false, string yaml = ThreeOnTwo)
    {
        var config = ScenarioRuns.Prepare(yaml, "sync", []).Setup.Machine;
        if (tasksOnVcpu0 == 3)
        {
            config = config with { Tasks = [.. config.Tasks.Select(t => t with { Vcpu = 0 })] };
        }

        var machine = Simulator.DriverMachine(config);
        return (machine, new LoadBalancer(machine, 2, [pinned, pinned, pinned]));
    }

    /// <summary>
    /// sd->balance_interval (load_balance's ends, kernel/sched/fair.c): a periodic attempt that finds the domain balanced
    /// doubles it up to max_interval (2 x min_interval, sd_init), one that finds every task of the busiest pinned
    /// (LBF_ALL_PINNED) up to MAX_PINNED_INTERVAL (512 ms); a new-idle attempt leaves it; an unbalanced domain resets it to
    /// min_interval, sd_weight ms (2 ms here). rebalance_domains takes the next balance from it, times busy_factor while
    /// the vCPU is not idle.
    /// </summary>
    [Fact]
    public void BalanceInterval_DoublesWhileBalancedOrPinned_AndResetsWhenUnbalanced()
    {
        const long Ms = 1_000_000;
        var (m, lb) = ThreeOnTwoAtStart();
        int c = m.WorkloadTask(2);

        // vCPU 0 runs a with c queued: the busiest, balanced for its own balance.
        var intervals = new List<long>();
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(-1, lb.Pull(0, periodic: true, 0, out _));
            intervals.Add(lb.BalanceInterval(0));
        }

        Assert.Equal([4 * Ms, 4 * Ms, 4 * Ms], intervals);
        lb.Balanced(0, 10 * Ms);
        Assert.True(lb.TickDue(0, (10 + (4 * LoadBalancer.BusyFactor)) * Ms));
        Assert.False(lb.TickDue(0, ((10 + (4 * LoadBalancer.BusyFactor)) * Ms) - 1));

        // c moves to vCPU 1: vCPU 0 now runs one task against vCPU 1's two, unbalanced, and its interval is min_interval again.
        var sink = new NullSink();
        m.Apply(new MachineAction(ActionKind.Migrate, 1, (ushort)c), ref sink);
        Assert.Equal(-1, lb.Pull(0, periodic: false, 0, out _));
        Assert.Equal(2 * Ms, lb.BalanceInterval(0));

        // All three pinned, vCPU 1 idle: its attempts double the interval to 512 ms and no further; a new-idle one leaves it.
        var (_, pinned) = ThreeOnTwoAtStart(tasksOnVcpu0: 3, pinned: true);
        intervals.Clear();
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(-1, pinned.Pull(1, periodic: i != 3, 0, out _));
            intervals.Add(pinned.BalanceInterval(1) / Ms);
        }

        Assert.Equal([4L, 8, 16, 16, 32, 64, 128, 256, 512, 512], intervals);

        // An idle vCPU's next balance is the interval itself, capped at max_load_balance_interval (2 CPUs x 100 ms).
        pinned.Balanced(1, 0);
        Assert.True(pinned.TickDue(1, 200 * Ms));
        Assert.False(pinned.TickDue(1, (200 * Ms) - 1));
    }

    /// <summary>
    /// rebalance_domains asks whether sd->last_balance plus get_sd_balance_interval has passed with the interval as the
    /// vCPU is now: vCPU 1, balanced while idle, then given a task, waits busy_factor times as long. The due time used to
    /// be fixed at the balance, from the state then.
    /// </summary>
    [Fact]
    public void TheBalanceDueTime_FollowsTheVcpusStateNow()
    {
        const long Ms = 1_000_000;
        var (m, lb) = ThreeOnTwoAtStart(tasksOnVcpu0: 3);
        Assert.True(lb.IsIdle(1));
        lb.Balanced(1, 0);
        Assert.False(lb.TickDue(1, (2 * Ms) - 1));
        Assert.True(lb.TickDue(1, 2 * Ms));

        var sink = new NullSink();
        m.Apply(new MachineAction(ActionKind.Migrate, 1, (ushort)m.WorkloadTask(2)), ref sink);
        Assert.False(lb.IsIdle(1));
        Assert.False(lb.TickDue(1, 2 * Ms));
        Assert.False(lb.TickDue(1, (2 * LoadBalancer.BusyFactor * Ms) - 1));
        Assert.True(lb.TickDue(1, 2 * LoadBalancer.BusyFactor * Ms));
    }

    /// <summary>
    /// Three compute tasks on two always-busy vCPUs: every move is a vCPU's own periodic pull at its tick, whose
    /// attach_task -> resched_curr runs on the destination itself and sends no IPI. No task sleeps and no vCPU idles, so
    /// nothing else sends one: no reschedule interrupt (0xfd) is injected at all. Each pull used to raise one.
    /// </summary>
    [Theory]
    [InlineData("kvm-pf")]
    [InlineData("kvm-pf-int")]
    public void AVcpusOwnPulls_InjectNoRescheduleInterrupt(string protocol)
    {
        var (r, trace) = ScenarioRuns.RunTraced(ThreeOnTwo, protocol);
        Assert.True(r.Tasks.Sum(t => t.Migrations) > 0, "no task moved");
        Assert.DoesNotContain(trace.Records, x => x.Kind == TraceKind.KvmInjVirq && x.Vector == 0xFD);
    }

    /// <summary>
    /// load_balance's redo: the busiest vCPU's tasks all pinned (LBF_ALL_PINNED), it is cleared from env.cpus and the
    /// balance runs again over the rest while a vCPU other than this one is left. Idle vCPU 2 beside vCPU 0's three pinned
    /// tasks and vCPU 1's two free ones pulls one of vCPU 1's; it gave up at vCPU 0 before.
    /// </summary>
    [Fact]
    public void AnAllPinnedBusiest_IsSkippedForTheNextBusiest()
    {
        const string Yaml = """
            name: pinned-and-free
            duration: 1s
            guest:
              vcpus: 3
            tasks:
              - name: p
                count: 3
                vcpu: 0
                loop: compute 10
              - name: q
                count: 2
                vcpu: 1
                loop: compute 10
            """;
        var machine = Simulator.DriverMachine(ScenarioRuns.Prepare(Yaml, "sync", []).Setup.Machine);

        // q's tasks are pinned by the scenario too; free them for the balancer as a cpus_allowed of every vCPU would.
        var lb = new LoadBalancer(machine, 3, [true, true, true, false, false]);
        var t = lb.Pull(2, periodic: true, 0, out var from);
        Assert.Equal(1, from);
        Assert.Contains(t, new[] { machine.WorkloadTask(3), machine.WorkloadTask(4) });
        Assert.Equal(3_000_000, lb.BalanceInterval(2));
    }

    /// <summary>Three kernel threads on two vCPUs, none pinned by the scenario: k0 and k2 on vCPU 0, k1 on vCPU 1.</summary>
    private const string ThreeKernelThreadsOnTwo = """
        name: kthreads
        duration: 1s
        guest:
          vcpus: 2
        tasks:
          - name: k
            count: 3
            mode: kernel
            loop: compute 10
        """;

    /// <summary>
    /// A kernel thread is bound to its CPU (a per-CPU kworker): can_migrate_task refuses it for dst_cpu outside its
    /// cpus_ptr and leaves LBF_ALL_PINNED set, so vCPU 1's balance against a vCPU 0 that runs only kernel threads ends at
    /// out_all_pinned: nr_balance_failed stays 0 and balance_interval backs off. It counted as a failure to move and reset
    /// the interval when only the scenario's vcpu: pinned a task.
    /// </summary>
    [Fact]
    public void ABusiestQueueOfKernelThreads_IsAllPinned()
    {
        var (m, lb) = ThreeOnTwoAtStart(yaml: ThreeKernelThreadsOnTwo);
        Assert.Equal(0, (int)m.Task(m.WorkloadTask(2)).Vcpu);
        Assert.Equal(-1, lb.Pull(1, periodic: true, 0, out var from));
        Assert.Equal(0, from);
        Assert.Equal(0, lb.BalanceFailed(1));
        Assert.Equal(2 * 2_000_000, lb.BalanceInterval(1));
    }

    [Fact]
    public void NrBalanceFailed_CountsPeriodicFailuresOnly_AndClearsWhenATaskMoves()
    {
        var (m, lb) = ThreeOnTwoAtStart();
        int a = m.WorkloadTask(0), b = m.WorkloadTask(1), c = m.WorkloadTask(2);
        Assert.Equal(a, (int)m.Vcpu(0).CurrentTask);
        Assert.Equal(b, (int)m.Vcpu(1).CurrentTask);

        // vCPU 0 runs a with c queued, vCPU 1 runs b: vCPU 0 is the busier, nothing to pull for it.
        Assert.Equal(-1, lb.Pull(0, periodic: true, 0, out _));
        Assert.Equal(0, lb.BalanceFailed(0));

        // A new-idle attempt's failure does not count (58b26c4c0257); a periodic one's does.
        Assert.Equal(-1, lb.Pull(1, periodic: false, 0, out _));
        Assert.Equal(0, lb.BalanceFailed(1));
        Assert.Equal(-1, lb.Pull(1, periodic: true, 0, out _));
        Assert.Equal(1, lb.BalanceFailed(1));

        // 1024 >> 1 = 512 fits the imbalance (min(2048 - 1536, 1536 - 1024)): c, queued, moves.
        Assert.Equal(c, lb.Pull(1, periodic: true, 0, out var from));
        Assert.Equal(0, from);
        Assert.Equal(0, lb.BalanceFailed(1));
    }

    [Fact]
    public void DetachTasks_TakesTheTaskLeastRecentlyEnqueuedOrRun()
    {
        // All three on vCPU 0 (a runs, b and c queued), vCPU 1 idle: it pulls at once (migrate_task).
        var (m, lb) = ThreeOnTwoAtStart(tasksOnVcpu0: 3);
        int b = m.WorkloadTask(1), c = m.WorkloadTask(2);

        // c then b went to the head of cfs_tasks in the same instant: c is the nearer the tail.
        lb.Ran(c);
        lb.Ran(b);
        Assert.Equal(c, lb.Pull(1, periodic: false, 0, out _));

        // A wakeup's enqueue and a migration's attach put the task at the head too.
        lb.Ran(c);
        Assert.Equal(b, lb.Pull(1, periodic: false, 0, out _));
        lb.Moved(b);
        Assert.Equal(c, lb.Pull(1, periodic: false, 0, out _));
    }

    /// <summary>
    /// can_migrate_task's task_hot (kernel/sched/fair.c): a task that ran within sysctl_sched_migration_cost (0.5 ms) of
    /// the attempt is passed over until sd->nr_balance_failed exceeds cache_nice_tries (1, sd_init in
    /// kernel/sched/topology.c). c ran on vCPU 0 until 1 ms, a runs there, b is bound there: idle vCPU 1's new-idle
    /// attempts move nothing and count nothing; its periodic ones fail twice and move c on the third. At 1.5 ms c is cold.
    /// </summary>
    [Fact]
    public void ACacheHotTask_StaysUntilTheDomainFailedMoreThanCacheNiceTries()
    {
        const long Us = 1_000;
        var (m, _) = ThreeOnTwoAtStart(tasksOnVcpu0: 3);
        int a = m.WorkloadTask(0), c = m.WorkloadTask(2);
        Assert.Equal(a, (int)m.Vcpu(0).CurrentTask);

        LoadBalancer CRanUntil1Ms(long migrationCostNs = LoadBalancer.DefaultMigrationCostNs)
        {
            var lb = new LoadBalancer(m, 2, [false, true, false], migrationCostNs: migrationCostNs);
            lb.Switched(0, c, 0);
            lb.Switched(0, a, 1_000 * Us);
            return lb;
        }

        var hot = CRanUntil1Ms();
        Assert.True(hot.CacheHot(c, 1_499 * Us));
        Assert.False(hot.CacheHot(c, 1_500 * Us));
        Assert.False(hot.CacheHot(m.WorkloadTask(1), 1_000 * Us));

        Assert.Equal(-1, hot.Pull(1, periodic: false, 1_100 * Us, out _));
        Assert.Equal(0, hot.BalanceFailed(1));
        Assert.Equal(-1, hot.Pull(1, periodic: true, 1_200 * Us, out _));
        Assert.Equal(1, hot.BalanceFailed(1));
        Assert.Equal(-1, hot.Pull(1, periodic: true, 1_300 * Us, out _));
        Assert.Equal(2, hot.BalanceFailed(1));
        Assert.Equal(c, hot.Pull(1, periodic: true, 1_400 * Us, out var from));
        Assert.Equal(0, from);
        Assert.Equal(0, hot.BalanceFailed(1));

        Assert.Equal(c, CRanUntil1Ms().Pull(1, periodic: false, 1_500 * Us, out _));

        // sysctl_sched_migration_cost 0: task_hot is false for every task.
        var never = CRanUntil1Ms(migrationCostNs: 0);
        Assert.False(never.CacheHot(c, 1_000 * Us));
        Assert.Equal(c, never.Pull(1, periodic: false, 1_000 * Us, out _));
    }

    /// <summary>
    /// Three compute tasks on two busy vCPUs (<see cref="ThreeOnTwo"/>) with guest.sched.migration_cost longer than the
    /// run: every task that has run stays cache hot, so a pull of one waits for a third periodic attempt
    /// (nr_balance_failed 2 &gt; cache_nice_tries) where migrate_load alone lets the second move it. Fewer moves, and
    /// the three still share the two vCPUs. The default 0.5 ms changes nothing here: a queued task has waited a slice.
    /// </summary>
    [Fact]
    public void AMigrationCostLongerThanTheRun_MovesFewerTasks()
    {
        string[] names = ["a", "b", "c"];
        var cold = ScenarioRuns.Run(ThreeOnTwo, "sync", "guest.sched.migration_cost=0");
        var hot = ScenarioRuns.Run(ThreeOnTwo, "sync", "guest.sched.migration_cost=10s");
        long Moves(SimulationResult r) => names.Sum(n => r.Task(n).Migrations);
        Assert.True(Moves(hot) > 0 && Moves(hot) < Moves(cold), $"{Moves(hot)} moves against {Moves(cold)}");
        Assert.All(names, n => Assert.InRange(hot.Task(n).Share, 0.55, 0.8));
        Assert.Equal(Moves(cold), Moves(ScenarioRuns.Run(ThreeOnTwo, "sync")));
    }

    /// <summary>
    /// far-memory under kvm-pf: a task sleeps on each fault for less than sysctl_sched_migration_cost and wakes on its
    /// vCPU still hot (a wakeup leaves exec_start as the task's switch-out set it; only a migration zeroes it), so the
    /// driver's new-idle and periodic balances both pass hot tasks over (schedstat nr_failed_migrations_hot); with the
    /// cost 0 none is hot.
    /// </summary>
    [Fact]
    public void TasksWokenFromAFault_AreCacheHotToNewIdleAndPeriodicBalance()
    {
        static LoadBalancer BalancerAfterRun(params string[] sets)
        {
            var run = Driver.BuiltinRuns.Prepare("far-memory", Overrides.ParseProtocols("kvm-pf")[0], 1.0, sets);
            var simulator = new Simulator(run.Setup);
            simulator.Run();
            return simulator.Balancer!;
        }

        var hot = BalancerAfterRun();
        Assert.True(hot.HotPassedOver(newIdle: true) > 0, "no new-idle attempt passed a hot task over");
        Assert.True(hot.HotPassedOver(newIdle: false) > 0, "no periodic attempt passed a hot task over");
        var none = BalancerAfterRun("guest.sched.migration_cost=0");
        Assert.Equal(0, none.HotPassedOver(newIdle: true) + none.HotPassedOver(newIdle: false));
    }

    /// <summary>
    /// detach_tasks walks cfs_tasks from its tail and moves each task it passes over to the head (list_move at next:):
    /// c, the tail, is hot and a runs, so b, woken after both ran, is taken; at 2 ms c is cold but now lies ahead of b,
    /// which is taken again. Passed-over tasks kept their place before, and the walk took c at 2 ms. A task migrated
    /// since it last ran is cold (migrate_task_rq_fair's, and 6.6 enqueue_entity's ENQUEUE_MIGRATED, exec_start = 0).
    /// </summary>
    [Fact]
    public void DetachTasks_MovesTheTasksItPassesOverToTheHead_AndAMovedTaskIsCold()
    {
        const long Us = 1_000;
        var (m, lb) = ThreeOnTwoAtStart(tasksOnVcpu0: 3);
        int a = m.WorkloadTask(0), b = m.WorkloadTask(1), c = m.WorkloadTask(2);
        lb.Switched(0, c, 0);
        lb.Switched(0, a, 1_000 * Us);
        lb.Ran(b);
        Assert.Equal(b, lb.Pull(1, periodic: false, 1_100 * Us, out _));
        Assert.Equal(b, lb.Pull(1, periodic: false, 2_000 * Us, out _));

        lb.Switched(0, c, 3_000 * Us);
        lb.Switched(0, a, 3_100 * Us);
        Assert.True(lb.CacheHot(c, 3_200 * Us));
        lb.Moved(c);
        Assert.False(lb.CacheHot(c, 3_200 * Us));
    }

    /// <summary>
    /// Tasks that share a small set of host-absent pages and sleep on their faults. The host holds
    /// half the set, so they keep faulting on it: with 1 MiB the 64 pages fit once the guest's
    /// other pages, resident at start, are reclaimed, and the faults stop after the first few.
    /// </summary>
    private static string SharedHotSet(string pin) => $"""
        name: shared-hot
        duration: 100ms
        guest:
          vcpus: 2
        host:
          memory_limit: 128KiB
          backing: swap-nvme
        regions:
          - name: hot
            size: 256KiB
            absent: 1.0
        tasks:
          - name: w
            count: 6
            {pin}
            loop: compute 20; touch hot random
        """;

    /// <summary>
    /// For any protocol, policy and seed: with the balancer off nothing moves; with it on, what
    /// moved is counted per task and the tasks' cpu_ns still sum to the guest-visible time of the
    /// vCPUs (update_curr charges each stretch to the task current on the vCPU that ran it).
    /// </summary>
    [Fact]
    public void MovesAreCountedAndTimeIsConserved()
    {
        var gen =
            from protocol in Gen.Int[0, 4].Select(i => Protocols[i])
            from policy in Gen.Bool.Select(b => b ? "cfs" : "eevdf")
            from vcpus in Gen.Int[2, 4]
            from seed in Gen.Int[1, 1000]
            select (protocol, policy, vcpus, seed);
        gen.Sample(c =>
        {
            string[] sets = ["guest.sched.policy=" + c.policy, $"guest.vcpus={c.vcpus}", $"seed={c.seed}", "duration=40ms"];
            var on = ScenarioRuns.Run(SharedHotSet(""), c.protocol, sets);
            Assert.Equal(on.SimulatedNs * c.vcpus, on.VcpuGuestNs + on.VcpuHostExitNs + on.VcpuStalledNs + on.VcpuHaltedNs + on.VcpuIdleNs + on.VcpuStealNs);
            Assert.Equal(on.VcpuGuestNs + on.VcpuHostExitNs - on.VcpuHostExitIdleTaskNs + on.VcpuStalledNs + on.VcpuHaltedNs, on.Tasks.Sum(t => t.CpuNs));

            var off = ScenarioRuns.Run(SharedHotSet(""), c.protocol, [.. sets, "guest.sched.balance=false"]);
            Assert.Equal(0, off.Task("w").Migrations);
            Assert.Equal(off.VcpuGuestNs + off.VcpuHostExitNs - off.VcpuHostExitIdleTaskNs + off.VcpuStalledNs + off.VcpuHaltedNs, off.Tasks.Sum(t => t.CpuNs));

            var pinned = ScenarioRuns.Run(SharedHotSet("vcpu: 0"), c.protocol, sets);
            Assert.Equal(0, pinned.Task("w").Migrations);
        }, iter: 8, threads: 1);

        // Balancing on must move the task, or the law is empty. Only where a fault puts its task to sleep (kvm-pf,
        // kvm-pf-int, ve) do the queues fall out of balance here: under sync and kvm-halt the vCPU waits in the host
        // with the task still current, and nothing ever moves (300 drawn cases: every async one moved, no other
        // did). So the draws above, two fifths of them sync or kvm-halt, may hold no move at all; each async
        // protocol's own case below must.
        foreach (var protocol in (string[])["kvm-pf", "kvm-pf-int", "ve"])
        {
            var moved = ScenarioRuns.Run(SharedHotSet(""), protocol, "guest.vcpus=2", "seed=1", "duration=40ms");
            Assert.True(moved.Task("w").Migrations > 0, $"{protocol}: the balancer moved no task");
        }
    }

    /// <summary>
    /// KVM looks a faulting gfn up in the faulting vCPU's hash only (kvm_find_async_pf_gfn on
    /// vcpu->arch.apf.gfns). On one vCPU a second access to a queued gfn is a repeated fault (the
    /// artificial halt) and never a second fetch; spread over vCPUs, the same accesses start
    /// duplicate work. Each is counted: apf_repeated_fault, apf_duplicate_work.
    /// </summary>
    [Theory]
    [InlineData("kvm-pf")]
    [InlineData("kvm-pf-int")]
    public void PerVcpuGfnHash_OneVcpuRepeatsAndSpreadDuplicates(string protocol)
    {
        long repeated = 0, duplicates = 0, moves = 0;
        for (var seed = 1; seed <= 4; seed++)
        {
            var together = ScenarioRuns.Run(SharedHotSet("vcpu: 0"), protocol, $"seed={seed}");
            Assert.Equal(0, Count(together, "apf_duplicate_work"));
            repeated += Count(together, "apf_repeated_fault");

            var spread = ScenarioRuns.Run(SharedHotSet(""), protocol, $"seed={seed}");
            duplicates += Count(spread, "apf_duplicate_work");
            moves += spread.Task("w").Migrations;
        }

        Assert.True(repeated > 0, "one vCPU: same-gfn accesses must hit its hash");
        Assert.True(duplicates > 0, "several vCPUs: same-gfn accesses must start duplicate work");
        Assert.True(moves > 0, "the sleeping and waking tasks must be moved");
    }

    [Theory]
    [InlineData("sync")]
    [InlineData("kvm-pf")]
    [InlineData("kvm-pf-int")]
    [InlineData("ve")]
    public void OneVcpu_NeverDuplicatesNorMoves(string protocol)
    {
        var r = ScenarioRuns.Run(SharedHotSet(""), protocol, "guest.vcpus=1");
        Assert.Equal(0, Count(r, "apf_duplicate_work"));
        Assert.Equal(0, r.Task("w").Migrations);
    }

    private static long Count(SimulationResult r, string signal)
    {
        foreach (var (name, value) in r.Counters.Signals.Snapshot())
        {
            if (name == signal)
            {
                return value;
            }
        }

        throw new KeyNotFoundException(signal);
    }
}
