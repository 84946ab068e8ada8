using CsCheck;
using Vexlab.Simulation.Driver;
using Vexlab.Simulation.Scheduling;
using Vexlab.Simulation.Tracing;
using Xunit.Abstractions;

namespace Vexlab.Simulation.Tests.Laws;

/// <summary>
/// What a task that sleeps gets back when it wakes. Over a run, a sleeper beside tasks that never block is owed
/// its weight's share of the time it was runnable (running or waiting): the fluid share, sleeps excluded. EEVDF
/// pays it that and no more, however often it sleeps, because the lag a task leaves with is the lag it comes back
/// with (6.6 update_entity_lag at dequeue, place_entity at enqueue); CFS gives it up to half a latency of virtual
/// time at each wakeup (place_entity under GENTLE_FAIR_SLEEPERS), credit that adds up with the wakeups.
/// </summary>
public sealed class SleeperLawTests(ITestOutputHelper output)
{
    /// <summary>One vCPU: a sleeper (nice, compute, sleep) beside <paramref name="hogs"/> nice-0 tasks that never block.</summary>
    private static string SleeperBesideHogs(int hogs, int nice, int workUs, int sleepUs, int tickMs) => $"""
        name: sleeper-beside-hogs
        duration: 300ms
        guest:
          tick: {tickMs}ms
        tasks:
          - name: s
            nice: {nice}
            loop: compute {workUs}us; sleep {sleepUs}us
          - name: hog
            count: {hogs}
            loop: compute 10
        """;

    /// <summary>Sleepers beside 1 to 3 hogs: nice -5 to 5, passes of 0.1 to 5 ms, sleeps of 0.1 to 20 ms, a 1 or 4 ms tick.</summary>
    private static readonly Gen<(int hogs, int nice, int workUs, int sleepUs, int tickMs)> Cases =
        from hogs in Gen.Int[1, 3]
        from nice in Gen.Int[-5, 5]
        from workUs in Gen.Int[100, 5000]
        from sleepUs in Gen.Int[100, 20000]
        from tickMs in Gen.Bool.Select(b => b ? 1 : 4)
        select (hogs, nice, workUs, sleepUs, tickMs);

    /// <summary>
    /// The sleeper's CPU time less its fluid share of the time it was runnable, the lag update_entity_lag's clamp
    /// took from it (ns of CPU time), and its passes (one wakeup each).
    /// </summary>
    private static (double Gain, long Forfeited, long Wakeups) Gain(SimulationResult r, int hogs, int nice)
    {
        var s = r.Task("s");
        double weight = SchedConstants.WeightOf(nice);
        var fair = (s.CpuNs + s.WaitNs) * weight / (weight + (hogs * SchedConstants.Nice0Weight));
        return (s.CpuNs - fair, s.LagForfeitedNs, s.WorkDone);
    }

    /// <summary>
    /// Under EEVDF the sleeper's gain over its fluid share, with the lag the clamp took added back, stays within
    /// one lag limit, max(2 x base slice, tick) (update_entity_lag's clamp, here in real time: the limit is that in
    /// the task's own virtual time), and a slice beyond it, whatever the number of sleeps: lag is carried across
    /// each, so the gains of the runnable stretches telescope to the lag the sleeper ends with. From below the
    /// bound also holds a few microseconds a wakeup (the interrupt that wakes it runs before it can, counted as
    /// its wait). The clamp is the one leak: a sleeper that waits a tick for RUN_TO_PARITY's current task to
    /// finish its request can be owed more than the limit when it sleeps again, and the excess is gone.
    /// <para>
    /// The lag it ends with is what it is owed at the end, and from below that is the clamp alone only if it ends
    /// asleep. A sleeper back on the queue is owed the lag it woke with, at most the clamp, and its share of the time
    /// since, which it may spend waiting for the current hog's request to end at a tick: nice -2 beside three
    /// hogs at a 4 ms tick (CsCheck_Seed=eSWi_21Gdcx1) woke with the whole 4 ms 3.8 ms before the end and ended owed
    /// 5.33 ms, past the limit and a slice (4.75 ms) and its 24 wakeups' allowance. So from below the bound is the
    /// clamp, and for a sleeper queued at the end its share of the time since it was last seen off the queue.
    /// </para>
    /// </summary>
    [Fact]
    public void UnderEevdf_ASleeperGetsItsShareOfTheTimeItWasRunnable_HoweverOftenItSleeps()
    {
        Cases.Sample(c =>
        {
            var watch = new SleeperWatch();
            var sim = new Simulator(ScenarioRuns.Prepare(SleeperBesideHogs(c.hogs, c.nice, c.workUs, c.sleepUs, c.tickMs), "sync", []).Setup, watch);
            watch.Sim = sim;
            var r = sim.Run();
            var (gain, forfeited, wakeups) = Gain(r, c.hogs, c.nice);
            var limit = LagLimit(c.tickMs);
            double weight = SchedConstants.WeightOf(c.nice);
            var share = weight / (weight + (c.hogs * SchedConstants.Nice0Weight));
            var queued = sim.Scheduler.Queued(sim.Machine.WorkloadTask(0));
            var owed = LagClamp(c.tickMs) + (queued ? share * (r.SimulatedNs - watch.AsleepNs) : 0);
            output.WriteLine($"{c}: {wakeups} wakeups, gain {gain / 1e6:F3} ms, clamped {forfeited / 1e6:F3} ms (limit {limit / 1e6:F2} ms, owed at most {owed / 1e6:F3} ms)");
            Assert.True(wakeups >= 2, $"{c}: {wakeups} passes");
            Assert.True(gain + forfeited <= limit, $"{c}: the sleeper ran {(gain + forfeited) / 1e6:F3} ms past its share over {wakeups} wakeups");
            Assert.True(
                gain + forfeited >= -owed - (wakeups * 20_000),
                $"{c}: the sleeper ran {-(gain + forfeited) / 1e6:F3} ms short of its share over {wakeups} wakeups, owed at most {owed / 1e6:F3} ms ({(queued ? $"queued since {watch.AsleepNs} ns" : "asleep")} at the end)");
        }, iter: 24, threads: 1);
    }

    /// <summary>
    /// A nice -4 sleeper (1.147 ms passes, 5.09 ms sleeps) beside two hogs with a 4 ms tick: each wakeup finds a hog
    /// within its request, RUN_TO_PARITY keeps it running to the tick, and the sleeper is owed 4.9 ms, past the
    /// 4 ms limit, at every other sleep. The clamp takes about 0.9 ms each time, so the sleeper ends well over one
    /// limit short of its share, and exactly the clamped lag makes up the difference.
    /// </summary>
    [Fact]
    public void UnderEevdf_TheLagClampIsWhatASleeperHeldOffByTicksLoses()
    {
        var r = ScenarioRuns.Run(SleeperBesideHogs(2, -4, 1147, 5090, 4), "sync");
        var (gain, forfeited, wakeups) = Gain(r, 2, -4);
        var limit = LagLimit(4);
        output.WriteLine($"{wakeups} wakeups, gain {gain / 1e6:F3} ms, clamped {forfeited / 1e6:F3} ms (limit {limit / 1e6:F2} ms)");
        Assert.True(forfeited > 2 * limit, $"the clamp took {forfeited / 1e6:F3} ms");
        Assert.True(gain < -limit, $"gain {gain / 1e6:F3} ms");
        Assert.InRange(gain + forfeited, -limit - (wakeups * 20_000), limit);

        // CFS keeps no lag, so nothing is clamped.
        Assert.Equal(0, ScenarioRuns.Run(SleeperBesideHogs(2, -4, 1147, 5090, 4), "sync", "guest.sched.policy=cfs").Task("s").LagForfeitedNs);
    }

    /// <summary>update_entity_lag's limit, max(2 x base slice, tick), in real time, and a slice beyond it.</summary>
    private static long LagLimit(int tickMs) => LagClamp(tickMs) + SchedConstants.BaseSliceNs;

    /// <summary>update_entity_lag's limit, max(2 x base slice, tick), in real time: the most a sleeper wakes owed.</summary>
    private static long LagClamp(int tickMs) => Math.Max(2 * SchedConstants.BaseSliceNs, tickMs * 1_000_000L);

    /// <summary>
    /// Under CFS (5.x, 6.1) a wakeup places the sleeper at max(its vruntime, min_vruntime - sched_latency / 2):
    /// each wakeup can give it up to half a latency of virtual time (3 ms of a nice-0 task's at one vCPU) ahead of
    /// the tasks that never slept, and it keeps what it ran of that. Nothing but the tick ends a woken sleeper's run
    /// before it sleeps again: the tasks beside it never wake, and check_preempt_tick runs at ticks only (HRTICK is off
    /// by default), so each pass may overrun that credit by up to a tick (or its whole pass, if shorter); a sleep long
    /// enough to leave it half a latency behind forgives the overrun its vruntime was charged (place_entity's max).
    /// Its gain is then at most credit and overrun per wakeup, plus a latency and a tick; and with wakeups often
    /// enough it is far above EEVDF's, for the same workload.
    /// </summary>
    [Fact]
    public void UnderCfs_ASleeperGainsAtMostHalfALatencyAWakeup()
    {
        Cases.Sample(c =>
        {
            var r = ScenarioRuns.Run(SleeperBesideHogs(c.hogs, c.nice, c.workUs, c.sleepUs, c.tickMs), "sync", "guest.sched.policy=cfs");
            var (gain, _, wakeups) = Gain(r, c.hogs, c.nice);
            var credit = SchedConstants.CfsLatencyNs / 2 * (double)SchedConstants.WeightOf(c.nice) / SchedConstants.Nice0Weight;
            var overrun = Math.Min(c.workUs * 1_000L, c.tickMs * 1_000_000L);
            var limit = ((wakeups + 1) * (credit + overrun)) + SchedConstants.CfsLatencyNs + (c.tickMs * 1_000_000L);
            output.WriteLine($"{c}: {wakeups} wakeups, gain {gain / 1e6:F3} ms (limit {limit / 1e6:F2} ms)");
            Assert.True(gain <= limit, $"{c}: the sleeper ran {gain / 1e6:F3} ms past its share over {wakeups} wakeups");
        }, iter: 24, threads: 1);

        // 2 ms of work and 2 ms of sleep beside one hog: while runnable the sleeper is owed half the vCPU (a third of
        // the run), but each wakeup finds it a whole sleep behind min_vruntime and places it half a latency back, so
        // under CFS it runs whenever it is runnable (half the run); under EEVDF it gets its third.
        var yaml = SleeperBesideHogs(1, 0, 2000, 2000, 4);
        var (cfs, _, cfsWakeups) = Gain(ScenarioRuns.Run(yaml, "sync", "guest.sched.policy=cfs"), 1, 0);
        var (eevdf, _, _) = Gain(ScenarioRuns.Run(yaml, "sync"), 1, 0);
        output.WriteLine($"2 ms / 2 ms: CFS gains {cfs / 1e6:F3} ms over {cfsWakeups} wakeups, EEVDF {eevdf / 1e6:F3} ms");
        Assert.True(cfs > cfsWakeups * 500_000, $"CFS gained {cfs / 1e6:F3} ms over {cfsWakeups} wakeups");
        Assert.InRange(eevdf, -SchedConstants.BaseSliceNs, SchedConstants.BaseSliceNs);
    }

    /// <summary>The last instant the sleeper (workload task 0) was seen off its run queue, at any trace record.</summary>
    private sealed class SleeperWatch : ITraceSink
    {
        public Simulator? Sim { get; set; }

        public long AsleepNs { get; private set; }

        public void Write(in TraceRecord record)
        {
            if (Sim is not null && !Sim.Scheduler.Queued(Sim.Machine.WorkloadTask(0)))
            {
                AsleepNs = Sim.Now;
            }
        }

        public void Complete(long endTimeNs)
        {
        }
    }
}
