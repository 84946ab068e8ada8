namespace Vexlab.Simulation.Tests.Laws;

/// <summary>
/// The guest page cache of file reads (regions[].file, guest.page_cache): what fits is read from
/// the disk once, an LRU smaller than a sequential scan never hits, and a miss sleeps the reader.
/// </summary>
public sealed class PageCacheLawTests
{
    private static string Reader(string cache, int passes) => $"""
        name: reader
        duration: 2s
        guest:
          page_cache: {cache}
        regions:
          - name: f
            size: 1MiB
            file: true
            backing: lat
        backings:
          - name: lat
            latency: fixed 100us
        tasks:
          - name: r
            loop: read f sequential 16
            iterations: {passes * 16}
        """;

    [Theory]
    [InlineData("sync")]
    [InlineData("kvm-pf")]
    [InlineData("ve")]
    public void AReReadOfAFileThatFits_HitsEveryPage(string protocol)
    {
        // 256 pages read twice: the first sweep misses each page once, the second hits each.
        var r = ScenarioRuns.Run(Reader("0", 2), protocol);
        var cache = r.PageCache!;
        Assert.Equal(32, r.Task("r").WorkDone);
        Assert.Equal(256, cache.Misses);
        Assert.Equal(256, cache.Hits);
        Assert.Equal(0, cache.Evictions);

        // A third and fourth sweep add only hits.
        var again = ScenarioRuns.Run(Reader("0", 4), protocol).PageCache!;
        Assert.Equal(256, again.Misses);
        Assert.Equal(3 * 256, again.Hits);
    }

    [Fact]
    public void AnLruSmallerThanASequentialScan_NeverHits()
    {
        // 256 pages through a 255-page LRU: each page is dropped just before it is read again.
        var cache = ScenarioRuns.Run(Reader("1020KiB", 3), "sync").PageCache!;
        Assert.Equal(0, cache.Hits);
        Assert.Equal(3 * 256, cache.Misses);
        Assert.Equal((3 * 256) - 255, cache.Evictions);
    }

    [Fact]
    public void AMiss_SleepsTheReaderForTheDiskRead()
    {
        // Alone on its vCPU, the reader's misses leave it idle for their 100 us each.
        var r = ScenarioRuns.Run(Reader("0", 2), "sync");
        var misses = r.PageCache!.Misses;
        Assert.InRange(r.VcpuIdleNs, misses * 100_000, r.SimulatedNs);
        Assert.True(r.Task("r").FinishedNs >= misses * 100_000);
        Assert.True(r.Task("r").CpuNs < r.Task("r").FinishedNs - (misses * 100_000) + 1_000);
    }
}
