using System.IO.Hashing;
using Vexlab.Checking.Engine;

namespace Vexlab.Checking.Reduction;

/// <summary>
/// Weakly fair cycles of the real machine found from the quotient graph of a <see cref="SymmetricSystem"/>.
/// A quotient cycle need not be a real one: each step lands on the representative of the successor, so the
/// vCPU and task numbering may change along it, and a fairness class or obligation bit read off the
/// representatives would name different real vCPUs at different steps (Emerson and Sistla, "Utilizing
/// symmetry when model-checking under fairness assumptions", ACM TOPLAS 19(4), 1997, which tracks them with
/// an annotated quotient). What is invariant is whether a state is alive, a dead end, or has some obligation
/// of a property pending, so: (1) an alive dead end with an obligation pending is a counterexample as found;
/// (2) every real violating cycle lies in the real states over one strongly connected component C of the
/// quotient restricted to alive states with an obligation pending (its image is a cycle there); (3) for each
/// such C, in BFS order of its first state, the real states over C reachable from one real state over C's
/// first state are explored and searched with the plain weakly fair cycle check. That set holds an image of
/// every real component over C (the machine commutes with the permutations, so a component's image under the
/// permutation that takes one of its states to the explored one is explored too), and images violate alike.
/// The counterexample is real: the stem lifted step by step (<see cref="TraceLifting"/>), then the explored
/// real states' own actions.
/// </summary>
internal static class SymmetricLiveness
{
    public static Violation? Find(SymmetricSystem system, LivenessChecker quotient, int property, Func<int, List<int>> pathTo)
    {
        int deadEnd = quotient.FirstPendingDeadEnd(property);
        foreach ((int entry, int[] members) in quotient.PendingComponents(property))
        {
            if (entry > deadEnd)
            {
                break;
            }

            if (SearchComponent(system, quotient.Graph, property, entry, members, pathTo) is { } found)
            {
                return found;
            }
        }

        if (deadEnd == int.MaxValue)
        {
            return null;
        }

        var stem = TraceLifting.LiftPath(system, [.. pathTo(deadEnd)]);
        return new Violation(system.LivenessProperties[property], ViolationKind.Lasso, stem.Actions, stem.Indices, stem.Indices.Length);
    }

    private static Violation? SearchComponent(SymmetricSystem system, StateGraph graph, int property, int entry, int[] members, Func<int, List<int>> pathTo)
    {
        var stem = TraceLifting.LiftPath(system, [.. pathTo(entry)]);
        var inner = system.Inner;
        int size = system.StateSize;
        var actions = new ulong[Math.Max(1, inner.MaxActions)];

        // The representatives of C, rebuilt from the entry along C's own edges.
        var representatives = new HashSet<UInt128> { XxHash128.HashToUInt128(stem.Representative) };
        var known = new Dictionary<int, byte[]> { [entry] = stem.Representative };
        var pending = new Queue<int>();
        pending.Enqueue(entry);
        while (pending.Count > 0)
        {
            int m = pending.Dequeue();
            byte[] state = known[m];
            system.ListActions(state, actions);
            for (long e = graph.EdgeStart[m], end = graph.EdgeEnd(m); e < end; e++)
            {
                ulong edge = graph.Edges[e];
                int target = StateGraph.EdgeTarget(edge);
                if (Array.BinarySearch(members, target) < 0 || known.ContainsKey(target))
                {
                    continue;
                }

                var next = new byte[size];
                system.Apply(state, actions[StateGraph.EdgeAction(edge)], next);
                known[target] = next;
                representatives.Add(XxHash128.HashToUInt128(next));
                pending.Enqueue(target);
            }
        }

        // The real states over C reachable from the lifted entry, breadth-first, as a graph of their own.
        var sub = new StateGraph(1);
        var ids = new Dictionary<UInt128, int> { [XxHash128.HashToUInt128(stem.Concrete)] = 0 };
        var parents = new List<(int Parent, int Action)> { (-1, -1) };
        var frontier = new Queue<byte[]>();
        frontier.Enqueue(stem.Concrete);
        var canonical = new byte[size];
        Span<ulong> obligation = stackalloc ulong[1];
        for (int id = 0; frontier.Count > 0; id++)
        {
            byte[] state = frontier.Dequeue();
            int n = inner.ListActions(state, actions);
            ulong enabled = 0;
            for (int a = 0; a < n; a++)
            {
                int c = inner.FairnessClass(actions[a]);
                if (c >= 0)
                {
                    enabled |= 1UL << c;
                }
            }

            byte flags = inner.IsAlive(state) ? StateGraph.AliveFlag : (byte)0;
            if (n == 0 && !inner.IsValidEnd(state))
            {
                flags |= StateGraph.DeadEndFlag;
            }

            obligation[0] = inner.PendingObligations(state, property);
            sub.BeginState(enabled, flags, obligation);
            for (int a = 0; a < n; a++)
            {
                var next = new byte[size];
                inner.Apply(state, actions[a], next);
                next.CopyTo(canonical, 0);
                system.Canonicalize(canonical);
                if (!representatives.Contains(XxHash128.HashToUInt128(canonical)))
                {
                    continue;
                }

                UInt128 key = XxHash128.HashToUInt128(next);
                if (!ids.TryGetValue(key, out int target))
                {
                    target = parents.Count;
                    ids[key] = target;
                    parents.Add((id, a));
                    frontier.Enqueue(next);
                }

                sub.Edges.Add(StateGraph.PackEdge(target, a, inner.FairnessClass(actions[a])));
            }
        }

        if (new LivenessChecker(sub, parents.Count, inner.FairnessClasses).FindLasso(0) is not { } lasso || lasso.Loop.Length == 0)
        {
            return null;
        }

        // Stem to the lifted entry, the explored states' BFS path to the loop's entry, then the loop.
        var path = new List<int>();
        for (int s = lasso.Entry; s > 0; s = parents[s].Parent)
        {
            path.Add(parents[s].Action);
        }

        path.Reverse();
        int[] indices = [.. stem.Indices, .. path, .. lasso.Loop];
        return new Violation(
            system.LivenessProperties[property],
            ViolationKind.Lasso,
            Checker.ReplayIndices(inner, indices),
            indices,
            stem.Indices.Length + path.Count);
    }
}
