using CsCheck;
using Vexlab.Simulation.Driver;
using Vexlab.Simulation.Scheduling;
using Vexlab.Simulation.Tracing;

namespace Vexlab.Simulation.Tests.Laws;

/// <summary>
/// Where CFS places a task that wakes: 5.x place_entity under GENTLE_FAIR_SLEEPERS takes
/// max(its own vruntime, min_vruntime - sysctl_sched_latency / 2), and update_min_vruntime keeps
/// min_vruntime monotonic (max_vruntime of the old value and the leftmost's), so a sleeper's credit
/// is half a latency of virtual time, however long it slept and however far another sleeper was
/// placed before it.
/// </summary>
public sealed class CfsWakePlacementLawTests
{
    /// <summary>
    /// One to three sleepers (nice -5 to 5, passes of 0.1 to 2 ms, sleeps of 10 to 20 ms) beside one
    /// nice-0 hog on one vCPU. While every sleeper sleeps the hog is the queue and min_vruntime is the
    /// hog's vruntime, and it never falls back from there: each wakeup places the sleeper at or above
    /// the hog's vruntime at the last such moment, less half a latency. A sleep longer than the credit
    /// places a sleeper that wakes alone on that floor, give or take the hog's run since the last event. The sleeper-gain law bounds the credit only
    /// summed over a run, with a tick of slack each wakeup: a whole latency of credit passed it, and
    /// so did a min_vruntime that followed a sleeper placed below it down.
    /// </summary>
    [Fact]
    public void AWokenTaskIsPlacedHalfALatencyBehindTheQueue_NeverFurther()
    {
        var gen =
            from sleepers in Gen.Int[1, 3]
            from nice in Gen.Int[-5, 5]
            from workUs in Gen.Int[100, 2000]
            from sleepUs in Gen.Int[10_000, 20_000]
            from tickMs in Gen.Bool.Select(b => b ? 1 : 4)
            select (sleepers, nice, workUs, sleepUs, tickMs);
        gen.Sample(c =>
        {
            var yaml = $"name: wake\nduration: 200ms\nguest:\n  tick: {c.tickMs}ms\ntasks:\n  - name: s\n    count: {c.sleepers}\n    nice: {c.nice}\n    loop: compute {c.workUs}us; sleep {c.sleepUs}us\n  - name: hog\n    loop: compute 10\n";
            var watch = new WakeWatch(c.sleepers);
            var sim = new Simulator(ScenarioRuns.Prepare(yaml, "sync", ["guest.sched.policy=cfs"]).Setup, watch);
            watch.Sim = sim;
            sim.Run();
            Assert.True(watch.Gaps.Count >= 5, $"{c}: {watch.Gaps.Count} wakeups");

            // Gap: the woken sleeper's vruntime once placed, less the floor (the hog's vruntime at the last record that
            // found every sleeper asleep, at most min_vruntime at the wakeup, less the credit).
            foreach (var gap in watch.Gaps)
            {
                Assert.True(gap >= 0, $"{c}: a wakeup placed a sleeper {-gap} ns of virtual time below the floor");
            }

            // The scheduler charges the hog at events, a tick apart at most: its vruntime at the last record before a
            // wakeup is within a tick of min_vruntime at it.
            Assert.True(watch.Gaps.Min() <= c.tickMs * 1_000_000L, $"{c}: no wakeup was placed on the floor (closest {watch.Gaps.Min()} ns above it)");
        }, iter: 12, threads: 1);
    }

    /// <summary>Each time a sleeper (workload tasks 0 to n - 1) is back on the queue, its vruntime against the floor.</summary>
    private sealed class WakeWatch(int sleepers) : ITraceSink
    {
        private static readonly long Credit = SchedConstants.CfsLatencyNs * SchedConstants.TunableFactor(1) / 2;
        private readonly bool[] _asleep = new bool[sleepers];
        private long _hogAlone = long.MinValue;

        public Simulator? Sim { get; set; }

        public List<long> Gaps { get; } = [];

        public void Write(in TraceRecord record)
        {
            if (Sim is null)
            {
                return;
            }

            var s = Sim.Scheduler;
            var alone = true;
            for (var i = 0; i < sleepers; i++)
            {
                var t = Sim.Machine.WorkloadTask(i);
                if (!s.Queued(t))
                {
                    _asleep[i] = true;
                    continue;
                }

                alone = false;
                if (_asleep[i] && _hogAlone != long.MinValue)
                {
                    Gaps.Add(s.Vruntime(t) - (_hogAlone - Credit));
                }

                _asleep[i] = false;
            }

            if (alone)
            {
                _hogAlone = s.Vruntime(Sim.Machine.WorkloadTask(sleepers));
            }
        }

        public void Complete(long endTimeNs)
        {
        }
    }
}
