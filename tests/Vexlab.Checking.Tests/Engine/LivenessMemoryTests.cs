using Vexlab.Checking.Engine;

namespace Vexlab.Checking.Tests.Engine;

/// <summary>
/// MaxMemoryBytes bounds the fair-cycle search too: a check whose breadth-first search fits but whose fair-cycle
/// search (<see cref="LivenessChecker.PeakBytes"/> beside what the search still holds) does not leaves liveness
/// undecided, and one byte more runs it, on fewer workers if need be, with the verdict of an unbounded check.
/// </summary>
public sealed class LivenessMemoryTests
{
    private const string DoesNotFit = "liveness incomplete: the fair-cycle search does not fit in MaxMemoryBytes";

    /// <summary>
    /// The frontier on disk, so what the search holds at the end does not depend on the bound; the compact table,
    /// which the liveness phase keeps, so what the breadth-first search needs beyond that is only its last block's
    /// worst case (0.6 MB here), well under the fair-cycle search's arrays (2.4 MB for 64,000 states).
    /// </summary>
    private static CheckerOptions Options(int workers, long maxMemory)
        => new() { Workers = workers, MaxMemoryBytes = maxMemory, FrontierMemoryBytes = 64, Compression = StateCompression.Compact };

    [Theory]
    [InlineData(1, true)]
    [InlineData(1, false)]
    [InlineData(2, true)]
    [InlineData(2, false)]
    public void A_fair_cycle_search_beyond_MaxMemory_leaves_liveness_incomplete(int workers, bool holds)
    {
        var system = new LivenessOnly(new GridSystem(40), holds);
        CheckResult reference = Checker.Run(system, Options(workers, 1L << 30));
        Assert.Equal(holds ? Verdict.Pass : Verdict.Violation, reference.Verdict);
        Assert.DoesNotContain(DoesNotFit, reference.Notes);

        // The bound comes from the estimate of the graph the check stores, on one worker (the least it takes).
        (StateGraph graph, int states) = ParallelComponentsTests.Explore(system, int.MaxValue);
        Assert.Equal(reference.States, states);
        Assert.Equal(reference.Transitions, graph.Edges.Count);
        long search = new LivenessChecker(graph, states, system.FairnessClasses, workers: 1).PeakBytes();
        long held = reference.LivenessHeldBytes;
        Assert.True(held > 0);

        CheckResult tight = Checker.Run(system, Options(workers, held + search - 1));
        Assert.Equal(StopReason.Exhausted, tight.StopReason);
        Assert.Equal(held, tight.LivenessHeldBytes);
        Assert.Equal(Verdict.Incomplete, tight.Verdict);
        Assert.True(tight.LivenessIncomplete);
        Assert.Empty(tight.Violations);
        Assert.Contains(DoesNotFit, tight.Notes);
        Assert.False(tight.Complete);

        CheckResult fits = Checker.Run(system, Options(workers, held + search));
        CheckerTests.AssertSameResult(reference, fits);
        Assert.False(fits.LivenessIncomplete);
        Assert.DoesNotContain(DoesNotFit, fits.Notes);
        if (workers > 1)
        {
            // More workers' scratch does not fit: the search runs on one, and says so.
            Assert.Contains($"liveness: the fair-cycle search ran on 1 of {workers} workers to fit in MaxMemoryBytes", fits.Notes);
        }
    }

    /// <summary>
    /// On one worker the whole search runs on this thread, so what it allocates is measured exactly: Tarjan's
    /// arrays, the component each obligation bit's search keeps (the whole ring, for two bits) and the lasso. The
    /// estimate is at least that, and less than an array of a slot per state more, so an array the search added
    /// without the estimate would fail here.
    /// </summary>
    [Fact]
    public void The_estimate_bounds_what_the_search_on_one_worker_allocates()
    {
        const int states = 100_000;
        StateGraph graph = Ring(states, pending: 0b11);
        var checker = new LivenessChecker(graph, states, fairnessClasses: 0, workers: 1);
        long estimate = checker.PeakBytes();

        long before = GC.GetAllocatedBytesForCurrentThread();
        Lasso? lasso = checker.FindLasso(0);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.NotNull(lasso);
        Assert.Equal(0, lasso.Entry);
        Assert.Equal([1], lasso.Loop);
        Assert.InRange(allocated, 1, estimate);
        Assert.True(estimate - allocated < LivenessChecker.ArrayBytes(states, sizeof(int)), $"estimate {estimate}, allocated {allocated}");
    }

    internal static StateGraph Ring(int states, ulong pending)
    {
        // Each state steps to the next and back to state 0: one component of every state, all alive and pending.
        var graph = new StateGraph(1);
        Span<ulong> obligation = [pending];
        for (int s = 0; s < states; s++)
        {
            graph.BeginState(0, StateGraph.AliveFlag, obligation);
            graph.Edges.Add(StateGraph.PackEdge((s + 1) % states, 0, -1));
            graph.Edges.Add(StateGraph.PackEdge(0, 1, -1));
        }

        return graph;
    }

    /// <summary>
    /// <see cref="GridSystem"/>'s graph without its safety properties, so liveness alone decides the verdict:
    /// "c2-reaches-top" (violated by a fair loop) or, with <paramref name="holds"/>, "c0-reaches-top" (c0 rises
    /// under weak fairness: a loop of c2 alone leaves c0's increment enabled and never taken).
    /// </summary>
    private sealed class LivenessOnly(GridSystem inner, bool holds) : ITransitionSystem
    {
        private readonly int _top = GridTop(inner);

        public int StateSize => inner.StateSize;

        public int MaxActions => inner.MaxActions;

        public IReadOnlyList<string> SafetyProperties => [];

        public IReadOnlyList<string> LivenessProperties => [holds ? "c0-reaches-top" : "c2-reaches-top"];

        public int FairnessClasses => inner.FairnessClasses;

        public void WriteInitialState(Span<byte> state) => inner.WriteInitialState(state);

        public int ListActions(ReadOnlySpan<byte> state, Span<ulong> actions) => inner.ListActions(state, actions);

        public ulong Apply(ReadOnlySpan<byte> state, ulong action, Span<byte> next)
        {
            inner.Apply(state, action, next);
            return 0;
        }

        public ulong PendingObligations(ReadOnlySpan<byte> state, int property)
            => holds ? (GridSystem.Get(state, 0) < _top ? 1UL : 0UL) : inner.PendingObligations(state, property);

        public int FairnessClass(ulong action) => inner.FairnessClass(action);

        public bool IsValidEnd(ReadOnlySpan<byte> state) => inner.IsValidEnd(state);

        public bool IsAlive(ReadOnlySpan<byte> state) => inner.IsAlive(state);

        private static int GridTop(GridSystem grid)
        {
            // The largest counter value: c0's increments from the initial state until it has none.
            var state = new byte[grid.StateSize];
            var next = new byte[grid.StateSize];
            grid.WriteInitialState(state);
            Span<ulong> actions = stackalloc ulong[grid.MaxActions];
            while (grid.ListActions(state, actions) is var n && actions[..n].Contains(0UL))
            {
                grid.Apply(state, 0, next);
                (state, next) = (next, state);
            }

            return GridSystem.Get(state, 0);
        }
    }
}

/// <summary>
/// The estimate against what the searches on several threads allocate, measured over all threads: alone in their
/// collection, so no other test's allocations are counted.
/// </summary>
[Collection(nameof(LivenessMemoryMeasured))]
public sealed class LivenessMemoryMeasured
{
    private const int States = 100_000;

    /// <summary>Two bits on two workers: a search each, each with its own Tarjan arrays, and the lasso on worker 0's.</summary>
    [Fact]
    public void The_estimate_bounds_what_a_search_per_bit_allocates()
    {
        StateGraph graph = LivenessMemoryTests.Ring(States, pending: 0b11);
        var checker = new LivenessChecker(graph, States, fairnessClasses: 0, workers: 2);
        long estimate = checker.PeakBytes();

        long before = GC.GetTotalAllocatedBytes(precise: true);
        Lasso? lasso = checker.FindLasso(0);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.Equal(0, lasso?.Entry);
        Assert.Equal(0, checker.ParallelSearches);
        Assert.InRange(allocated, 2 * LivenessChecker.ArrayBytes(States, sizeof(int)), estimate);
    }

    /// <summary>
    /// One bit on two workers: the parallel decomposition (trimming, then Tarjan on the core: here the whole ring),
    /// which the checker counts apart from the component it keeps.
    /// </summary>
    [Fact]
    public void The_estimate_bounds_what_a_parallel_decomposition_allocates()
    {
        StateGraph graph = LivenessMemoryTests.Ring(States, pending: 1);
        var checker = new LivenessChecker(graph, States, fairnessClasses: 0, workers: 2, parallelMinimum: 0);
        long estimate = LivenessChecker.DecompositionBytes(States, graph.Edges.Count, workers: 2, coloring: false)
            + LivenessChecker.ArrayBytes(States, sizeof(int));

        long before = GC.GetTotalAllocatedBytes(precise: true);
        List<(int Entry, int[] Members)> components = checker.AcceptedComponents(0, 1, judgeFairness: true);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.Equal(States, Assert.Single(components).Members.Length);
        Assert.Equal(1, checker.ParallelSearches);
        Assert.InRange(allocated, 2 * LivenessChecker.ArrayBytes(States, sizeof(int)), estimate);
        Assert.True(checker.PeakBytes() >= estimate);
    }

    /// <summary>
    /// Every pending component, as the symmetric lifting asks, in the worst case for the lists: a component per
    /// state (each with a self-loop), on one thread and decomposed on two.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void The_estimate_bounds_what_collecting_every_pending_component_allocates(int workers)
    {
        var graph = new StateGraph(1);
        Span<ulong> obligation = [1];
        for (int s = 0; s < States; s++)
        {
            graph.BeginState(0, StateGraph.AliveFlag, obligation);
            graph.Edges.Add(StateGraph.PackEdge(s, 0, -1));
            if (s + 1 < States)
            {
                graph.Edges.Add(StateGraph.PackEdge(s + 1, 1, -1));
            }
        }

        var checker = new LivenessChecker(graph, States, fairnessClasses: 0, workers, parallelMinimum: 0);
        long estimate = checker.PeakBytes(allComponents: true);

        long before = GC.GetTotalAllocatedBytes(precise: true);
        List<(int Entry, int[] Members)> components = checker.PendingComponents(0);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.Equal(States, components.Count);
        Assert.InRange(allocated, LivenessChecker.ArrayBytes(States, sizeof(int)), estimate);
    }
}

[CollectionDefinition(nameof(LivenessMemoryMeasured), DisableParallelization = true)]
public sealed class LivenessMemoryMeasuredCollection;
