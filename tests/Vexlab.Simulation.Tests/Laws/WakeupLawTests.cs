using Vexlab.Scenarios.Documents;
using Vexlab.Simulation.Scenarios;
using Vexlab.Simulation.Scheduling;
using Vexlab.Simulation.Tracing;

namespace Vexlab.Simulation.Tests.Laws;

/// <summary>
/// When a woken task runs beside one that never blocks (docs/examples/wakeup.yaml): at once when
/// the policy's wakeup check lets it preempt (wakeup_preempt sets need_resched, and the reschedule
/// interrupt's return switches), else at the tick that finds the current task's share used up.
/// </summary>
public sealed class WakeupLawTests
{
    private const string SleeperBesideCompute = """
        name: wakeup
        duration: 50ms
        tasks:
          - name: sleeper
            loop: sleep 1ms; compute 10us
          - name: cpu
            loop: compute 100us
        """;

    /// <summary>
    /// A nice -5 sleeper beside three CPU-bound tasks on a HZ=1000 guest. The sleeper runs far below
    /// its share, so it wakes with positive lag, and its request is a third of theirs in virtual time
    /// (sched_prio_to_weight 3121 against 1024): pick_eevdf picks it at every wakeup. Among four
    /// tasks its placement moves the average by a quarter of its lag or less, so the task it finds
    /// running is often still eligible.
    /// </summary>
    private const string SleeperBesidePack = """
        name: wakeup-pack
        duration: 50ms
        guest:
          tick: 1ms
        tasks:
          - name: sleeper
            nice: -5
            loop: sleep 1ms; compute 10us
          - name: cpu
            count: 3
            loop: compute 100us
        """;

    /// <summary>A pass is the 1 ms sleep and 10 us of compute.</summary>
    private const long PassNs = 1_010_000;

    /// <summary>The reschedule interrupt's delivery and return, the context switch, the micro-ops: a few us.</summary>
    private const long SwitchSlackNs = 10_000;

    [Theory]
    [InlineData("sync")]
    [InlineData("kvm-pf-int")]
    [InlineData("ve")]
    public void UnderCfs_EveryWakeupAfterTheFirstRunsTheSleeperAtOnce(string protocol)
    {
        // The first wakeup comes 1 ms in, when the computing task is not yet more than
        // wakeup_granularity (1 ms) ahead; from then on the sleeper is placed far enough behind.
        var gaps = Gaps(protocol, "guest.sched.policy=cfs");
        Assert.True(gaps.Length > 40, $"{gaps.Length} passes");
        Assert.All(gaps, g => Assert.InRange(g, PassNs, PassNs + SwitchSlackNs));
    }

    [Theory]
    [InlineData("sync")]
    [InlineData("kvm-pf-int")]
    [InlineData("ve")]
    public void UnderEevdf_AWakeupRunsAtOnceOrWaitsAtMostATick(string protocol)
    {
        // A sleeper woken with negative lag is not eligible (pick_eevdf) and waits for the tick
        // whose update_deadline ends the current task's request: one 4 ms tick at most.
        var gaps = Gaps(protocol);
        Assert.True(gaps.Length > 40, $"{gaps.Length} passes");
        Assert.All(gaps, g => Assert.InRange(g, PassNs, PassNs + 4_000_000 + SwitchSlackNs));
        Assert.True(gaps.Count(g => g <= PassNs + SwitchSlackNs) >= gaps.Length * 9 / 10);
    }

    [Fact]
    public void WithoutATick_ASleeperThatDoesNotWinAtWakeupNeverRunsAgain()
    {
        // Why guest.tick=0 is refused beside two tasks: a 1 s tick never fires in the 50 ms run,
        // and the EEVDF sleeper runs one pass; alone on a vCPU it wakes on time without a tick.
        Assert.Empty(Gaps("sync", "guest.tick=1s"));
        var alone = Gaps("sync", "guest.tick=0", "guest.vcpus=2");
        Assert.True(alone.Length > 45, $"{alone.Length} passes");
        Assert.All(alone, g => Assert.InRange(g, PassNs, PassNs + SwitchSlackNs));
    }

    [Theory]
    [InlineData("sync")]
    [InlineData("kvm-pf-int")]
    [InlineData("ve")]
    public void WithoutRunToParity_AWakeupThatPickEevdfWinsPreemptsAtOnce(string protocol)
    {
        // guest.sched.run_to_parity=false: check_preempt_wakeup preempts whenever pick_eevdf
        // picks the woken task, and here it always does.
        var gaps = GapsOf(SleeperBesidePack, protocol, "guest.sched.run_to_parity=false");
        Assert.True(gaps.Length > 40, $"{gaps.Length} passes");
        Assert.All(gaps, g => Assert.InRange(g, PassNs, PassNs + SwitchSlackNs));
    }

    [Theory]
    [InlineData("sync")]
    [InlineData("kvm-pf-int")]
    [InlineData("ve")]
    public void UnderRunToParity_AWakeupLetsTheCurrentTaskFinishTheRequestItWasPickedWith(string protocol)
    {
        // RUN_TO_PARITY (63304558ba5d): pick_eevdf keeps an eligible curr while its deadline is the
        // one set_next_entity stashed, so the sleeper that wins every pick above waits in some
        // wakeups. Not past that request (one base slice of a nice-0 task's time, 0.75 ms x the
        // 1 + ilog2(vCPUs) factor) and the tick that finds it used up (update_deadline's resched).
        var slice = SchedConstants.BaseSliceNs * SchedConstants.TunableFactor(1);
        const long TickNs = 1_000_000;
        var gaps = GapsOf(SleeperBesidePack, protocol);
        Assert.True(gaps.Length > 20, $"{gaps.Length} passes");
        Assert.Contains(gaps, g => g > PassNs + SwitchSlackNs);
        Assert.All(gaps, g => Assert.InRange(g, PassNs, PassNs + slice + TickNs + SwitchSlackNs));
    }

    [Fact]
    public void UnderCfs_RunToParityChangesNothing()
    {
        // A sched_feat of pick_eevdf: 5.x's check_preempt_wakeup never reads it.
        Assert.Equal(
            GapsOf(SleeperBesidePack, "sync", "guest.sched.policy=cfs"),
            GapsOf(SleeperBesidePack, "sync", "guest.sched.policy=cfs", "guest.sched.run_to_parity=false"));
    }

    /// <summary>
    /// One vCPU, a tick that never comes in the run: the sleeper runs first and sleeps at once,
    /// then two CPU-bound tasks; a, picked first, is current when the sleeper wakes at 1 ms.
    /// </summary>
    private const string SleeperBesideTwoTicklessHogs = """
        name: wakeup-two-hogs
        duration: 50ms
        guest:
          tick: 1s
        tasks:
          - name: sleeper
            loop: sleep 1ms; compute 10us
          - name: a
            loop: compute 100us
          - name: b
            loop: compute 100us
        """;

    [Theory]
    [InlineData("sync")]
    [InlineData("kvm-pf-int")]
    [InlineData("ve")]
    public void UnderEevdf_AWakeupThatFindsTheRequestUsedUp_SwitchesToThePick(string protocol)
    {
        // At 1 ms a has run past its first request (half a 0.75 ms slice): the wakeup's
        // enqueue_entity -> update_curr -> update_deadline gives it a new deadline and, with b
        // queued beside it, calls resched_curr. The reschedule interrupt's return then picks by
        // pick_eevdf: b (eligible, deadline 0.375 ms), not a (past the average) and not the woken
        // sleeper (deadline 1.25 ms). Acting only on the woken task's win, a kept the vCPU the
        // whole run (b: 0 passes), as no tick came to end its request.
        var (r, trace) = ScenarioRuns.RunTraced(SleeperBesideTwoTicklessHogs, protocol);
        // Model tasks: the vCPU's idle task is 0, then the sleeper (1), a (2) and b (3).
        var ofB = trace.Records.Where(x => x.Kind == TraceKind.TaskWork && x.Task == 3).Select(x => x.TimeNs).ToArray();
        Assert.True(ofB.Length > 0, $"b never ran; a ran {r.Task("a").CpuNs} ns");
        Assert.InRange(ofB.Min(), 1_100_000, 1_100_000 + SwitchSlackNs);
        Assert.InRange(r.Task("a").CpuNs, 1_000_000 - SwitchSlackNs, 1_000_000 + SwitchSlackNs);
        Assert.Equal(0, r.Task("sleeper").WorkDone);
    }

    private static long[] Gaps(string protocol, params string[] sets) => GapsOf(SleeperBesideCompute, protocol, sets);

    /// <summary>The times between the ends of the sleeper's passes, to 1 us.</summary>
    private static long[] GapsOf(string yaml, string protocol, params string[] sets)
    {
        var entry = Overrides.ParseProtocols(protocol)[0];
        var document = ScenarioDocument.Parse(yaml, "wakeup.yaml");
        var run = ScenarioRunner.Prepare(document, "wakeup.yaml", entry, Overrides.ParseSets(sets), [entry.Protocol]);
        var timeline = TimelineRecorder.For(run.Setup, 1_000);
        ScenarioRunner.Run(run, timeline);
        var end = timeline.Columns.ToList().IndexOf("end_ns");
        var work = timeline.Columns.ToList().IndexOf("work_sleeper");
        var ends = new List<long>();
        foreach (var row in timeline.Rows)
        {
            for (var i = 0; i < row[work]; i++)
            {
                ends.Add(row[end]);
            }
        }

        return [.. ends.Zip(ends.Skip(1), (a, b) => b - a)];
    }

    /// <summary>One vCPU: a task that yields after each 50 us beside one that only computes.</summary>
    private const string YielderBesideHog = """
        name: yielder
        duration: 50ms
        guest:
          tick: 1ms
        tasks:
          - name: yielder
            loop: compute 50us; yield
          - name: hog
            loop: compute 50us
        """;

    [Theory]
    [InlineData("sync")]
    [InlineData("ve")]
    public void UnderEevdf_AYieldHandsTheCpuToAnEligibleTask_AndTheSplitStaysFair(string protocol)
    {
        // sched_yield after the yielder's first 50 us: pick_next_task_fair updates it first
        // (update_curr), so it is 50 us ahead of the average and no longer eligible, and 6.6's
        // yield_task_fair pushes its deadline one request later besides: pick_eevdf takes the hog.
        // Picking on the vruntime of the last charge instead, the yielder ran 19 passes before
        // the tick gave the hog its turn. Over the run the split is fair to within a tick.
        var (r, trace) = ScenarioRuns.RunTraced(YielderBesideHog, protocol);
        var yielder = r.Task("yielder");
        var hog = r.Task("hog");
        // Model tasks: the vCPU's idle task is 0, then the yielder (1) and the hog (2). The
        // yielder's pass ends after its yield, so the first pass to end is the hog's.
        var first = trace.Records.Where(x => x.Kind == TraceKind.TaskWork).OrderBy(x => x.TimeNs).First();
        Assert.Equal(2, first.Task);
        Assert.InRange(first.TimeNs, 100_000, 100_000 + SwitchSlackNs);
        Assert.InRange(yielder.CpuNs - hog.CpuNs, -1_000_000, 1_000_000);
    }
}
