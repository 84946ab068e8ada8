namespace Vexlab.Simulation.Tests.Laws;

/// <summary>
/// The host under memory pressure (host.reclaim.*, host.swap.*): dirty pages are written to swap
/// on the device the swap-ins use, kswapd keeps free memory between the watermarks, and swap
/// readahead reads a page's cluster with it.
/// </summary>
public sealed class ReclaimLawTests
{
    private static string Pressure(string access, string extra = "") => $"""
        name: pressure
        duration: 1s
        guest:
          memory: 8MiB
        host:
          memory_limit: 4MiB
          swap:
            queue_depth: 1
        {extra}
        regions:
          - name: heap
            size: 8MiB
            absent: 0.5
        tasks:
          - name: mem
            loop: touch heap random {access}
        """;

    [Theory]
    [InlineData("sync")]
    [InlineData("kvm-pf")]
    [InlineData("ve")]
    public void AWriteHeavyTask_SwapsOut_AndItsSwapInsAreSlower(string protocol)
    {
        var read = ScenarioRuns.Run(Pressure("load"), protocol);
        var write = ScenarioRuns.Run(Pressure("store"), protocol);

        // Pages written since they came in must be written before their frame is reused; the
        // writes queue in the same device as the swap-ins and delay them.
        var readMemory = read.Reclaim!;
        var writeMemory = write.Reclaim!;
        Assert.True(writeMemory.SwapOuts > 2 * readMemory.SwapOuts, $"{writeMemory.SwapOuts} vs {readMemory.SwapOuts}");
        Assert.Equal(writeMemory.SwapOuts, write.SwapDevice!.Writes);
        Assert.True(write.FaultLatency.Mean > read.FaultLatency.Mean * 1.2, $"{write.FaultLatency.Mean} vs {read.FaultLatency.Mean}");
        Assert.True(write.SwapDevice.BusyNs > read.SwapDevice!.BusyNs);
        Assert.True(write.WorkDone < read.WorkDone);
    }

    [Fact]
    public void ReadOnlyPages_AreWrittenOnceAtMost()
    {
        // A clean page keeps its copy on swap: only the pages resident at start, which have no
        // copy, are ever written (each once).
        var r = ScenarioRuns.Run(Pressure("load"), "sync");
        Assert.InRange(r.Reclaim!.SwapOuts, 1, 1024);
        Assert.True(r.Reclaim.SwapIns > 1024);
    }

    [Theory]
    [InlineData("load")]
    [InlineData("store")]
    public void ResidentMemory_NeverExceedsTheLimit_AndKswapdDoesMostOfTheWork(string access)
    {
        var r = ScenarioRuns.Run(Pressure(access), "sync");
        var memory = r.Reclaim!;
        Assert.InRange(memory.ResidentPages, 1, 1024);
        Assert.True(memory.MinWatermark > 0 && memory.MinWatermark < memory.LowWatermark && memory.LowWatermark < memory.HighWatermark);
        Assert.True(memory.KswapdWakeups > 0);
        Assert.True(memory.KswapdReclaimed > memory.DirectReclaimed, $"kswapd {memory.KswapdReclaimed}, direct {memory.DirectReclaimed}");
        Assert.Equal(memory.Evictions, memory.KswapdReclaimed + memory.DirectReclaimed);
    }

    [Fact]
    public void WithoutKswapdHeadroom_EveryFaultReclaimsDirectly()
    {
        // min = low = high = half the limit: kswapd never gets ahead, the faulting thread reclaims.
        var r = ScenarioRuns.Run(Pressure("store", "  reclaim:\n    min_free: 2MiB\n    watermark_scale_factor: 1"), "sync");
        var normal = ScenarioRuns.Run(Pressure("store"), "sync");
        Assert.True(r.Reclaim!.DirectReclaims > normal.Reclaim!.DirectReclaims);
        Assert.True(r.Reclaim.DirectReclaimNs > normal.Reclaim.DirectReclaimNs);
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(2, 4)]
    [InlineData(3, 8)]
    public void SwapReadahead_ReadsTheCluster(int pageCluster, int cluster)
    {
        // A sequential sweep over pages all on swap: each swap-in brings its aligned cluster, so
        // the faults fall to one in 2^page_cluster.
        const string Yaml = """
            name: sweep
            duration: 200ms
            host:
              memory_limit: 16MiB
            regions:
              - name: heap
                size: 4MiB
                absent: 1.0
            tasks:
              - name: s
                loop: touch heap sequential 64
                iterations: 16
            """;
        var r = ScenarioRuns.Run(Yaml, "sync", $"host.swap.page_cluster={pageCluster}");
        Assert.Equal(1024 / cluster, r.FaultLatency.Count);
        Assert.Equal(1024 / cluster, r.Reclaim!.SwapIns);
        Assert.Equal(1024 - (1024 / cluster), r.Reclaim.ReadaheadPages);
    }
}
