using CsCheck;

namespace Vexlab.Simulation.Tests.Laws;

/// <summary>
/// A compute op is a span of guest time that interrupts cut at any instant: its granularity must
/// not change what other tasks get, and longer spans must not cost more events.
/// </summary>
public sealed class ComputeSpanLawTests
{
    private static string Faulting(string compute, string latency) => $"""
        name: faulting
        duration: 500ms
        host:
          memory_limit: 4KiB
          latency: {latency}
        regions:
          - name: heap
            size: 64MiB
            absent: 1.0
        tasks:
          - name: mem
            loop: touch heap random
          - name: cpu
            loop: compute {compute}
        """;

    [Fact]
    public void EventsPerSimulatedSecond_DoNotGrowWithComputeLength()
    {
        long previous = long.MaxValue;
        foreach (var compute in new[] { "1us", "100us", "10ms", "1s" })
        {
            var yaml = ScenarioRuns.TwoComputeTasks(0, 0).Replace("compute 10", "compute " + compute, StringComparison.Ordinal);
            var events = ScenarioRuns.Run(yaml, "sync").Events;
            Assert.True(events <= previous, $"compute {compute}: {events} events, more than {previous} for a shorter span");
            previous = events;
        }

        // One span per tick at most, and a handful of events per tick.
        Assert.True(previous < 20 * 250, $"{previous} events for 1 s of 1 s spans at a 4 ms tick");
    }

    [Fact]
    public void TicksCutLongSpans_SoTwoTasksStillShare()
    {
        var yaml = ScenarioRuns.TwoComputeTasks(0, 0).Replace("compute 10", "compute 1s", StringComparison.Ordinal);
        var r = ScenarioRuns.Run(yaml, "sync", "duration=3s");
        Assert.InRange(r.Task("a").Share, 0.48, 0.52);
    }

    [Theory]
    [InlineData("kvm-pf-int")]
    [InlineData("ve")]
    [InlineData("sync")]
    public void ComputeGranularity_DoesNotChangeTheFaultingTasksWork(string protocol)
    {
        // The page-ready interrupt cuts the compute span wherever it lands.
        var fine = ScenarioRuns.Run(Faulting("1", "10us"), protocol).Task("mem").WorkDone;
        foreach (var coarse in new[] { "100", "10ms" })
        {
            var work = ScenarioRuns.Run(Faulting(coarse, "10us"), protocol).Task("mem").WorkDone;
            Assert.InRange(work, fine * 0.97, fine * 1.03);
        }
    }

    /// <summary>
    /// The bound: with two tasks, whatever a protocol does, the compute task cannot get more than its
    /// whole vCPU, so its work under the protocol over its work under sync (a fair half) stays at or
    /// below 1 / (1/2) = 2.0, plus 5%.
    /// </summary>
    [Fact]
    public void ComputeTaskGain_IsBoundedByItsFairShare()
    {
        string[] protocols = ["kvm-halt", "kvm-pf", "kvm-pf-int", "ve"];
        var gen =
            from p in Gen.Int[0, protocols.Length - 1]
            from exp in Gen.Double[3.0, 7.0]
            select (Protocol: protocols[p], LatencyNs: (long)Math.Pow(10, exp));
        gen.Sample(c =>
        {
            var latency = c.LatencyNs + "ns";
            var baseline = ScenarioRuns.Run(Faulting("100", latency), "sync").Task("cpu").WorkDone;
            var work = ScenarioRuns.Run(Faulting("100", latency), c.Protocol).Task("cpu").WorkDone;
            Assert.True(work <= baseline * 2.0 * 1.05, $"{c.Protocol} at {latency}: {work} against sync's {baseline}");
        }, iter: 10, threads: 1);
    }
}
