namespace Vexlab.Checking.Engine;

/// <summary>A liveness counterexample: the BFS path to <see cref="Entry"/>, then <see cref="Loop"/> (action indices) back to it.</summary>
internal sealed record Lasso(int Entry, int[] Loop);

/// <summary>
/// Weakly fair cycle detection on the stored state graph. For a property p and an obligation bit j, the graph is
/// restricted to alive states with bit j pending; its strongly connected components are found with an iterative
/// Tarjan. A component is a counterexample iff it has an internal edge and every fairness class enabled in all of
/// its states is taken by an internal edge (under weak fairness a class disabled somewhere is satisfied by a cycle
/// through the whole component). Alive dead ends with a pending obligation are counterexamples too (they stutter).
/// Among all counterexamples of a property the one whose entry state comes first in BFS order is reported.
/// </summary>
internal sealed class LivenessChecker
{
    private readonly StateGraph _graph;
    private readonly int _states;
    private readonly ulong _classMask;
    private readonly int[] _index;
    private readonly int[] _low;
    private readonly bool[] _onStack;
    private readonly int[] _stack;
    private readonly int[] _callNode;
    private readonly long[] _callEdge;
    private readonly int[] _component;
    private int _componentCounter;

    public LivenessChecker(StateGraph graph, int states, int fairnessClasses)
    {
        _graph = graph;
        _states = states;
        _classMask = fairnessClasses >= 64 ? ulong.MaxValue : (1UL << fairnessClasses) - 1;
        _index = new int[states];
        _low = new int[states];
        _onStack = new bool[states];
        _stack = new int[states];
        _callNode = new int[states];
        _callEdge = new long[states];
        _component = new int[states];
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

        for (int bit = 0; bit < 64; bit++)
        {
            if ((bits & (1UL << bit)) == 0)
            {
                continue;
            }

            foreach ((int entry, int[] members) in FairComponents(property, 1UL << bit))
            {
                if (entry < bestEntry)
                {
                    bestEntry = entry;
                    bestMembers = members;
                }
            }
        }

        if (bestEntry == int.MaxValue)
        {
            return null;
        }

        return bestMembers is null ? new Lasso(bestEntry, []) : new Lasso(bestEntry, BuildLoop(bestEntry, bestMembers));
    }

    private bool InRestriction(int state, int property, ulong bit)
        => (_graph.Flags[state] & StateGraph.AliveFlag) != 0 && (_graph.Obligation(state, property) & bit) != 0;

    /// <summary>Accepted components of the restricted graph: their smallest state id and their sorted members.</summary>
    private List<(int Entry, int[] Members)> FairComponents(int property, ulong bit)
    {
        var accepted = new List<(int, int[])>();
        Array.Clear(_index);
        int counter = 0;
        int sp = 0;
        for (int root = 0; root < _states; root++)
        {
            if (_index[root] != 0 || !InRestriction(root, property, bit))
            {
                continue;
            }

            int csp = 0;
            Push(root, ref counter, ref sp, ref csp);
            while (csp > 0)
            {
                int v = _callNode[csp - 1];
                long e = _callEdge[csp - 1];
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

                    if (_index[w] == 0)
                    {
                        _callEdge[csp - 1] = e;
                        Push(w, ref counter, ref sp, ref csp);
                        descended = true;
                        break;
                    }

                    if (_onStack[w])
                    {
                        _low[v] = Math.Min(_low[v], _index[w]);
                    }
                }

                if (descended)
                {
                    continue;
                }

                if (_low[v] == _index[v])
                {
                    int start = sp;
                    do
                    {
                        start--;
                    }
                    while (_stack[start] != v);

                    ReadOnlySpan<int> members = _stack.AsSpan(start, sp - start);
                    if (Accept(members, out int entry))
                    {
                        int[] sorted = members.ToArray();
                        Array.Sort(sorted);
                        accepted.Add((entry, sorted));
                    }

                    foreach (int m in members)
                    {
                        _onStack[m] = false;
                    }

                    sp = start;
                }

                csp--;
                if (csp > 0)
                {
                    int u = _callNode[csp - 1];
                    _low[u] = Math.Min(_low[u], _low[v]);
                }
            }
        }

        return accepted;
    }

    private void Push(int v, ref int counter, ref int sp, ref int csp)
    {
        counter++;
        _index[v] = counter;
        _low[v] = counter;
        _stack[sp++] = v;
        _onStack[v] = true;
        _callNode[csp] = v;
        _callEdge[csp] = _graph.EdgeStart[v];
        csp++;
    }

    private bool Accept(ReadOnlySpan<int> members, out int entry)
    {
        int id = ++_componentCounter;
        entry = int.MaxValue;
        foreach (int m in members)
        {
            _component[m] = id;
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
                if (_component[StateGraph.EdgeTarget(edge)] == id)
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

        return internalEdge && (enabledEverywhere & ~taken) == 0;
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
