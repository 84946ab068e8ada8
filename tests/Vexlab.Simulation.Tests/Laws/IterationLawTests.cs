namespace Vexlab.Simulation.Tests.Laws;

/// <summary>
/// Counted loops (tasks[].iterations): any count runs without unrolling, the task exits after
/// exactly that many passes, and its completion time follows from its share of the vCPU.
/// </summary>
public sealed class IterationLawTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(1_000)]
    [InlineData(300_000)]
    public void ACountedTask_DoesExactlyItsIterations_AndFinishesAfterItsWork(int iterations)
    {
        var yaml = $"""
            name: counted
            duration: 10s
            tasks:
              - name: job
                iterations: {iterations}
                loop: compute 10us
            """;
        var r = ScenarioRuns.Run(yaml, "sync");
        var job = r.Task("job");
        Assert.Equal(iterations, job.WorkDone);
        Assert.True(job.FinishedNs >= iterations * 10_000L, $"finished at {job.FinishedNs}");

        // Alone on its vCPU only ticks and context switches come between passes.
        Assert.True(job.FinishedNs <= iterations * 10_000L * 1.02 + 100_000, $"finished at {job.FinishedNs}");
        Assert.Equal(job.FinishedNs, job.CpuNs, 0.02 * job.FinishedNs);
    }

    [Theory]
    [InlineData("eevdf")]
    [InlineData("cfs")]
    public void BesideAComputeTask_ACountedTaskTakesTwiceAsLong(string policy)
    {
        // Fair share 1/2: N passes of C finish near 2 N C.
        var yaml = """
            name: counted-beside
            duration: 2s
            tasks:
              - name: job
                iterations: 20000
                loop: compute 20us
              - name: hog
                loop: compute 1ms
            """;
        var r = ScenarioRuns.Run(yaml, "sync", "guest.sched.policy=" + policy);
        var job = r.Task("job");
        Assert.Equal(20_000, job.WorkDone);
        Assert.InRange(job.FinishedNs, 2 * 20_000 * 20_000L * 0.95, 2 * 20_000 * 20_000L * 1.05);
    }
}
