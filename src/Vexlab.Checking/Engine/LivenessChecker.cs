namespace Vexlab.Checking.Engine;

/// <summary>A liveness counterexample: the BFS path to <see cref="Entry"/>, then <see cref="Loop"/> (action indices) back to it.</summary>
internal sealed record Lasso(int Entry, int[] Loop);

/// <summary>
/// A system whose stored states stand for orbits of states (a quotient under symmetry): a cycle among stored
/// states need not be a cycle of the real machine, so the system searches and lifts its liveness counterexamples
/// itself, from the quotient graph and the BFS paths to its states.
/// </summary>
internal interface IQuotientLiveness
{
    /// <summary>A real lasso of <paramref name="property"/> (action indices of the real machine), or null.</summary>
    Violation? FindLasso(LivenessChecker quotient, int property, Func<int, List<int>> pathTo);
}

/// <summary>
/// Weakly fair cycle detection on the stored state graph. For a property p and an obligation bit j, the graph is
/// restricted to alive states with bit j pending; its strongly connected components are found with an iterative
/// Tarjan. A component is a counterexample iff it has an internal edge and every fairness class enabled in all of
/// its states is taken by an internal edge (under weak fairness a class disabled somewhere is satisfied by a cycle
/// through the whole component). Alive dead ends with a pending obligation are counterexamples too (they stutter).
/// Among all counterexamples of a property the one whose entry state comes first in BFS order is reported.
/// The obligation bits' searches are independent (each restricts the same read-only graph its own way): up to
/// <c>workers</c> of them run at once, each with its own Tarjan arrays, and the results are reduced in bit
/// order, so the lasso is the one a single worker finds. One search is a depth-first walk and stays on one thread.
/// </summary>
internal sealed partial class LivenessChecker
{
    private readonly StateGraph _graph;
    private readonly int _states;
    private readonly ulong _classMask;
    private readonly int _workers;
    private readonly TarjanScratch?[] _scratch;
    private readonly int _parallelMinimum;
    private readonly int _coloringRounds;

    /// <summary>Restrictions of at least this many states are decomposed on several threads when workers are left over.</summary>
    public const int DefaultParallelMinimum = 1 << 16;

    /// <summary>
    /// Workers from which one search runs on several threads. Trimming costs about Tarjan's CPU time when it decides
    /// alone and little more when it leaves a large core for Tarjan, so two threads already gain when the second
    /// core is free (LivenessSearchBenchmarks, docs/checking.md).
    /// </summary>
    public const int ParallelSearchWorkers = 2;

    /// <summary>Coloring rounds of a parallel decomposition before what is left goes to Tarjan.</summary>
    public const int DefaultColoringRounds = 64;

    /// <summary>
    /// Workers from which a parallel decomposition colors what trimming leaves. Coloring (a predecessor index,
    /// propagation, a search per root) took several times Tarjan's CPU time on truncate-busy
    /// (LivenessSearchBenchmarks), so it can pay only with many cores; with fewer, Tarjan takes the trimmed core.
    /// </summary>
    public const int ColoringWorkers = 8;

    private readonly int _parallelFrom;

    /// <param name="graph">The stored state graph.</param>
    /// <param name="states">Its states.</param>
    /// <param name="fairnessClasses">The system's weak fairness classes.</param>
    /// <param name="workers">Threads the searches may use.</param>
    /// <param name="parallelMinimum">Restrictions smaller than this are searched with Tarjan on one thread.</param>
    /// <param name="coloringRounds">Coloring rounds of a parallel search; -1: by <see cref="ColoringWorkers"/>.</param>
    /// <param name="parallelFrom">Workers from which one search runs on several threads.</param>
    public LivenessChecker(
        StateGraph graph,
        int states,
        int fairnessClasses,
        int workers = 1,
        int parallelMinimum = DefaultParallelMinimum,
        int coloringRounds = -1,
        int parallelFrom = ParallelSearchWorkers)
    {
        _parallelMinimum = parallelMinimum;
        _parallelFrom = Math.Max(2, parallelFrom);
        _coloringRounds = coloringRounds >= 0 ? coloringRounds : workers >= ColoringWorkers ? DefaultColoringRounds : 0;
        _graph = graph;
        _states = states;
        _classMask = fairnessClasses >= 64 ? ulong.MaxValue : (1UL << fairnessClasses) - 1;
        _workers = Math.Max(1, workers);
        _scratch = new TarjanScratch?[_workers];
    }

    /// <summary>Tarjan's arrays for one search (about 29 bytes a state).</summary>
    private sealed class TarjanScratch(int states)
    {
        public readonly int[] Index = new int[states];
        public readonly int[] Low = new int[states];
        public readonly bool[] OnStack = new bool[states];
        public readonly int[] Stack = new int[states];
        public readonly int[] CallNode = new int[states];
        public readonly long[] CallEdge = new long[states];
        public readonly int[] Component = new int[states];
        public int ComponentCounter;
    }

    private TarjanScratch Scratch(int worker) => _scratch[worker] ??= new TarjanScratch(_states);

    /// <summary>The stored state graph this checker searches.</summary>
    public StateGraph Graph => _graph;

    /// <summary>The first (BFS order) alive dead end with an obligation of <paramref name="property"/> pending; int.MaxValue if none.</summary>
    public int FirstPendingDeadEnd(int property)
    {
        for (int s = 0; s < _states; s++)
        {
            byte flags = _graph.Flags[s];
            if ((flags & StateGraph.AliveFlag) != 0 && (flags & StateGraph.DeadEndFlag) != 0 && _graph.Obligation(s, property) != 0)
            {
                return s;
            }
        }

        return int.MaxValue;
    }

    /// <summary>
    /// The strongly connected components with an internal edge of the graph restricted to alive states with some
    /// obligation of <paramref name="property"/> pending (any bit: a predicate that does not depend on how the
    /// state's vCPUs and tasks are numbered), fairness not judged; sorted by their smallest state id.
    /// </summary>
    public List<(int Entry, int[] Members)> PendingComponents(int property)
    {
        List<(int Entry, int[] Members)> components = Components(property, ulong.MaxValue, judgeFairness: false);
        components.Sort((a, b) => a.Entry.CompareTo(b.Entry));
        return components;
    }

    public Lasso? FindLasso(int property)
    {
        int bestEntry = int.MaxValue;
        int[]? bestMembers = null;
        ulong bits = 0;
        for (int s = 0; s < _states; s++)
        {
            if ((_graph.Flags[s] & StateGraph.AliveFlag) == 0)
            {
                continue;
            }

            ulong pending = _graph.Obligation(s, property);
            bits |= pending;
            if (pending != 0 && (_graph.Flags[s] & StateGraph.DeadEndFlag) != 0 && s < bestEntry)
            {
                bestEntry = s;
            }
        }

        // Each pending bit's components, searched in parallel; the reduction in bit order keeps the first
        // (lowest bit) of equal entries, as one sequential pass over the bits would.
        var searched = new List<int>();
        for (int bit = 0; bit < 64; bit++)
        {
            if ((bits & (1UL << bit)) != 0)
            {
                searched.Add(bit);
            }
        }

        var found = new (int Entry, int[]? Members)[searched.Count];
        void Search(int worker, int k)
        {
            (int Entry, int[]? Members) best = (int.MaxValue, null);
            foreach ((int entry, int[] members) in FairComponents(Scratch(worker), property, 1UL << searched[k], judgeFairness: true))
            {
                if (entry < best.Entry)
                {
                    best = (entry, members);
                }
            }

            found[k] = best;
        }

        int parallel = Math.Min(_workers, searched.Count);
        if (parallel <= 1 || (searched.Count < _workers && _workers >= _parallelFrom))
        {
            // Fewer bits than workers: one search at a time, each on all of them (or one thread, below parallelFrom).
            for (int k = 0; k < searched.Count; k++)
            {
                (int Entry, int[]? Members) best = (int.MaxValue, null);
                foreach ((int entry, int[] members) in Components(property, 1UL << searched[k], judgeFairness: true))
                {
                    if (entry < best.Entry)
                    {
                        best = (entry, members);
                    }
                }

                found[k] = best;
            }
        }
        else
        {
            int next = -1;
            Parallel.For(0, parallel, new ParallelOptions { MaxDegreeOfParallelism = parallel }, worker =>
            {
                for (int k = Interlocked.Increment(ref next); k < searched.Count; k = Interlocked.Increment(ref next))
                {
                    Search(worker, k);
                }
            });
        }

        foreach ((int entry, int[]? members) in found)
        {
            if (entry < bestEntry)
            {
                bestEntry = entry;
                bestMembers = members;
            }
        }

        if (bestEntry == int.MaxValue)
        {
            return null;
        }

        return bestMembers is null ? new Lasso(bestEntry, []) : new Lasso(bestEntry, BuildLoop(bestEntry, bestMembers));
    }

    /// <summary>Searches that ran on several threads (a test reads it to know the parallel decomposition ran).</summary>
    internal int ParallelSearches => _parallelSearches;

    private int _parallelSearches;

    /// <summary>
    /// The accepted components of the graph restricted to alive states with an obligation of <paramref name="bits"/>
    /// pending, sorted by smallest state id: what one search decides, for comparing decompositions.
    /// </summary>
    internal List<(int Entry, int[] Members)> AcceptedComponents(int property, ulong bits, bool judgeFairness)
    {
        List<(int Entry, int[] Members)> components = Components(property, bits, judgeFairness);
        components.Sort((a, b) => a.Entry.CompareTo(b.Entry));
        return components;
    }

    /// <summary>The accepted components of a restriction: on all workers when it is big enough, else with Tarjan on this thread.</summary>
    private List<(int Entry, int[] Members)> Components(int property, ulong bit, bool judgeFairness)
    {
        if (_workers >= _parallelFrom && ParallelFairComponents(property, bit, judgeFairness) is { } parallel)
        {
            Interlocked.Increment(ref _parallelSearches);
            return parallel;
        }

        return FairComponents(Scratch(0), property, bit, judgeFairness);
    }

    private bool InRestriction(int state, int property, ulong bit)
        => (_graph.Flags[state] & StateGraph.AliveFlag) != 0 && (_graph.Obligation(state, property) & bit) != 0;

    /// <summary>
    /// Accepted components of the graph restricted to alive states with an obligation of <paramref name="bit"/>
    /// pending: their smallest state id and their sorted members.
    /// </summary>
    private List<(int Entry, int[] Members)> FairComponents(TarjanScratch t, int property, ulong bit, bool judgeFairness)
    {
        var accepted = new List<(int, int[])>();
        int[] index = t.Index;
        int[] low = t.Low;
        bool[] onStack = t.OnStack;
        int[] stack = t.Stack;
        int[] callNode = t.CallNode;
        long[] callEdge = t.CallEdge;
        Array.Clear(index);
        int counter = 0;
        int sp = 0;
        for (int root = 0; root < _states; root++)
        {
            if (index[root] != 0 || !InRestriction(root, property, bit))
            {
                continue;
            }

            int csp = 0;
            Push(t, root, ref counter, ref sp, ref csp);
            while (csp > 0)
            {
                int v = callNode[csp - 1];
                long e = callEdge[csp - 1];
                long end = _graph.EdgeEnd(v);
                bool descended = false;
                while (e < end)
                {
                    int w = StateGraph.EdgeTarget(_graph.Edges[e]);
                    e++;
                    if (!InRestriction(w, property, bit))
                    {
                        continue;
                    }

                    if (index[w] == 0)
                    {
                        callEdge[csp - 1] = e;
                        Push(t, w, ref counter, ref sp, ref csp);
                        descended = true;
                        break;
                    }

                    if (onStack[w])
                    {
                        low[v] = Math.Min(low[v], index[w]);
                    }
                }

                if (descended)
                {
                    continue;
                }

                if (low[v] == index[v])
                {
                    int start = sp;
                    do
                    {
                        start--;
                    }
                    while (stack[start] != v);

                    ReadOnlySpan<int> members = stack.AsSpan(start, sp - start);
                    if (Accept(t, members, judgeFairness, out int entry))
                    {
                        int[] sorted = members.ToArray();
                        Array.Sort(sorted);
                        accepted.Add((entry, sorted));
                    }

                    foreach (int m in members)
                    {
                        onStack[m] = false;
                    }

                    sp = start;
                }

                csp--;
                if (csp > 0)
                {
                    int u = callNode[csp - 1];
                    low[u] = Math.Min(low[u], low[v]);
                }
            }
        }

        return accepted;
    }

    private void Push(TarjanScratch t, int v, ref int counter, ref int sp, ref int csp)
    {
        counter++;
        t.Index[v] = counter;
        t.Low[v] = counter;
        t.Stack[sp++] = v;
        t.OnStack[v] = true;
        t.CallNode[csp] = v;
        t.CallEdge[csp] = _graph.EdgeStart[v];
        csp++;
    }

    private bool Accept(TarjanScratch t, ReadOnlySpan<int> members, bool judgeFairness, out int entry)
    {
        int id = ++t.ComponentCounter;
        entry = int.MaxValue;
        foreach (int m in members)
        {
            t.Component[m] = id;
            entry = Math.Min(entry, m);
        }

        ulong enabledEverywhere = _classMask;
        ulong taken = 0;
        bool internalEdge = false;
        foreach (int m in members)
        {
            enabledEverywhere &= _graph.Enabled[m];
            for (long e = _graph.EdgeStart[m], end = _graph.EdgeEnd(m); e < end; e++)
            {
                ulong edge = _graph.Edges[e];
                if (t.Component[StateGraph.EdgeTarget(edge)] == id)
                {
                    internalEdge = true;
                    int c = StateGraph.EdgeClass(edge);
                    if (c >= 0)
                    {
                        taken |= 1UL << c;
                    }
                }
            }
        }

        return internalEdge && (!judgeFairness || (enabledEverywhere & ~taken) == 0);
    }

    /// <summary>
    /// A weakly fair cycle through <paramref name="entry"/> inside the component: for each fairness class, take an
    /// internal edge of it or visit a state where it is disabled, then return to the entry.
    /// </summary>
    private int[] BuildLoop(int entry, int[] members)
    {
        var loop = new List<ulong>();
        ulong enabledEverywhere = _classMask;
        foreach (int m in members)
        {
            enabledEverywhere &= _graph.Enabled[m];
        }

        int current = entry;
        ulong visitedDisabled = ~_graph.Enabled[entry];
        ulong taken = 0;
        for (int c = 0; c < 64; c++)
        {
            ulong bit = 1UL << c;
            if ((_classMask & bit) == 0 || (visitedDisabled & bit) != 0 || (taken & bit) != 0)
            {
                continue;
            }

            List<ulong> path = (enabledEverywhere & bit) == 0
                ? Search(current, members, edge => (_graph.Enabled[StateGraph.EdgeTarget(edge)] & bit) == 0)
                : Search(current, members, edge => StateGraph.EdgeClass(edge) == c);
            foreach (ulong edge in path)
            {
                int target = StateGraph.EdgeTarget(edge);
                visitedDisabled |= ~_graph.Enabled[target];
                if (StateGraph.EdgeClass(edge) >= 0)
                {
                    taken |= 1UL << StateGraph.EdgeClass(edge);
                }

                loop.Add(edge);
                current = target;
            }
        }

        if (current != entry || loop.Count == 0)
        {
            loop.AddRange(Search(current, members, edge => StateGraph.EdgeTarget(edge) == entry));
        }

        var indices = new int[loop.Count];
        for (int i = 0; i < indices.Length; i++)
        {
            indices[i] = StateGraph.EdgeAction(loop[i]);
        }

        return indices;
    }

    /// <summary>Shortest path (at least one edge) inside the component from <paramref name="from"/> ending with an edge that satisfies <paramref name="goal"/>.</summary>
    private List<ulong> Search(int from, int[] members, Func<ulong, bool> goal)
    {
        var previous = new Dictionary<int, (int Node, ulong Edge)>();
        var queue = new Queue<int>();
        queue.Enqueue(from);
        var seen = new HashSet<int> { from };
        while (queue.Count > 0)
        {
            int v = queue.Dequeue();
            for (long e = _graph.EdgeStart[v], end = _graph.EdgeEnd(v); e < end; e++)
            {
                ulong edge = _graph.Edges[e];
                int w = StateGraph.EdgeTarget(edge);
                if (Array.BinarySearch(members, w) < 0)
                {
                    continue;
                }

                if (goal(edge))
                {
                    var path = new List<ulong> { edge };
                    int node = v;
                    while (node != from)
                    {
                        (int prevNode, ulong prevEdge) = previous[node];
                        path.Add(prevEdge);
                        node = prevNode;
                    }

                    path.Reverse();
                    return path;
                }

                if (seen.Add(w))
                {
                    previous[w] = (v, edge);
                    queue.Enqueue(w);
                }
            }
        }

        throw new InvalidOperationException("No path inside a strongly connected component: the state graph is inconsistent.");
    }
}
