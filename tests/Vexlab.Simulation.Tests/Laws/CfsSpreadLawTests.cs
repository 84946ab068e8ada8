using CsCheck;
using Vexlab.Simulation.Driver;
using Vexlab.Simulation.Scheduling;
using Vexlab.Simulation.Tracing;

namespace Vexlab.Simulation.Tests.Laws;

/// <summary>
/// Under CFS the nice-0 CPU-bound tasks on one queue stay within a period and a tick of each other
/// in vruntime: the leftmost is picked, and check_preempt_tick (5.x) ends a run once it passes the
/// task's ideal slice or gets more than that ahead of the leftmost, at the next tick. A task the
/// balancer moves keeps its place: dequeue_entity subtracts the old queue's min_vruntime and
/// enqueue_entity adds the new one's, so the move does not widen the spread.
/// </summary>
public sealed class CfsSpreadLawTests
{
    /// <summary>
    /// One hog more than a multiple of the vCPUs (3, 5, 4 or 7 nice-0 hogs on 2 or 3 vCPUs), so the balancer moves them,, a 1 or 4 ms tick, over a second of moves. A move that
    /// subtracted the new queue's min_vruntime and added the old one's put the task twice the
    /// queues' distance off: the balance laws, which are EEVDF's, did not see it.
    /// </summary>
    [Fact]
    public void QueuedHogsStayWithinAPeriodAndATick_AcrossMoves()
    {
        var gen =
            from vcpus in Gen.Int[2, 3]
            from twice in Gen.Bool
            from tickMs in Gen.Bool.Select(b => b ? 1 : 4)
            select (vcpus, tasks: (twice ? 2 * vcpus : vcpus) + 1, tickMs);
        gen.Sample(c =>
        {
            var names = string.Concat(Enumerable.Range(0, c.tasks).Select(i => $"\n  - name: t{i}\n    loop: compute 10"));
            var yaml = $"name: spread\nduration: 1s\nguest:\n  vcpus: {c.vcpus}\n  tick: {c.tickMs}ms\ntasks:{names}\n";
            var watch = new SpreadWatch(c.vcpus, c.tasks);
            var sim = new Simulator(ScenarioRuns.Prepare(yaml, "sync", ["guest.sched.policy=cfs"]).Setup, watch);
            watch.Sim = sim;
            var r = sim.Run();
            Assert.True(r.Tasks.Sum(t => t.Migrations) > 0, $"{c}: no task moved");

            // sched_latency scaled by the vCPUs (update_sysctl); at most 8 tasks, so the period is the latency.
            var bound = (SchedConstants.CfsLatencyNs * SchedConstants.TunableFactor(c.vcpus)) + (c.tickMs * 1_000_000L);
            Assert.True(watch.Worst <= bound, $"{c}: {watch.WorstAt}, bound {bound} ns");
        }, iter: 8, threads: 1);
    }

    /// <summary>At every trace record, the widest spread of vruntimes among each vCPU's queued tasks.</summary>
    private sealed class SpreadWatch(int vcpus, int tasks) : ITraceSink
    {
        public Simulator? Sim { get; set; }

        public long Worst { get; private set; }

        public string WorstAt { get; private set; } = "";

        public void Write(in TraceRecord record)
        {
            if (Sim is null)
            {
                return;
            }

            var m = Sim.Machine;
            var s = Sim.Scheduler;
            for (var v = 0; v < vcpus; v++)
            {
                long lo = long.MaxValue, hi = long.MinValue;
                for (var i = 0; i < tasks; i++)
                {
                    var t = m.WorkloadTask(i);
                    if (m.Task(t).Vcpu == v && s.Queued(t))
                    {
                        lo = Math.Min(lo, s.Vruntime(t));
                        hi = Math.Max(hi, s.Vruntime(t));
                    }
                }

                if (hi - lo > Worst && lo != long.MaxValue)
                {
                    Worst = hi - lo;
                    WorstAt = $"at {record.StepNs} ns vCPU {v}'s queued tasks were {Worst} ns of vruntime apart";
                }
            }
        }

        public void Complete(long endTimeNs)
        {
        }
    }
}
