using Vexlab.Simulation.Metrics;
using Vexlab.Simulation.Tracing;

namespace Vexlab.Simulation.Tests.Laws;

/// <summary>
/// guest.tick_jitter: every vCPU's tick keeps its place on the one grid tick_setup_sched_timer gives every CPU, and
/// comes up to the jitter after it, so which vCPU ticks first at a grid time changes from period to period. Two vCPUs
/// that only compute stay in guest mode and take every tick as a PREEMPTION_TIMER exit.
/// </summary>
public sealed class TickJitterLawTests
{
    [Theory]
    [InlineData("0")]
    [InlineData("1us")]
    [InlineData("3999999ns")]
    public void EachTick_ComesWithinTheJitterAfterItsGridTime_AndTheGridNeverDrifts(string jitter)
    {
        const long period = 4_000_000;
        var bound = jitter == "0" ? 1 : jitter == "1us" ? 1_000 : 3_999_999;
        var (r, trace) = ScenarioRuns.RunTraced(ScenarioRuns.TwoBusyVcpus, "sync", "duration=400ms", "guest.tick_jitter=" + jitter);
        var firsts = new HashSet<int>();
        var perVcpu = new int[2];
        long lastGrid = -1;
        foreach (var x in trace.Records.Where(x => x.Kind == TraceKind.KvmExit && x.ExitReason == ExitReason.PreemptionTimer))
        {
            var grid = x.TimeNs / period * period;
            Assert.InRange(x.TimeNs - grid, 0, bound - 1);
            Assert.Equal(perVcpu[x.Vcpu] + 1, grid / period);
            perVcpu[x.Vcpu]++;
            if (grid != lastGrid)
            {
                firsts.Add(x.Vcpu);
                lastGrid = grid;
            }
        }

        // 400 ms of 4 ms ticks: 99 on each vCPU (the 100th falls at the end), whatever the jitter.
        Assert.Equal([99, 99], perVcpu);
        Assert.Equal(198, r.Counters.Exits[ExitReason.PreemptionTimer]);

        // On the grid vCPU 0 ticks first every period; with jitter each vCPU is first in some.
        Assert.Equal(jitter == "0" ? [0] : [0, 1], firsts.Order().ToArray());
    }
}
