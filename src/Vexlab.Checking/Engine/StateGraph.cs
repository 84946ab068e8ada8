namespace Vexlab.Checking.Engine;

/// <summary>
/// The explored state graph kept for the liveness phase: per state its enabled fairness classes,
/// obligations and flags, and its successor edges in action order.
/// </summary>
internal sealed class StateGraph
{
    public const byte AliveFlag = 1;
    public const byte DeadEndFlag = 2;

    private readonly int _properties;

    public StateGraph(int properties)
    {
        _properties = properties;
    }

    /// <summary>Index of the first edge of each expanded state.</summary>
    public PagedList<long> EdgeStart { get; } = new();

    /// <summary>Packed edges: target id (bits 0-31), action index (32-47), fairness class + 1 (48-63).</summary>
    public PagedList<ulong> Edges { get; } = new();

    public PagedList<ulong> Enabled { get; } = new();

    public PagedList<ulong> Obligations { get; } = new();

    public PagedList<byte> Flags { get; } = new();

    public int Properties => _properties;

    public long ExpandedStates => EdgeStart.Count;

    public long Bytes => EdgeStart.AllocatedBytes + Edges.AllocatedBytes + Enabled.AllocatedBytes
        + Obligations.AllocatedBytes + Flags.AllocatedBytes;

    /// <summary>What <see cref="Bytes"/> is after <paramref name="states"/> more states with <paramref name="edges"/> edges in all.</summary>
    public long BytesAfter(long states, long edges) => EdgeStart.AllocatedBytesFor(EdgeStart.Count + states)
        + Edges.AllocatedBytesFor(Edges.Count + edges) + Enabled.AllocatedBytesFor(Enabled.Count + states)
        + Obligations.AllocatedBytesFor(Obligations.Count + (states * _properties)) + Flags.AllocatedBytesFor(Flags.Count + states);

    public static ulong PackEdge(int target, int actionIndex, int fairnessClass)
        => (uint)target | ((ulong)(ushort)actionIndex << 32) | ((ulong)(ushort)(fairnessClass + 1) << 48);

    public static int EdgeTarget(ulong edge) => (int)(uint)edge;

    public static int EdgeAction(ulong edge) => (int)((edge >> 32) & 0xFFFF);

    public static int EdgeClass(ulong edge) => (int)(edge >> 48) - 1;

    public long EdgeEnd(int state) => state + 1 < EdgeStart.Count ? EdgeStart[state + 1] : Edges.Count;

    /// <summary>
    /// What the liveness graph keeps of a state: the fairness classes enabled in it (and each
    /// action's class into <paramref name="classes"/>), its alive and dead-end flags, and the
    /// obligations pending for each liveness property.
    /// </summary>
    public static (ulong Enabled, byte Flags) Summarize(
        ITransitionSystem system, ReadOnlySpan<byte> state, ReadOnlySpan<ulong> actions, Span<int> classes, Span<ulong> obligations)
    {
        ulong enabled = 0;
        for (int a = 0; a < actions.Length; a++)
        {
            int c = system.FairnessClass(actions[a]);
            classes[a] = c;
            if (c >= 0)
            {
                enabled |= 1UL << c;
            }
        }

        byte flags = system.IsAlive(state) ? StateGraph.AliveFlag : (byte)0;
        if (actions.Length == 0 && !system.IsValidEnd(state))
        {
            flags |= StateGraph.DeadEndFlag;
        }

        for (int p = 0; p < obligations.Length; p++)
        {
            obligations[p] = system.PendingObligations(state, p);
        }

        return (enabled, flags);
    }

    public void BeginState(ulong enabled, byte flags, ReadOnlySpan<ulong> obligations)
    {
        EdgeStart.Add(Edges.Count);
        Enabled.Add(enabled);
        Flags.Add(flags);
        for (int p = 0; p < _properties; p++)
        {
            Obligations.Add(obligations[p]);
        }
    }

    public ulong Obligation(int state, int property) => Obligations[((long)state * _properties) + property];
}
