using Vexlab.Model.Guest;
using Vexlab.Scenarios.Documents;
using Vexlab.Simulation.Driver;
using Vexlab.Simulation.Scenarios;
using Vexlab.Simulation.Scheduling;
using Vexlab.Simulation.Tracing;

namespace Vexlab.Simulation.Tests.Laws;

/// <summary>
/// A task killed by a signal leaves its run queue as it dies, as one that exits does: do_exit ends in
/// do_task_dead -> __schedule, which dequeues it (dequeue_task, TASK_DEAD) before pick_next_task, so
/// the pick that replaces it weighs only the tasks that are left.
/// </summary>
public sealed class KilledTaskLawTests
{
    /// <summary>
    /// One vCPU: four tasks read a DAX file that the host truncates at 47 ms, each then takes SIGBUS at
    /// its next touch; three CPU-bound tasks of nice 0, -5 and 5 run beside them and survive.
    /// </summary>
    private const string KilledBesideSurvivors = """
        name: killed-beside-survivors
        duration: 100ms
        guest:
          vcpus: 1
          memory: 32MiB
        regions:
          - name: file
            size: 1MiB
            backing: dax
            absent: 0%
        tasks:
          - name: victim
            count: 4
            loop: touch file random; compute 50
          - name: a
            loop: compute 100
          - name: b
            nice: -5
            loop: compute 100
          - name: c
            nice: 5
            loop: compute 100
        host:
          events:
            - kind: truncate
              at: 47ms
        """;

    private static readonly int[] Nice = [0, 0, 0, 0, 0, -5, 5];

    [Theory]
    [InlineData("ve")]
    [InlineData("kvm-pf-int[host.apf.report_errors=true]")]
    public void ThePickAfterAKill_IsPickEevdfAmongTheSurvivors(string protocol)
    {
        // At each kill the law computes 6.6's pick_eevdf over the tasks left on the queue: the
        // eligible ones (entity_eligible: (vruntime - base) x load <= the load-weighted sum, exactly),
        // the earliest virtual deadline among them, the first in task order on a tie. The task that
        // runs next must be that one. The dead task used to stay queued until the end of the step
        // that killed it, so its vruntime still moved avg_vruntime at the pick: at the last kill,
        // 64 ms in, the dead task's vruntime 1.1 ms below the queue's average pulled the average
        // under b's (nice -5, the earliest deadline) and a ran instead.
        var entry = Overrides.ParseProtocols(protocol)[0];
        var run = ScenarioRunner.Prepare(ScenarioDocument.Parse(KilledBesideSurvivors, "law.yaml"), "law.yaml", entry, Overrides.ParseSets([]), [entry.Protocol]);
        var watch = new KillWatch();
        var sim = new Simulator(run.Setup, watch);
        watch.Sim = sim;
        var result = sim.Run();

        Assert.Equal(4, result.Task("victim").Signals);
        Assert.Equal(4, watch.Kills);
        Assert.True(watch.Picks.Count >= 3, $"only {watch.Picks.Count} kills were followed by a survivor's pass");
        foreach (var (at, dead, expected, ran) in watch.Picks)
        {
            Assert.True(expected == ran, $"after task {dead} died at {at} ns, pick_eevdf among the survivors picks task {expected}, but task {ran} ran");
        }

        // From the last kill on, the three survivors split the vCPU by weight (1024 : 3121 : 335),
        // each within a few scheduling quanta (4 ms ticks, 0.75 ms requests) of its fluid share.
        double total = SchedConstants.WeightOf(0) + SchedConstants.WeightOf(-5) + SchedConstants.WeightOf(5);
        var rest = result.SimulatedNs - watch.LastKillNs;
        foreach (var (name, nice) in new[] { ("a", 0), ("b", -5), ("c", 5) })
        {
            var fair = rest * SchedConstants.WeightOf(nice) / total;
            var ran = watch.CpuAfterLastKill(sim, name switch { "a" => 4, "b" => 5, _ => 6 });
            Assert.True(Math.Abs(ran - fair) <= 3 * 4_750_000, $"{name} ran {ran} ns after the last kill against a fair {fair:F0}");
        }
    }

    /// <summary>At each kill (its fault ends with a signal), what pick_eevdf over the survivors says; then who ran.</summary>
    private sealed class KillWatch : ITraceSink
    {
        private readonly Dictionary<int, (long At, int Dead, int Expected)> _pending = [];
        private readonly long[] _cpuAtLastKill = new long[16];

        public Simulator? Sim { get; set; }

        public int Kills { get; private set; }

        public long LastKillNs { get; private set; }

        public List<(long At, int Dead, int Expected, int Ran)> Picks { get; } = [];

        public long CpuAfterLastKill(Simulator sim, int workload) => sim.Scheduler.CpuNs(sim.Machine.WorkloadTask(workload)) - _cpuAtLastKill[workload];

        public void Write(in TraceRecord record)
        {
            if (Sim is null)
            {
                return;
            }

            if (record.Kind == TraceKind.FaultEnd && record.Value == 2)
            {
                Kills++;
                LastKillNs = record.StepNs;
                var m = Sim.Machine;
                var s = Sim.Scheduler;
                var v = (int)m.Task(record.Task).Vcpu;
                for (var i = 0; i < Nice.Length; i++)
                {
                    _cpuAtLastKill[i] = s.CpuNs(m.WorkloadTask(i));
                }

                _pending[v] = (record.StepNs, record.Task, PickAmongSurvivors(record.Task, v));
            }
            else if (record.Kind == TraceKind.TaskWork && _pending.Remove(record.Vcpu, out var p))
            {
                Picks.Add((p.At, p.Dead, p.Expected, record.Task));
            }
        }

        public void Complete(long endTimeNs)
        {
        }

        private int PickAmongSurvivors(int dead, int v)
        {
            var m = Sim!.Machine;
            var s = Sim.Scheduler;
            var left = new List<int>();
            for (var i = 0; i < Nice.Length; i++)
            {
                var t = m.WorkloadTask(i);
                if (t != dead && m.Task(t).Vcpu == v && s.Queued(t) && m.Task(t).Status is TaskPhase.Runnable or TaskPhase.Running)
                {
                    left.Add(t);
                }
            }

            long sum = 0, load = 0;
            var origin = s.Vruntime(left[0]);
            foreach (var t in left)
            {
                var w = SchedConstants.WeightOf(Nice[t - m.WorkloadTask(0)]);
                sum += (s.Vruntime(t) - origin) * w;
                load += w;
            }

            var best = -1;
            foreach (var t in left)
            {
                if ((s.Vruntime(t) - origin) * load <= sum && (best < 0 || s.Deadline(t) < s.Deadline(best)))
                {
                    best = t;
                }
            }

            return best;
        }
    }
}
