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
/// The guest scheduler's laws: fairness by weight (kernel/sched/core.c sched_prio_to_weight), time
/// the guest cannot see charged to the task that was current (update_curr), and conservation.
/// </summary>
public sealed class SchedulerLawTests
{
    private static readonly string[] Protocols = [.. ProtocolCatalog.Names];

    public static TheoryData<string> Policies => new() { "eevdf", "cfs" };

    [Theory]
    [MemberData(nameof(Policies))]
    public void TwoComputeTasks_SplitTheVcpuEvenly(string policy)
    {
        var r = ScenarioRuns.Run(ScenarioRuns.TwoComputeTasks(0, 0), "sync", "guest.sched.policy=" + policy);
        Assert.InRange(r.Task("a").Share, 0.48, 0.52);
        Assert.InRange(r.Task("b").Share, 0.48, 0.52);
    }

    [Theory]
    [MemberData(nameof(Policies))]
    public void Nice0AgainstNice5_SplitsByWeight(string policy)
    {
        var r = ScenarioRuns.Run(ScenarioRuns.TwoComputeTasks(0, 5), "sync", "guest.sched.policy=" + policy, "duration=2s");
        var ratio = (double)r.Task("a").CpuNs / r.Task("b").CpuNs;
        var expected = (double)SchedConstants.WeightOf(0) / SchedConstants.WeightOf(5);
        Assert.Equal(1024.0 / 335.0, expected, 6);
        Assert.InRange(ratio, expected * 0.97, expected * 1.03);
    }

    [Theory]
    [MemberData(nameof(Policies))]
    public void UnderSync_TheStallIsChargedToTheFaultingTask(string policy)
    {
        // The guest's clock runs through a synchronous stall: the faulting task used that time.
        var r = ScenarioRuns.Run(ScenarioRuns.ComputeBesideFaulting, "sync", "guest.sched.policy=" + policy);
        Assert.True(r.VcpuStalledNs > r.SimulatedNs / 10, "the faulting task must stall");
        Assert.InRange(r.Task("cpu").Share, 0.45, 0.55);
    }

    /// <summary>
    /// Fairness by weight, for any set of 2 to 5 nice values on one vCPU, either policy and a 1 or
    /// 4 ms tick: each CPU-bound task's cpu_ns stays within N x (tick + base slice) of its fluid
    /// share T x w_i / sum w (the scheduler only switches at ticks and wakeups, so a task can be a
    /// quantum ahead or behind per competitor, never more), and the shares fill the vCPU.
    /// </summary>
    [Fact]
    public void AnyNiceSet_GetsItsWeightedShareWithinAFewQuanta()
    {
        var gen =
            from policy in Gen.Bool.Select(b => b ? "cfs" : "eevdf")
            from tickMs in Gen.Bool.Select(b => b ? 1 : 4)
            from nices in Gen.Int[-20, 19].Array[2, 5]
            select (policy, tickMs, nices);
        gen.Sample(c =>
        {
            var tasks = string.Concat(c.nices.Select((n, i) => $"\n  - name: t{i}\n    nice: {n}\n    loop: compute 10"));
            var yaml = $"name: weights\nduration: 300ms\nguest:\n  tick: {c.tickMs}ms\ntasks:{tasks}\n";
            var r = ScenarioRuns.Run(yaml, "sync", "guest.sched.policy=" + c.policy);
            double total = c.nices.Sum(n => (double)SchedConstants.WeightOf(n));
            var bound = c.nices.Length * ((c.tickMs * 1_000_000.0) + 750_000);
            long cpu = 0;
            for (var i = 0; i < c.nices.Length; i++)
            {
                var task = r.Task("t" + i);
                var fair = r.SimulatedNs * SchedConstants.WeightOf(c.nices[i]) / total;
                Assert.True(Math.Abs(task.CpuNs - fair) <= bound, $"{c.policy}, tick {c.tickMs} ms, nice [{string.Join(',', c.nices)}]: t{i} ran {task.CpuNs} ns against a fair {fair:F0}");
                cpu += task.CpuNs;
            }

            Assert.Equal(r.SimulatedNs, cpu);
        }, iter: 16, threads: 1);
    }

    /// <summary>One vCPU: a nice 0 task picked first, and a nice -10 one.</summary>
    private const string FreshPair = """
        name: fresh-pair
        duration: 10ms
        tasks:
          - name: a
            loop: compute 100us
          - name: b
            nice: -10
            loop: compute 100us
        """;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void UnderRunToParity_ScheduleKeepsTheCurrentTaskWithinTheRequestItWasPickedWith(bool runToParity)
    {
        // Both tasks are fresh forks at the same vruntime: a, just picked, is eligible (at the
        // average) with its first request (half a slice, 0.375 ms of nice-0 virtual time) ahead,
        // and b's request ends sooner (0.375 ms x 1024 / 9548). A schedule() now, a woken before
        // it slept, runs 6.6's pick_next_task_fair with cfs_rq->curr still a (CONFIG_FAIR_GROUP_SCHED
        // picks before put_prev_entity), and pick_eevdf returns curr under RUN_TO_PARITY while
        // curr->vlag == curr->deadline. Without the feature it picks b, the earliest deadline, as
        // the pick did with the feature on too before it looked at the current task.
        var entry = Overrides.ParseProtocols("sync")[0];
        var run = ScenarioRunner.Prepare(ScenarioDocument.Parse(FreshPair, "law.yaml"), "law.yaml", entry, Overrides.ParseSets([]), [entry.Protocol]);
        var machine = new Machine(run.Setup.Machine);
        var a = machine.WorkloadTask(0);
        var b = machine.WorkloadTask(1);
        var nice = new int[machine.TaskCount];
        nice[b] = -10;
        var sched = new GuestScheduler(machine, 1, SchedPolicy.Eevdf, nice, 4_000_000, runToParity);
        Assert.Equal(a, (int)machine.Vcpu(0).CurrentTask);
        Assert.Equal(runToParity ? a : b, sched.Pick(0, a, 0));

        // Once a has run its request, update_deadline (the pick's update_curr) gives it a new
        // deadline, and it is past the average besides: b runs, feature or not.
        sched.Advance(0, 400_000);
        Assert.Equal(b, sched.Pick(0, a, 0));
    }

    /// <summary>One vCPU, three nice-0 tasks, all fresh forks at vruntime 0.</summary>
    private const string FreshTriple = """
        name: fresh-triple
        duration: 10ms
        tasks:
          - name: t
            count: 3
            loop: compute 100us
        """;

    [Fact]
    public void UnderEevdf_ATaskANanosecondAboveTheMeanIsNotEligible()
    {
        // a runs 1 ns: vruntimes 1, 0, 0, mean 1/3, so a's lag is -2/3 ns and entity_eligible
        // (6.6: avg >= entity_key * load, no division) says no; pick_eevdf drops curr, RUN_TO_PARITY
        // or not, and takes the earliest deadline among b and c (a tie, the first queued). Against the mean rounded
        // towards the first queued task's vruntime (1 + (-2048 / 3072), truncated: 1), a was taken
        // as eligible and kept; the kernel's avg_vruntime floors (0), and the exact test is
        // the kernel's. The same run with every time tripled rounded the other way.
        var entry = Overrides.ParseProtocols("sync")[0];
        var run = ScenarioRunner.Prepare(ScenarioDocument.Parse(FreshTriple, "law.yaml"), "law.yaml", entry, Overrides.ParseSets([]), [entry.Protocol]);
        var machine = new Machine(run.Setup.Machine);
        var a = machine.WorkloadTask(0);
        var b = machine.WorkloadTask(1);
        var sched = new GuestScheduler(machine, 1, SchedPolicy.Eevdf, new int[machine.TaskCount], 4_000_000, runToParity: true);
        Assert.Equal(a, (int)machine.Vcpu(0).CurrentTask);
        sched.Advance(0, 1, update: false);
        Assert.Equal(1, sched.Vruntime(a));
        Assert.Equal(0, sched.Vruntime(b));
        Assert.Equal(b, sched.Pick(0, a, 0));
    }

    [Fact]
    public void UnderEevdf_ARequestIsRenewedAtTheKernelsUpdatePoints_NotAtTheDriversBookkeeping()
    {
        // update_deadline runs from update_curr: a tick, an enqueue or dequeue, a context switch, a pick. The
        // driver also charges time at the end of every step and of the run, where the kernel looks at nothing.
        // A renewal there set the deadline from that moment's vruntime, a request earlier than the kernel's,
        // which renews it at its next update_curr from the vruntime then.
        var entry = Overrides.ParseProtocols("sync")[0];
        var run = ScenarioRunner.Prepare(ScenarioDocument.Parse(FreshPair, "law.yaml"), "law.yaml", entry, Overrides.ParseSets([]), [entry.Protocol]);
        var machine = new Machine(run.Setup.Machine);
        var a = machine.WorkloadTask(0);
        var sched = new GuestScheduler(machine, 1, SchedPolicy.Eevdf, new int[machine.TaskCount], 4_000_000);
        var first = sched.Deadline(a);

        // a's first request (half a slice, 0.375 ms) is used up by 1 ms: bookkeeping leaves it, and asks for
        // no reschedule.
        sched.Advance(0, 1_000_000, update: false);
        Assert.Equal(first, sched.Deadline(a));
        Assert.True(sched.Vruntime(a) > first);

        // The tick at 1.6 ms renews it a whole request (0.75 ms at one vCPU) past a's vruntime then.
        sched.Advance(0, 1_600_000);
        Assert.Equal(sched.Vruntime(a) + 750_000, sched.Deadline(a));
    }

    /// <summary>One vCPU, a 1 ms guest tick, two CPU-bound tasks in passes of 50 us.</summary>
    private const string TwoHogs = """
        name: two-hogs
        duration: 100ms
        guest:
          tick: 1ms
        tasks:
          - name: hog
            count: 2
            loop: compute 50us
        """;

    [Theory]
    [InlineData("3ms", 3_000_000)]
    [InlineData("5ms", 5_000_000)]
    public void UnderEevdf_TheBaseSliceSetsHowLongATaskRunsBeforeTheTickHandsTheVcpuOver(string slice, long sliceNs)
    {
        // guest.sched.base_slice is the request (sysctl_sched_base_slice): two nice-0 hogs each run one
        // request, and the tick (entity_tick -> update_curr -> update_deadline) ends a turn at the first
        // tick at or after it is served, so each turn lasts from the request to the request plus a tick.
        static int Switches(Tracing.RecordingSink trace)
        {
            var passes = trace.Records.Where(x => x.Kind == TraceKind.TaskWork).OrderBy(x => x.TimeNs).Select(x => x.Task).ToArray();
            return passes.Zip(passes.Skip(1)).Count(p => p.First != p.Second);
        }

        // On the grid (guest.tick_jitter=0): a request of whole ticks then ends exactly a tick after it is served. With
        // the jitter a tick can come late enough after the pick's to find the request served, so a turn is the request
        // or the request and a tick, and a task whose turn was the shorter can be picked again.
        var (r, trace) = ScenarioRuns.RunTraced(TwoHogs, "sync", $"guest.sched.base_slice={slice}", "guest.tick_jitter=0");
        var turns = Switches(trace);
        Assert.InRange(turns, (int)(r.SimulatedNs / (sliceNs + 1_000_000)) - 1, (int)(r.SimulatedNs / sliceNs) + 1);

        // A request of whole ticks counted from the pick ends a tick later: the task's run starts in the
        // schedule() after the tick that picked it, so the tick whole periods later charges it a little less
        // (update_curr) and update_deadline finds it served only at the next one. Each turn after the opening
        // two (the forks' first requests are half a slice, PLACE_DEADLINE_INITIAL, and leave them apart in
        // vruntime) and before the last is the request and one tick, in passes of 50 us.
        var passes = trace.Records.Where(x => x.Kind == TraceKind.TaskWork).OrderBy(x => x.TimeNs).Select(x => x.Task).ToArray();
        var runs = new List<int>();
        for (int i = 1, length = 1; i < passes.Length; i++, length++)
        {
            if (passes[i] != passes[i - 1])
            {
                runs.Add(length);
                length = 0;
            }
        }

        var expected = (int)((sliceNs + 1_000_000) / 50_000);
        Assert.All(runs.Skip(2), n => Assert.InRange(n, expected - 1, expected + 1));

        // The key at the kernel's own value (0.75 ms at one vCPU) is the default run.
        var (d, dTrace) = ScenarioRuns.RunTraced(TwoHogs, "sync", "guest.tick_jitter=0");
        var (e, eTrace) = ScenarioRuns.RunTraced(TwoHogs, "sync", "guest.sched.base_slice=750us", "guest.tick_jitter=0");
        Assert.Equal(Switches(dTrace), Switches(eTrace));
        Assert.Equal(d.Task("hog").WorkDone, e.Task("hog").WorkDone);
        Assert.True(Switches(dTrace) > 2 * turns, $"{Switches(dTrace)} turns at 0.75 ms against {turns} at {slice}");
    }

    /// <summary>One vCPU: two tasks that yield after each 10 us, one of them nice -5.</summary>
    private const string TwoYielders = """
        name: two-yielders
        duration: 50ms
        tasks:
          - name: a
            nice: -5
            loop: compute 10us; yield
          - name: b
            loop: compute 10us; yield
        """;

    [Theory]
    [InlineData("sync")]
    [InlineData("ve")]
    public void UnderCfs_AYieldHandsTheCpuToATaskWithinWakeupGranularity_AndTheSplitStaysByWeight(string protocol)
    {
        // 6.1's yield_task_fair makes the yielder the skip buddy (set_skip_buddy), and
        // pick_next_entity passes over it for the next task in vruntime order when that one is
        // not more than wakeup_gran(left) behind: 1 ms x 1024 / 3121 = 328 us of a's virtual time.
        // a's 10 us is 3.3 us of virtual time and b's 10, so the gap grows 6.7 us a round and
        // the two alternate for the first 48 rounds or so. Without the skip buddy a yield just
        // picked the leftmost again, and a ran about three passes for each of b's from the start.
        // Over the run the split stays by weight: 3121 / (3121 + 1024) = 75.3% for a.
        var (r, trace) = ScenarioRuns.RunTraced(TwoYielders, protocol, "guest.sched.policy=cfs");
        var passes = trace.Records.Where(x => x.Kind == TraceKind.TaskWork).OrderBy(x => x.TimeNs).Select(x => x.Task).Take(80).ToArray();
        for (var i = 1; i < passes.Length; i++)
        {
            Assert.True(passes[i] != passes[i - 1], $"passes {i - 1} and {i} are both task {passes[i]}'s: [{string.Join(',', passes)}]");
        }

        var expected = (double)SchedConstants.WeightOf(-5) / (SchedConstants.WeightOf(-5) + SchedConstants.WeightOf(0));
        var share = (double)r.Task("a").CpuNs / (r.Task("a").CpuNs + r.Task("b").CpuNs);
        Assert.InRange(share, expected - 0.01, expected + 0.01);
    }

    [Fact]
    public void WeightTable_IsTheKernels()
    {
        Assert.Equal(40, SchedConstants.PrioToWeight.Length);
        Assert.Equal(88761, SchedConstants.WeightOf(-20));
        Assert.Equal(1024, SchedConstants.WeightOf(0));
        Assert.Equal(15, SchedConstants.WeightOf(19));
        for (var n = -20; n < 19; n++)
        {
            // Neighbours differ by about 1.25 (the "10% effect").
            var step = (double)SchedConstants.WeightOf(n) / SchedConstants.WeightOf(n + 1);
            Assert.InRange(step, 1.2, 1.3);
        }

        Assert.Equal(1, SchedConstants.TunableFactor(1));
        Assert.Equal(3, SchedConstants.TunableFactor(4));
        Assert.Equal(4, SchedConstants.TunableFactor(64));
    }

    /// <summary>
    /// Conservation, for any protocol, policy, tick, seed and vCPU count: each vCPU's categories sum
    /// to the simulated time, and the tasks' cpu_ns sum to the time the vCPUs were not idle.
    /// </summary>
    /// <summary>
    /// task_tick_fair -> entity_tick runs update_curr at every tick, however many tasks are queued,
    /// and 6.6's update_deadline renews a used-up request there (deadline = vruntime + slice): a
    /// lone task's deadline stays within a tick of its vruntime, so a task woken beside it is weighed
    /// against a current deadline. The model asked the policy only when another task was runnable,
    /// so a lone task kept the deadline of its first pick (half a request past 0) for the whole run.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void ALoneTasksDeadline_IsRenewedAtEachTick(int vcpus)
    {
        var run = ScenarioRuns.Prepare($"name: lone\nduration: 101ms\nguest:\n  vcpus: {vcpus}\ntasks:\n  - name: a\n    count: {vcpus}\n    loop: compute 10\n", "sync", []);
        var simulator = new Simulator(run.Setup);
        var r = simulator.Run();
        var sched = simulator.Scheduler;
        const long tick = 4_000_000;
        var slice = SchedConstants.BaseSliceNs * SchedConstants.TunableFactor(vcpus);
        for (var t = vcpus; t < 2 * vcpus; t++)
        {
            // Renewed at the last tick, 100 ms: vruntime then + slice; the run went on 1 ms past it.
            var renewedAt = sched.Deadline(t) - slice;
            Assert.InRange(renewedAt, sched.Vruntime(t) - tick, sched.Vruntime(t));
        }

        Assert.Equal(r.VcpuGuestNs + r.VcpuHostExitNs - r.VcpuHostExitIdleTaskNs + r.VcpuStalledNs + r.VcpuHaltedNs, r.Tasks.Sum(x => x.CpuNs));
    }

    [Fact]
    public void TimeIsConserved()
    {
        var gen =
            from protocol in Gen.Int[0, 4].Select(i => Protocols[i])
            from policy in Gen.Bool.Select(b => b ? "cfs" : "eevdf")
            from tickMs in Gen.Int[1, 10]
            from vcpus in Gen.Int[1, 3]
            from seed in Gen.Int[1, 1000]
            select (protocol, policy, tickMs, vcpus, seed);
        gen.Sample(c =>
        {
            var r = ScenarioRuns.Run(ScenarioRuns.ComputeBesideFaulting, c.protocol,
                "guest.sched.policy=" + c.policy, $"guest.tick={c.tickMs}ms", $"guest.vcpus={c.vcpus}", $"seed={c.seed}", "duration=40ms");
            Assert.Equal(r.SimulatedNs * c.vcpus, r.VcpuGuestNs + r.VcpuHostExitNs + r.VcpuStalledNs + r.VcpuHaltedNs + r.VcpuIdleNs + r.VcpuStealNs);
            long cpu = 0;
            foreach (var t in r.Tasks)
            {
                cpu += t.CpuNs;

                // An instance is current on a vCPU (charged), runnable and queued (waiting) or neither, never both at
                // once (update_curr charges curr; the wait counts only queued tasks that are not curr): a group's charged
                // and waiting time together fit in its instances' lifetimes.
                Assert.InRange(t.WaitNs, 0, (r.SimulatedNs * t.Count) - t.CpuNs);
            }

            Assert.Equal(r.VcpuGuestNs + r.VcpuHostExitNs - r.VcpuHostExitIdleTaskNs + r.VcpuStalledNs + r.VcpuHaltedNs, cpu);
        }, iter: 12, threads: 1);
    }
}
