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

    /// <summary>Tarjan's arrays for one search (about 29 bytes a state), reused by the lasso's searches.</summary>
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

        /// <summary>The arrays for <see cref="StrongComponents"/>: components are labeled in <see cref="Component"/>.</summary>
        public TarjanArrays Arrays => new(Index, Low, OnStack, Stack, CallNode, CallEdge, Component);

        /// <summary>The last mark of <see cref="LivenessChecker.Search"/> in <see cref="Index"/>: negative, so never a Tarjan index.</summary>
        public int SearchMark;

        /// <summary>The bytes of the arrays above (and the object): what <see cref="PeakBytes"/> counts for one scratch.</summary>
        public static long Bytes(long states)
            => (5 * ArrayBytes(states, sizeof(int))) + ArrayBytes(states, sizeof(bool)) + ArrayBytes(states, sizeof(long)) + SmallObjectBytes;
    }

    private TarjanScratch Scratch(int worker) => _scratch[worker] ??= new TarjanScratch(_states);

    /// <summary>Bytes of an array object's header on a 64-bit runtime (method table, sync block, length).</summary>
    internal const int ArrayHeaderBytes = 24;

    /// <summary>Bytes counted for a small object (a list, a closure, a scratch object) or a list's first array.</summary>
    private const int SmallObjectBytes = 128;

    /// <summary>
    /// Bytes counted once a search for what does not grow with the graph: the bits' list, result and reduction
    /// arrays, the task library's state of a parallel loop.
    /// </summary>
    private const int FixedBytes = 64 << 10;

    /// <summary>Bytes of an array of <paramref name="length"/> elements of <paramref name="elementBytes"/> on the heap.</summary>
    internal static long ArrayBytes(long length, int elementBytes) => ArrayHeaderBytes + (((length * elementBytes) + 7) & ~7L);

    /// <summary>
    /// An upper bound of the bytes the searches of this checker allocate and hold at once, from the graph's states
    /// and edges and the path its workers choose, before anything is allocated: Tarjan's scratch for each worker
    /// that searches an obligation bit of its own, or one search at a time (worker 0's scratch, or the parallel
    /// decomposition's arrays, which it hands that scratch back for), and the components kept. The lasso's
    /// searches reuse worker 0's scratch; the lasso's loop itself (a path per fairness class at most, as a
    /// counterexample's stem is) is not counted.
    /// </summary>
    /// <param name="allComponents">
    /// The caller calls <see cref="PendingComponents"/>, which keeps every pending component (the symmetric
    /// lifting), and not <see cref="FindLasso"/>, which searches the bits and keeps the best of each search.
    /// </param>
    public long PeakBytes(bool allComponents = false)
    {
        long states = _states;
        long edges = _graph.Edges.Count;
        long scratch = TarjanScratch.Bytes(states);

        // One search at a time: Tarjan's scratch, or a decomposition, which starts beside the scratch (the array
        // that counts the restriction) and then drops it.
        long oneSearch = _workers >= _parallelFrom
            ? Math.Max(scratch + ArrayBytes(states, sizeof(int)), Decomposition.PeakBytes(states, edges, _workers, _coloringRounds > 0))
            : scratch;
        if (allComponents)
        {
            return oneSearch + AllComponentsBytes(states, edges) + FixedBytes;
        }

        // FindLasso keeps the best component over the bits and the best of the search in progress (the components
        // one search collects are disjoint): two arrays of at most a state each, per worker that searches bits.
        long kept = 2 * (ArrayBytes(states, sizeof(int)) + ArrayHeaderBytes);
        int bitWorkers = Math.Min(_workers, 64);
        long perBit = bitWorkers >= 2 ? bitWorkers * (scratch + kept) : 0;
        return Math.Max(perBit, oneSearch + kept) + FixedBytes;
    }

    /// <summary>
    /// Every component of a restriction with an internal edge: at most one per state and one per edge, their
    /// members disjoint, each an array and an entry of a list (which may grow to twice its entries, and a
    /// parallel decomposition gathers per-thread lists into one).
    /// </summary>
    private static long AllComponentsBytes(long states, long edges)
    {
        long components = Math.Min(states, edges);
        const int entryBytes = 16;
        return ArrayBytes(states, sizeof(int)) + (components * (ArrayHeaderBytes + 8 + (8 * entryBytes))) + (4 * SmallObjectBytes);
    }

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
        List<(int Entry, int[] Members)> components = Components(property, ulong.MaxValue, judgeFairness: false, bestOnly: false);
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
        // (lowest bit) of equal entries, as one sequential pass over the bits would. Each search keeps only its best
        // component, and the best over the bits is kept as they finish, so what is held does not grow with the bits.
        var searched = new List<int>();
        for (int bit = 0; bit < 64; bit++)
        {
            if ((bits & (1UL << bit)) != 0)
            {
                searched.Add(bit);
            }
        }

        int parallel = Math.Min(_workers, searched.Count);
        if (parallel <= 1 || (searched.Count < _workers && _workers >= _parallelFrom))
        {
            // Fewer bits than workers: one search at a time, each on all of them (or one thread, below parallelFrom).
            for (int k = 0; k < searched.Count; k++)
            {
                foreach ((int entry, int[] members) in Components(property, 1UL << searched[k], judgeFairness: true, bestOnly: true))
                {
                    if (entry < bestEntry)
                    {
                        bestEntry = entry;
                        bestMembers = members;
                    }
                }
            }
        }
        else
        {
            var best = new (int Entry, int K, int[]? Members)[parallel];
            int next = -1;
            Parallel.For(0, parallel, new ParallelOptions { MaxDegreeOfParallelism = parallel }, worker =>
            {
                (int Entry, int K, int[]? Members) mine = (int.MaxValue, int.MaxValue, null);
                for (int k = Interlocked.Increment(ref next); k < searched.Count; k = Interlocked.Increment(ref next))
                {
                    foreach ((int entry, int[] members) in FairComponents(Scratch(worker), property, 1UL << searched[k], judgeFairness: true, bestOnly: true))
                    {
                        if (entry < mine.Entry || (entry == mine.Entry && k < mine.K))
                        {
                            mine = (entry, k, members);
                        }
                    }
                }

                best[worker] = mine;
            });

            // Workers take bits in no fixed order: the smallest entry, then the lowest bit (k runs over the bits in
            // order), is what one pass finds.
            (int Entry, int K, int[]? Members) found = (int.MaxValue, int.MaxValue, null);
            foreach ((int entry, int k, int[]? members) in best)
            {
                if (entry < found.Entry || (entry == found.Entry && k < found.K))
                {
                    found = (entry, k, members);
                }
            }

            if (found.Entry < bestEntry)
            {
                bestEntry = found.Entry;
                bestMembers = found.Members;
            }

            // Only worker 0's scratch outlives the bits (the lasso's searches use it): PeakBytes counts the others once.
            for (int worker = 1; worker < _scratch.Length; worker++)
            {
                _scratch[worker] = null;
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
        List<(int Entry, int[] Members)> components = Components(property, bits, judgeFairness, bestOnly: false);
        components.Sort((a, b) => a.Entry.CompareTo(b.Entry));
        return components;
    }

    /// <summary>
    /// The accepted components of a restriction (with <paramref name="bestOnly"/>, the one with the smallest state
    /// id): on all workers when it is big enough, else with Tarjan on this thread.
    /// </summary>
    private List<(int Entry, int[] Members)> Components(int property, ulong bit, bool judgeFairness, bool bestOnly)
    {
        if (_workers >= _parallelFrom && ParallelFairComponents(property, bit, judgeFairness, bestOnly) is { } parallel)
        {
            Interlocked.Increment(ref _parallelSearches);
            return parallel;
        }

        return FairComponents(Scratch(0), property, bit, judgeFairness, bestOnly);
    }

    /// <summary>Adds an accepted component to <paramref name="accepted"/>; with <paramref name="bestOnly"/> keeps only the one with the smallest state id.</summary>
    private static void Keep(List<(int Entry, int[] Members)> accepted, int entry, int[] members, bool bestOnly)
    {
        if (!bestOnly || accepted.Count == 0)
        {
            accepted.Add((entry, members));
        }
        else if (entry < accepted[0].Entry)
        {
            accepted[0] = (entry, members);
        }
    }

    private bool InRestriction(int state, int property, ulong bit)
        => (_graph.Flags[state] & StateGraph.AliveFlag) != 0 && (_graph.Obligation(state, property) & bit) != 0;

    /// <summary>
    /// Accepted components of the graph restricted to alive states with an obligation of <paramref name="bit"/>
    /// pending: their smallest state id and their sorted members (with <paramref name="bestOnly"/>, the one with
    /// the smallest state id).
    /// </summary>
    private List<(int Entry, int[] Members)> FairComponents(TarjanScratch t, int property, ulong bit, bool judgeFairness, bool bestOnly)
    {
        var accepted = new List<(int Entry, int[] Members)>();
        Array.Clear(t.Index);
        StrongComponents(new PendingStates(this, property, bit), t.Arrays, ref t.ComponentCounter, judgeFairness, bestOnly, accepted);
        return accepted;
    }

    /// <summary>The states a Tarjan walk may enter, and those it starts from (in this order).</summary>
    private interface IRestriction
    {
        int Roots { get; }

        int Root(int i);

        bool Contains(int state);
    }

    /// <summary>The alive states with an obligation of <paramref name="bit"/> pending, every state a root in id order.</summary>
    private readonly struct PendingStates(LivenessChecker owner, int property, ulong bit) : IRestriction
    {
        public int Roots => owner._states;

        public int Root(int i) => i;

        public bool Contains(int state) => owner.InRestriction(state, property, bit);
    }

    /// <summary>
    /// The arrays of one Tarjan walk: index, low link and on-stack flag per state (index zero for every state the
    /// walk may enter), the stack and the call frames (a slot per state it may enter), and the labels that mark a
    /// finished component's members with its id (-1 for a lone state without a self-loop).
    /// </summary>
    private readonly record struct TarjanArrays(int[] Index, int[] Low, bool[] OnStack, int[] Stack, int[] CallNode, long[] CallEdge, int[] Label);

    /// <summary>
    /// Iterative Tarjan over the states of <paramref name="restriction"/> reached from its roots: each strongly
    /// connected component with an internal edge gets an id from <paramref name="nextId"/> (atomically: a parallel
    /// decomposition's threads share it), and goes to <paramref name="accepted"/>, its members sorted, when
    /// <see cref="Accept"/> takes it (with <paramref name="bestOnly"/>, only if its smallest state id is the smallest
    /// yet). The one walk of the checker: on the whole restriction on one thread, and on each piece a parallel
    /// decomposition leaves (<see cref="Decomposition"/>); a struct restriction, so that the JIT compiles each
    /// without a call per edge.
    /// </summary>
    private void StrongComponents<TRestriction>(
        TRestriction restriction, in TarjanArrays arrays, ref int nextId, bool judgeFairness, bool bestOnly, List<(int Entry, int[] Members)> accepted)
        where TRestriction : struct, IRestriction
    {
        int[] index = arrays.Index;
        int[] low = arrays.Low;
        bool[] onStack = arrays.OnStack;
        int[] stack = arrays.Stack;
        int[] callNode = arrays.CallNode;
        long[] callEdge = arrays.CallEdge;
        int[] label = arrays.Label;
        int counter = 0;
        int sp = 0;
        for (int r = 0, roots = restriction.Roots; r < roots; r++)
        {
            int root = restriction.Root(r);
            if (index[root] != 0 || !restriction.Contains(root))
            {
                continue;
            }

            int csp = 0;
            Push(root, arrays, ref counter, ref sp, ref csp);
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
                    if (!restriction.Contains(w))
                    {
                        continue;
                    }

                    if (index[w] == 0)
                    {
                        callEdge[csp - 1] = e;
                        Push(w, arrays, ref counter, ref sp, ref csp);
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
                    if (members.Length == 1 && !SelfLoop(v))
                    {
                        // Most components are one state without a self-loop: no internal edge, never accepted.
                        onStack[v] = false;
                        label[v] = -1;
                    }
                    else
                    {
                        int id = Interlocked.Increment(ref nextId);
                        foreach (int m in members)
                        {
                            onStack[m] = false;
                            label[m] = id;
                        }

                        if (Accept(members, label, id, judgeFairness, out int entry) && (!bestOnly || accepted.Count == 0 || entry < accepted[0].Entry))
                        {
                            int[] sorted = members.ToArray();
                            Array.Sort(sorted);
                            Keep(accepted, entry, sorted, bestOnly);
                        }
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
    }

    private void Push(int v, in TarjanArrays arrays, ref int counter, ref int sp, ref int csp)
    {
        counter++;
        arrays.Index[v] = counter;
        arrays.Low[v] = counter;
        arrays.Stack[sp++] = v;
        arrays.OnStack[v] = true;
        arrays.CallNode[csp] = v;
        arrays.CallEdge[csp] = _graph.EdgeStart[v];
        csp++;
    }

    private bool SelfLoop(int v)
    {
        for (long e = _graph.EdgeStart[v], end = _graph.EdgeEnd(v); e < end; e++)
        {
            if (StateGraph.EdgeTarget(_graph.Edges[e]) == v)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Whether a component (its members labeled <paramref name="id"/> in <paramref name="label"/>) is a
    /// counterexample: it has an internal edge and, with <paramref name="judgeFairness"/>, every fairness class
    /// enabled in all its states is taken by an internal edge; <paramref name="entry"/> is its smallest state id.
    /// </summary>
    private bool Accept(ReadOnlySpan<int> members, int[] label, int id, bool judgeFairness, out int entry)
    {
        entry = int.MaxValue;
        ulong enabledEverywhere = _classMask;
        ulong taken = 0;
        bool internalEdge = false;
        foreach (int m in members)
        {
            entry = Math.Min(entry, m);
            enabledEverywhere &= _graph.Enabled[m];
            for (long e = _graph.EdgeStart[m], end = _graph.EdgeEnd(m); e < end; e++)
            {
                ulong edge = _graph.Edges[e];
                if (label[StateGraph.EdgeTarget(edge)] == id)
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
        TarjanScratch t = Scratch(0);
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
                ? Search(t, current, members, edge => (_graph.Enabled[StateGraph.EdgeTarget(edge)] & bit) == 0)
                : Search(t, current, members, edge => StateGraph.EdgeClass(edge) == c);
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
            loop.AddRange(Search(t, current, members, edge => StateGraph.EdgeTarget(edge) == entry));
        }

        var indices = new int[loop.Count];
        for (int i = 0; i < indices.Length; i++)
        {
            indices[i] = StateGraph.EdgeAction(loop[i]);
        }

        return indices;
    }

    /// <summary>
    /// Shortest path (at least one edge) inside the component from <paramref name="from"/> ending with an edge that
    /// satisfies <paramref name="goal"/>. Breadth-first in Tarjan's arrays, which the search is done with: a state
    /// is seen when its index holds this search's (negative) mark, its predecessor is in the low links, the edge
    /// that reached it in the call edges, and the queue in the stack, so a loop costs no memory per state.
    /// </summary>
    private List<ulong> Search(TarjanScratch t, int from, int[] members, Func<ulong, bool> goal)
    {
        int mark = --t.SearchMark;
        int[] seen = t.Index;
        int[] previous = t.Low;
        long[] reachedBy = t.CallEdge;
        int[] queue = t.Stack;
        int head = 0;
        int tail = 0;
        queue[tail++] = from;
        seen[from] = mark;
        while (head < tail)
        {
            int v = queue[head++];
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
                    for (int node = v; node != from; node = previous[node])
                    {
                        path.Add(_graph.Edges[reachedBy[node]]);
                    }

                    path.Reverse();
                    return path;
                }

                if (seen[w] != mark)
                {
                    seen[w] = mark;
                    previous[w] = v;
                    reachedBy[w] = e;
                    queue[tail++] = w;
                }
            }
        }

        throw new InvalidOperationException("No path inside a strongly connected component: the state graph is inconsistent.");
    }
}
