namespace Vexlab.Simulation.Tests.Laws;

/// <summary>
/// Reclaim's CLOCK gives a referenced page a second chance (shrink_folio_list -> folio_check_references: a page the
/// guest touched since the hand last passed is kept and its referenced bit cleared). A hot set that fits in host
/// memory beside a cold sweep stays resident however far the sweep streams.
/// </summary>
public sealed class ClockSecondChanceLawTests
{
    /// <summary>Pages of the hot region.</summary>
    private const int Hot = 256;

    /// <summary>Pages the cold sweep touches: 64 passes of 64 over a region of 2,048.</summary>
    private const int Cold = 64 * 64;

    /// <summary>
    /// Two vCPUs under a 1,024-page limit, every page host-absent at the start and one page a swap-in (page_cluster 0).
    /// vCPU 0 touches a 256-page hot region round and round, 64 pages and 100 us of compute a pass, so each hot page
    /// is touched again every half millisecond; vCPU 1 sweeps a 2,048-page cold region twice, twice the limit, so
    /// every cold touch is a swap-in and the hand turns over the resident pages every thousand or so of them.
    /// </summary>
    private const string HotBesideCold = """
        name: hot-beside-cold
        duration: 5s
        guest:
          tick: 0
          vcpus: 2
          memory: 9MiB
        host:
          hz: 0
          memory_limit: 4MiB
          absent_at_start: 100%
          swap:
            page_cluster: 0
        regions:
          - name: hot
            size: 1MiB
          - name: cold
            size: 8MiB
        tasks:
          - name: hot
            loop: touch hot sequential 64; compute 100us
            iterations: 2000
          - name: cold
            loop: touch cold sequential 64
            iterations: 64
        """;

    [Theory]
    [InlineData("sync", 1)]
    [InlineData("sync", 7)]
    [InlineData("kvm-pf-int", 1)]
    public void AHotSetThatFits_StaysResident_WhileAColdSweepStreamsThrough(string protocol, ulong seed)
    {
        // Every cold touch faults, and every hot page faults at its first touch. After that a hot page is evicted only
        // when the hand finds it unreferenced, which the hot task's touches, far more often than the hand comes round,
        // leave only in CLOCK's degenerate turn: a pass that finds every resident page referenced (the first, after
        // memory fills) clears them all and evicts the first it meets again, some hot pages among them. So the hot set
        // faults at most twice over (sync 64 pages more than once, kvm-pf-int 128, at seed 1), however many times
        // the hand turns. Without the second chance every turn took the hot set with the cold pages: under sync 4,864
        // swap-ins at either seed, 512 more than a hot set that faults once.
        var r = ScenarioRuns.Run(HotBesideCold, protocol, $"seed={seed}");
        Assert.Equal(2000, r.Task("hot").WorkDone);
        Assert.Equal(64, r.Task("cold").WorkDone);
        var memory = r.Reclaim!;
        Assert.True(memory.Evictions > 3 * 1_024, $"{memory.Evictions} evictions: the hand turned fewer than three times");
        Assert.Equal(r.FaultLatency.Count, memory.SwapIns);
        Assert.InRange(memory.SwapIns, Cold + Hot, Cold + (2 * Hot));
    }
}
