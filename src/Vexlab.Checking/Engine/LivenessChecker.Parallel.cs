namespace Vexlab.Checking.Engine;

/// <summary>
/// One fair-cycle search on several threads: the strongly connected components of a restriction found by
/// trimming (McLendon et al., "Finding strongly connected components in distributed graphs", JPDC 65(8), 2005)
/// on all workers, then, with <c>coloringRounds</c>, coloring (Orzan 2004; Slota, Rajamanickam and Madduri,
/// IPDPS 2014), and Tarjan on what is left. Forward trimming alone decides a restriction without cycles, the
/// usual case of a property that holds. A graph has one decomposition into components, whatever finds it, and
/// the checker keeps the accepted component with the smallest state id: the lasso is the one Tarjan on one
/// thread reports, for any number of threads and any order in which they meet the states.
/// </summary>
internal sealed partial class LivenessChecker
{
    /// <summary>States handed to a thread at a time in the parallel passes.</summary>
    private const int Chunk = 1 << 13;

    /// <summary>
    /// Accepted components (smallest state id, sorted members) of the graph restricted to alive states with an
    /// obligation of <paramref name="bit"/> pending, decomposed on up to <c>workers</c> threads; null when the
    /// restriction has fewer than <c>parallelMinimum</c> states (the caller runs Tarjan).
    /// </summary>
    private List<(int Entry, int[] Members)>? ParallelFairComponents(int property, ulong bit, bool judgeFairness, bool bestOnly)
        => new Decomposition(this, property, bit, judgeFairness, bestOnly).Run();

    /// <summary>What one parallel decomposition holds at once beyond the components it accepts (for tests that measure it).</summary>
    internal static long DecompositionBytes(long states, long edges, int workers, bool coloring)
        => Decomposition.PeakBytes(states, edges, workers, coloring);

    /// <summary>The arrays of one decomposition (8 bytes a state to trim; with coloring about 25 a state and 4 an edge of the core).</summary>
    private sealed class Decomposition(LivenessChecker owner, int property, ulong bit, bool judgeFairness, bool bestOnly)
    {
        /// <summary>
        /// An upper bound of the bytes one decomposition allocates and holds at once, beyond the components it
        /// accepts (which its caller counts: they are disjoint, at most a state each in all): the arrays of a slot
        /// per state below, Tarjan's frames for what is left, the predecessor rows of the core with coloring, and
        /// the lists of states that trimming, gathering and filtering pass from one step to the next.
        /// </summary>
        public static long PeakBytes(long states, long edges, int workers, bool coloring)
        {
            long perState = ArrayBytes(states, sizeof(int));

            // _part, _mark, _index, _low and _onStack; Tarjan's stack, call nodes and call edges for the pieces
            // (disjoint, so at most a state each over all workers, a set of frames per worker).
            long bytes = (4 * perState) + ArrayBytes(states, sizeof(bool))
                + (2 * perState) + ArrayBytes(states, sizeof(long)) + (3L * workers * ArrayHeaderBytes);

            // A trimming level with the next one (states of either are trimmed once), then the core.
            bytes += 2 * GatheredBytes(states);
            if (coloring)
            {
                // The predecessor rows and the in-degrees that lay them out; backward trimming's levels, the
                // coloring's levels, roots and what is left, the members each thread collects.
                bytes += ArrayBytes(states + 1, sizeof(int)) + ArrayBytes(edges, sizeof(int)) + perState;
                bytes += 5 * GatheredBytes(states);
            }

            // Per-thread lists of accepted components, the decomposition, its closures.
            return bytes + (4L * (workers + 1) * SmallObjectBytes);
        }

        /// <summary>
        /// Bytes of up to <paramref name="items"/> states gathered in chunks: each chunk's list (growing by doubling,
        /// its arrays together take at most four slots an item) and the array they are joined into.
        /// </summary>
        private static long GatheredBytes(long items)
        {
            long chunks = (items + Chunk - 1) / Chunk;
            return (20 * items) + ArrayBytes(chunks + 1, sizeof(long)) + ((chunks + 1) * 16 * (ArrayHeaderBytes + SmallObjectBytes));
        }

        private readonly StateGraph _graph = owner._graph;
        private readonly int _states = owner._states;
        private readonly ParallelOptions _parallel = new() { MaxDegreeOfParallelism = owner._workers };

        /// <summary>Where a state is: -1 outside the restriction, trimmed or a lone state; 0 left to decompose; -2 being collected; else its piece's or component's id.</summary>
        private int[] _part = [];

        /// <summary>In-degrees while trimming, then the colors.</summary>
        private int[] _mark = [];

        /// <summary>Out-degrees while trimming, then Tarjan's index.</summary>
        private int[] _index = [];

        /// <summary>The propagation's queued marks, then Tarjan's low link.</summary>
        private int[] _low = [];

        private bool[] _onStack = [];

        /// <summary>Predecessors inside the restriction (compressed rows).</summary>
        private int[] _reverseStart = [];
        private int[] _reverse = [];

        private int _nextId;

        private readonly List<(int Entry, int[] Members)> _accepted = [];

        public List<(int Entry, int[] Members)>? Run()
        {
            _part = new int[_states];
            long restricted = 0;
            ForChunks(_states, (from, to) =>
            {
                long count = 0;
                for (int v = from; v < to; v++)
                {
                    bool inside = owner.InRestriction(v, property, bit);
                    _part[v] = inside ? 0 : -1;
                    count += inside ? 1 : 0;
                }

                Interlocked.Add(ref restricted, count);
            });

            if (restricted < owner._parallelMinimum)
            {
                return null;
            }

            // Tarjan's scratch of worker 0 is not used here: it goes back before the arrays below (PeakBytes counts
            // the larger of the two), and the next search that needs it allocates it again.
            owner._scratch[0] = null;

            // Forward trimming needs only the successor edges: on a restriction without cycles (a property that
            // holds) it removes every state, and the search ends there.
            _mark = new int[_states];
            ForChunks(_states, (from, to) =>
            {
                for (int v = from; v < to; v++)
                {
                    if (_part[v] == 0)
                    {
                        for (long e = _graph.EdgeStart[v], end = _graph.EdgeEnd(v); e < end; e++)
                        {
                            int w = StateGraph.EdgeTarget(_graph.Edges[e]);
                            if (_part[w] == 0)
                            {
                                Interlocked.Increment(ref _mark[w]);
                            }
                        }
                    }
                }
            });

            Trim(Gather(v => _part[v] == 0 && _mark[v] == 0), forward: true);
            int[] core = Gather(v => _part[v] == 0);
            if (core.Length > 0 && owner._coloringRounds > 0)
            {
                // What is left lies on a cycle or reaches one: predecessors, then trimming backward, then coloring.
                _index = new int[_states];
                BuildReverse(core);
                Trim([.. core.Where(v => _index[v] == 0)], forward: false);
                core = [.. core.Where(v => _part[v] == 0)];
                Array.Clear(_mark);
                Split(core);
            }
            else if (core.Length > 0)
            {
                _index = new int[_states];
                foreach (int v in core)
                {
                    _part[v] = 1;
                }

                _nextId = 1;
                Tarjan([(1, core)]);
            }

            return _accepted;
        }

        /// <summary>Calls <paramref name="body"/> on ranges of [0, count) on the worker threads.</summary>
        private void ForChunks(int count, Action<int, int> body)
        {
            int chunks = (count + Chunk - 1) / Chunk;
            if (chunks <= 1)
            {
                body(0, count);
                return;
            }

            Parallel.For(0, chunks, _parallel, c => body(c * Chunk, Math.Min(count, (c + 1) * Chunk)));
        }

        /// <summary>The states for which <paramref name="keep"/> holds, in id order, gathered in parallel.</summary>
        private int[] Gather(Func<int, bool> keep)
        {
            int chunks = Math.Max(1, (_states + Chunk - 1) / Chunk);
            var kept = new List<int>[chunks];
            ForChunks(_states, (from, to) =>
            {
                var local = new List<int>();
                for (int v = from; v < to; v++)
                {
                    if (keep(v))
                    {
                        local.Add(v);
                    }
                }

                kept[from / Chunk] = local;
            });

            return Concat(kept);
        }

        private static int[] Concat(List<int>?[] lists)
        {
            int total = 0;
            foreach (var list in lists)
            {
                total += list?.Count ?? 0;
            }

            var all = new int[total];
            int at = 0;
            foreach (var list in lists)
            {
                if (list is not null)
                {
                    list.CopyTo(all, at);
                    at += list.Count;
                }
            }

            return all;
        }

        /// <summary>Counts the out-degrees of the core inside it and lays out its predecessor rows.</summary>
        private void BuildReverse(int[] core)
        {
            int[] outDegree = _index;
            int[] inDegree = new int[_states];
            ForChunks(core.Length, (from, to) =>
            {
                for (int i = from; i < to; i++)
                {
                    int v = core[i];
                    int outs = 0;
                    for (long e = _graph.EdgeStart[v], end = _graph.EdgeEnd(v); e < end; e++)
                    {
                        int w = StateGraph.EdgeTarget(_graph.Edges[e]);
                        if (_part[w] == 0)
                        {
                            outs++;
                            Interlocked.Increment(ref inDegree[w]);
                        }
                    }

                    outDegree[v] = outs;
                }
            });

            _reverseStart = new int[_states + 1];
            for (int v = 0; v < _states; v++)
            {
                _reverseStart[v + 1] = _reverseStart[v] + inDegree[v];
            }

            _reverse = new int[_reverseStart[_states]];
            Array.Copy(_reverseStart, inDegree, _states);
            int[] fill = inDegree;
            ForChunks(core.Length, (from, to) =>
            {
                for (int i = from; i < to; i++)
                {
                    int v = core[i];
                    for (long e = _graph.EdgeStart[v], end = _graph.EdgeEnd(v); e < end; e++)
                    {
                        int w = StateGraph.EdgeTarget(_graph.Edges[e]);
                        if (_part[w] == 0)
                        {
                            _reverse[Interlocked.Increment(ref fill[w]) - 1] = v;
                        }
                    }
                }
            });
        }

        /// <summary>
        /// Removes, level by level from <paramref name="level"/>, states with no predecessor (forward) or no
        /// successor (backward) left in the restriction: they lie on no cycle, so each is a component of its own
        /// without an internal edge, which no check accepts. The degrees are in <c>_mark</c> (forward) or
        /// <c>_index</c> (backward).
        /// </summary>
        private void Trim(int[] level, bool forward)
        {
            int[] degree = forward ? _mark : _index;
            foreach (int v in level)
            {
                _part[v] = -1;
            }

            while (level.Length > 0)
            {
                int[] current = level;
                int chunks = (current.Length + Chunk - 1) / Chunk;
                var next = new List<int>[chunks];
                ForChunks(current.Length, (from, to) =>
                {
                    var local = new List<int>();
                    for (int i = from; i < to; i++)
                    {
                        int v = current[i];
                        if (forward)
                        {
                            for (long e = _graph.EdgeStart[v], end = _graph.EdgeEnd(v); e < end; e++)
                            {
                                Release(StateGraph.EdgeTarget(_graph.Edges[e]), degree, local);
                            }
                        }
                        else
                        {
                            for (int r = _reverseStart[v], end = _reverseStart[v + 1]; r < end; r++)
                            {
                                Release(_reverse[r], degree, local);
                            }
                        }
                    }

                    next[from / Chunk] = local;
                });

                level = Concat(next);
            }
        }

        /// <summary>Takes one from a neighbour's degree; at zero the neighbour is trimmed, by the thread that took the last one.</summary>
        private void Release(int w, int[] degree, List<int> local)
        {
            if (Volatile.Read(ref _part[w]) == 0 && Interlocked.Decrement(ref degree[w]) == 0
                && Interlocked.CompareExchange(ref _part[w], -1, 0) == 0)
            {
                local.Add(w);
            }
        }

        /// <summary>
        /// Coloring rounds (Orzan, "On distributed verification and verified distribution", PhD thesis, VU
        /// Amsterdam, 2004; Slota, Rajamanickam and Madduri, "BFS and coloring-based parallel algorithms for strongly
        /// connected components", IPDPS 2014): each state takes the largest id among the states that reach it in
        /// what is left; a state whose color is its own id is a root, and its component is the states of its color
        /// that reach it. Every round removes the components of all roots (at least the largest id's), each found
        /// by one thread; ids grow with breadth-first depth, so colors seldom travel past a cycle and most states
        /// are roots of their own. After a bounded number of rounds what is left goes to Tarjan.
        /// </summary>
        private void Split(int[] core)
        {
            int[] color = _mark;
            _low = new int[_states];
            int[] queued = _low;
            int stamp = 0;
            int[] left = core;
            for (int round = 0; left.Length > 0 && round < owner._coloringRounds; round++)
            {
                int[] current = left;
                ForChunks(current.Length, (from, to) =>
                {
                    for (int i = from; i < to; i++)
                    {
                        color[current[i]] = current[i];
                    }
                });

                // Propagate the largest color forward until nothing changes (the fixpoint does not depend on the order).
                int[] level = current;
                while (level.Length > 0)
                {
                    int[] active = level;
                    int mark = ++stamp;
                    var next = new List<int>[(active.Length + Chunk - 1) / Chunk];
                    ForChunks(active.Length, (from, to) =>
                    {
                        var local = new List<int>();
                        for (int i = from; i < to; i++)
                        {
                            int v = active[i];
                            int c = Volatile.Read(ref color[v]);
                            for (long e = _graph.EdgeStart[v], end = _graph.EdgeEnd(v); e < end; e++)
                            {
                                int w = StateGraph.EdgeTarget(_graph.Edges[e]);
                                if (_part[w] == 0 && Raise(ref color[w], c)
                                    && Interlocked.Exchange(ref queued[w], mark) != mark)
                                {
                                    local.Add(w);
                                }
                            }
                        }

                        next[from / Chunk] = local;
                    });

                    level = Concat(next);
                }

                // Each root's component: the states of its color that reach it.
                int[] roots = Filter(current, v => color[v] == v);
                var found = new List<(int Entry, int[] Members)>?[(roots.Length + Chunk - 1) / Chunk];
                ForChunks(roots.Length, (from, to) =>
                {
                    var local = new List<(int Entry, int[] Members)>();
                    var members = new List<int>();
                    for (int i = from; i < to; i++)
                    {
                        RootComponent(roots[i], color, members, local);
                    }

                    found[from / Chunk] = local;
                });

                foreach (var local in found)
                {
                    Merge(local!);
                }

                left = Filter(current, v => _part[v] == 0);
            }

            if (left.Length > 0)
            {
                int id = ++_nextId;
                foreach (int v in left)
                {
                    _part[v] = id;
                }

                Tarjan([(id, left)]);
            }
        }

        /// <summary>Raises <paramref name="target"/> to <paramref name="value"/> if it is smaller; true if this call raised it.</summary>
        private static bool Raise(ref int target, int value)
        {
            int seen = Volatile.Read(ref target);
            while (seen < value)
            {
                int was = Interlocked.CompareExchange(ref target, value, seen);
                if (was == seen)
                {
                    return true;
                }

                seen = was;
            }

            return false;
        }

        /// <summary>The items of <paramref name="items"/> for which <paramref name="keep"/> holds, in order, filtered in parallel.</summary>
        private int[] Filter(int[] items, Func<int, bool> keep)
        {
            var kept = new List<int>[Math.Max(1, (items.Length + Chunk - 1) / Chunk)];
            ForChunks(items.Length, (from, to) =>
            {
                var local = new List<int>();
                for (int i = from; i < to; i++)
                {
                    if (keep(items[i]))
                    {
                        local.Add(items[i]);
                    }
                }

                kept[from / Chunk] = local;
            });

            return Concat(kept);
        }

        /// <summary>
        /// The component of <paramref name="root"/>: the states colored <paramref name="root"/> that reach it (every
        /// state of that color is reached from it). The states of one color are found by one thread only.
        /// </summary>
        private void RootComponent(int root, int[] color, List<int> members, List<(int Entry, int[] Members)> accepted)
        {
            members.Clear();
            members.Add(root);
            _part[root] = -2;
            for (int k = 0; k < members.Count; k++)
            {
                int v = members[k];
                for (int r = _reverseStart[v], end = _reverseStart[v + 1]; r < end; r++)
                {
                    int u = _reverse[r];
                    if (_part[u] == 0 && color[u] == root)
                    {
                        _part[u] = -2;
                        members.Add(u);
                    }
                }
            }

            if (members.Count == 1 && !owner.SelfLoop(root))
            {
                _part[root] = -1;
                return;
            }

            int id = Interlocked.Increment(ref _nextId);
            int[] component = [.. members];
            foreach (int m in component)
            {
                _part[m] = id;
            }

            if (owner.Accept(component, _part, id, judgeFairness, out int entry))
            {
                Array.Sort(component);
                Keep(accepted, entry, component, bestOnly);
            }
        }

        /// <summary>Tarjan on each piece; pieces are disjoint, so the shared index arrays are written by one thread each.</summary>
        private void Tarjan(List<(int Id, int[] Members)> pieces)
        {
            if (pieces.Count == 0)
            {
                return;
            }

            // The coloring's queued marks are done with: their array takes the low links (Push writes each before it is read).
            if (_low.Length != _states)
            {
                _low = new int[_states];
            }

            _onStack = new bool[_states];
            int workers = Math.Min(_parallel.MaxDegreeOfParallelism, pieces.Count);
            var found = new List<(int Entry, int[] Members)>[workers];
            int next = -1;
            Parallel.For(0, workers, _parallel, worker =>
            {
                var local = new List<(int Entry, int[] Members)>();

                // Frames of a piece's walk: each of its states is pushed once, so a slot per state of the largest piece.
                int[] stack = [];
                int[] callNode = [];
                long[] callEdge = [];
                for (int k = Interlocked.Increment(ref next); k < pieces.Count; k = Interlocked.Increment(ref next))
                {
                    int size = pieces[k].Members.Length;
                    if (stack.Length < size)
                    {
                        stack = new int[size];
                        callNode = new int[size];
                        callEdge = new long[size];
                    }

                    int[] members = pieces[k].Members;
                    foreach (int v in members)
                    {
                        _index[v] = 0;
                    }

                    // A piece's states carry its id in _part until their component takes them out of it.
                    owner.StrongComponents(
                        new PieceStates(_part, pieces[k].Id, members),
                        new TarjanArrays(_index, _low, _onStack, stack, callNode, callEdge, _part),
                        ref _nextId,
                        judgeFairness,
                        bestOnly,
                        local);
                }

                found[worker] = local;
            });

            foreach (var local in found)
            {
                Merge(local);
            }
        }

        /// <summary>Adds a thread's accepted components (with bestOnly, its best) to the decomposition's.</summary>
        private void Merge(List<(int Entry, int[] Members)> local)
        {
            foreach ((int entry, int[] members) in local)
            {
                Keep(_accepted, entry, members, bestOnly);
            }
        }

        /// <summary>The states of one piece (those of <c>_part</c> equal to its id), its members the roots in order.</summary>
        private readonly struct PieceStates(int[] part, int id, int[] members) : IRestriction
        {
            public int Roots => members.Length;

            public int Root(int i) => members[i];

            public bool Contains(int state) => part[state] == id;
        }
    }
}
