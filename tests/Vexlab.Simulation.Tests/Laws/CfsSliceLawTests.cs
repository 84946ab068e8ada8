using CsCheck;
using Vexlab.Simulation.Scheduling;
using Vexlab.Simulation.Tracing;

namespace Vexlab.Simulation.Tests.Laws;

/// <summary>
/// Under CFS a CPU-bound task is not preempted before its weighted share of the period: 5.x
/// check_preempt_tick resched_curr()s when the run since the pick passes sched_slice (the period x
/// w / the queue's load), or, past sysctl_sched_min_granularity, when the task's vruntime is more
/// than that slice ahead of the leftmost's, which it was not when it was picked (it was the leftmost).
/// </summary>
public sealed class CfsSliceLawTests
{
    /// <summary>
    /// 2 to 4 CPU-bound tasks of nice -10 to 10 on one vCPU, a 1 or 4 ms tick: every run but the
    /// first (the vCPU's first task, picked before the run starts) and the last lasts at least
    /// min(slice, max(min_granularity, slice x w / 1024)), the second term the real time the task's
    /// vruntime takes to get a slice ahead. A run is timed from its first pass's end to the next
    /// task's (passes of 20 us, so the floor less 50 us). A slice that weighed every task as nice 0
    /// cut a heavy task's runs to a third, and the share laws, which the vruntime decides, did not
    /// see it. The 500 ms hold at least 3 whole runs, so at least two are checked, and no more can
    /// be asked: nice 10 against nice -10 (weights 110 and 9,548) at a 4 ms tick gives the light
    /// task a whole tick, 37.2 ms of vruntime, which the heavy task takes 347 ms to run off, and
    /// nice 10 against -9 left 3 runs.
    /// </summary>
    [Fact]
    public void ATickNeverEndsARunBeforeItsWeightedSlice()
    {
        var gen =
            from tickMs in Gen.Bool.Select(b => b ? 1 : 4)
            from nices in Gen.Int[-10, 10].Array[2, 4]
            select (tickMs, nices);
        gen.Sample(c =>
        {
            var tasks = string.Concat(c.nices.Select((n, i) => $"\n  - name: t{i}\n    nice: {n}\n    loop: compute 20us"));
            var yaml = $"name: slices\nduration: 500ms\nguest:\n  tick: {c.tickMs}ms\ntasks:{tasks}\n";
            var (_, trace) = ScenarioRuns.RunTraced(yaml, "sync", "guest.sched.policy=cfs");
            double load = c.nices.Sum(n => (double)SchedConstants.WeightOf(n));
            var period = (double)SchedConstants.CfsLatencyNs;
            var runs = new List<(int Task, long Start, long End)>();
            var current = -1;
            long start = 0;
            foreach (var pass in trace.Records.Where(x => x.Kind == TraceKind.TaskWork).OrderBy(x => x.TimeNs))
            {
                if (pass.Task == current)
                {
                    continue;
                }

                if (current >= 0)
                {
                    runs.Add((current, start, pass.TimeNs));
                }

                current = pass.Task;
                start = pass.TimeNs;
            }

            Assert.True(runs.Count >= 3, $"{c}: {runs.Count} runs");
            var first = runs.Min(r => r.Task);
            foreach (var (task, from, to) in runs.Skip(1))
            {
                double w = SchedConstants.WeightOf(c.nices[task - first]);
                var slice = period * w / load;
                var floor = Math.Min(slice, Math.Max(SchedConstants.CfsMinGranularityNs, slice * w / SchedConstants.Nice0Weight));
                Assert.True(to - from >= floor - 50_000, $"{c}: t{task - first} ran {to - from} ns from {from}, its floor {floor:F0}");
            }
        }, iter: 16, threads: 1);
    }
}
