using System.Buffers.Binary;
using Vexlab.Checking.Engine;

namespace Vexlab.Checking.Tests.Engine;

/// <summary>
/// An explicit graph as a transition system: the state is the node number (4 bytes); the actions of a node are its
/// edges in declaration order, encoded as node * 256 + edge index.
/// </summary>
internal sealed class GraphSystem : ITransitionSystem, IActionKinds
{
    private readonly List<List<EdgeInfo>> _edges = [];
    private readonly HashSet<int> _validEnds = [];
    private readonly Dictionary<int, ulong> _obligations = [];
    private readonly List<string> _kindNames = [];

    public GraphSystem(int nodes, int fairnessClasses = 0, bool liveness = false)
    {
        for (int i = 0; i < nodes; i++)
        {
            _edges.Add([]);
        }

        FairnessClasses = fairnessClasses;
        LivenessProperties = liveness ? ["progress"] : [];
    }

    public int StateSize => 4;

    public int MaxActions => 8;

    public IReadOnlyList<string> SafetyProperties { get; } = ["no-bad", "no-other"];

    public IReadOnlyList<string> LivenessProperties { get; }

    public int FairnessClasses { get; }

    public IReadOnlyList<string> ActionKindNames => _kindNames;

    public GraphSystem Edge(int from, int to, string kind = "step", int fairnessClass = -1, ulong violates = 0)
    {
        int k = _kindNames.IndexOf(kind);
        if (k < 0)
        {
            k = _kindNames.Count;
            _kindNames.Add(kind);
        }

        _edges[from].Add(new EdgeInfo(to, k, fairnessClass, violates));
        return this;
    }

    public GraphSystem ValidEnd(int node)
    {
        _validEnds.Add(node);
        return this;
    }

    public GraphSystem Pending(int node, ulong bits = 1)
    {
        _obligations[node] = bits;
        return this;
    }

    public static int Node(ReadOnlySpan<byte> state) => BinaryPrimitives.ReadInt32LittleEndian(state);

    public void WriteInitialState(Span<byte> state) => BinaryPrimitives.WriteInt32LittleEndian(state, 0);

    public int ListActions(ReadOnlySpan<byte> state, Span<ulong> actions)
    {
        int node = Node(state);
        List<EdgeInfo> edges = _edges[node];
        for (int i = 0; i < edges.Count; i++)
        {
            actions[i] = (ulong)((node * 256) + i);
        }

        return edges.Count;
    }

    public ulong Apply(ReadOnlySpan<byte> state, ulong action, Span<byte> next)
    {
        EdgeInfo edge = Lookup(action);
        BinaryPrimitives.WriteInt32LittleEndian(next, edge.To);
        return edge.Violates;
    }

    public ulong PendingObligations(ReadOnlySpan<byte> state, int property)
        => _obligations.TryGetValue(Node(state), out ulong bits) ? bits : 0;

    public int FairnessClass(ulong action) => Lookup(action).FairnessClass;

    public bool IsValidEnd(ReadOnlySpan<byte> state) => _validEnds.Contains(Node(state));

    public bool IsAlive(ReadOnlySpan<byte> state) => true;

    public int ActionKind(ulong action) => Lookup(action).Kind;

    public int Target(ulong action) => Lookup(action).To;

    private EdgeInfo Lookup(ulong action) => _edges[(int)(action / 256)][(int)(action % 256)];

    private readonly record struct EdgeInfo(int To, int Kind, int FairnessClass, ulong Violates);
}

/// <summary>
/// Three counters 0..N-1 (12-byte state). Actions, in order: increment c0, c1, c2 (fair classes 0, 1, 2, while below
/// N-1), reset c0 at N-1 (unfair), reset c2 at N-2 (unfair). Safety "no-center": entering (N/2, N/2, 3).
/// Liveness "c2-reaches-top": obligation while c2 &lt; N-1; violated by the fair loop c0 = c1 = N-1, c2 cycling.
/// </summary>
internal sealed class GridSystem : ITransitionSystem, IActionKinds
{
    private readonly int _n;

    public GridSystem(int n, bool liveness = true, bool deadlocks = false)
    {
        _n = n;
        Deadlocks = deadlocks;
        LivenessProperties = liveness ? ["c2-reaches-top"] : [];
    }

    public bool Deadlocks { get; }

    public int StateSize => 12;

    public int MaxActions => 5;

    public IReadOnlyList<string> SafetyProperties { get; } = ["no-center", "never"];

    public IReadOnlyList<string> LivenessProperties { get; }

    public int FairnessClasses => 3;

    public IReadOnlyList<string> ActionKindNames { get; } = ["inc0", "inc1", "inc2", "reset0", "reset2"];

    public static int Get(ReadOnlySpan<byte> state, int i) => BinaryPrimitives.ReadInt32LittleEndian(state[(i * 4)..]);

    public void WriteInitialState(Span<byte> state) => state.Clear();

    public int ListActions(ReadOnlySpan<byte> state, Span<ulong> actions)
    {
        int n = 0;
        for (int i = 0; i < 3; i++)
        {
            if (Get(state, i) < _n - 1)
            {
                actions[n++] = (ulong)i;
            }
        }

        if (Get(state, 0) == _n - 1 && !(Deadlocks && Get(state, 1) == _n - 1 && Get(state, 2) == _n - 1))
        {
            actions[n++] = 3;
        }

        if (Get(state, 2) == _n - 2)
        {
            actions[n++] = 4;
        }

        return n;
    }

    public ulong Apply(ReadOnlySpan<byte> state, ulong action, Span<byte> next)
    {
        state.CopyTo(next);
        switch (action)
        {
            case < 3:
                int i = (int)action;
                BinaryPrimitives.WriteInt32LittleEndian(next[(i * 4)..], Get(state, i) + 1);
                break;
            case 3:
                BinaryPrimitives.WriteInt32LittleEndian(next, 0);
                break;
            default:
                BinaryPrimitives.WriteInt32LittleEndian(next[8..], 0);
                break;
        }

        bool center = Get(next, 0) == _n / 2 && Get(next, 1) == _n / 2 && Get(next, 2) == 3;
        return center ? 1UL : 0UL;
    }

    public ulong PendingObligations(ReadOnlySpan<byte> state, int property) => Get(state, 2) < _n - 1 ? 1UL : 0UL;

    public int FairnessClass(ulong action) => action < 3 ? (int)action : -1;

    public bool IsValidEnd(ReadOnlySpan<byte> state) => false;

    public bool IsAlive(ReadOnlySpan<byte> state) => true;

    public int ActionKind(ulong action) => (int)action;
}
