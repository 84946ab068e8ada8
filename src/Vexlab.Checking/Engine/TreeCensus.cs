using System.Runtime.InteropServices;

namespace Vexlab.Checking.Engine;

/// <summary>
/// What tree (recursive) compression would store for a search's states, counted exactly rather than built: a
/// transition system that passes every call to the one it wraps and, for each state the search expands (each
/// reachable state once), interns the state's binary tree the way a tree-compressed visited set does (Laarman, van de
/// Pol, Weber, "Parallel Recursive State Compression for Free", SPIN 2011). The leaves are the state's 8-byte words
/// (pairs of 32-bit slots, the tree's lowest nodes); each level pairs the level below's node indices, an odd last node
/// moving up unpaired; the single node at the top is the state's root. A node is stored once per level however many
/// states and positions share it, so the node count is what the tree's tables would hold beside one root per state.
/// </summary>
/// <remarks>
/// Made for <c>vexlab bench --checker --tree-census</c>: it answers whether the lossless scheme would beat the
/// fingerprint table's bytes per state on a model before anyone builds it. Use with one worker (it is not thread-safe);
/// as every <see cref="ForwardingSystem"/>, it hides the wrapped system's in-place interface, so the search copies every successor.
/// </remarks>
public sealed class TreeCensus(ITransitionSystem inner) : ForwardingSystem(inner)
{
    private readonly Dictionary<(int Left, int Right), int>[] _levels = Levels((inner.StateSize + 7) / 8);
    private readonly int[] _scratch = new int[(inner.StateSize + 7) / 8];
    private readonly byte[] _padded = new byte[((inner.StateSize + 7) / 8) * 8];
    private long _states;

    /// <summary>States counted (those the search expanded).</summary>
    public long States => _states;

    /// <summary>Distinct nodes at each level, the leaves' pairs first; the last level holds the roots.</summary>
    public IReadOnlyList<long> NodesPerLevel
    {
        get
        {
            var counts = new long[_levels.Length];
            for (int l = 0; l < counts.Length; l++)
            {
                counts[l] = _levels[l].Count;
            }

            return counts;
        }
    }

    /// <summary>Distinct roots: one a distinct state.</summary>
    public long Roots => _levels[^1].Count;

    /// <summary>Distinct nodes below the roots: what the tree's node tables would hold.</summary>
    public long Nodes
    {
        get
        {
            long nodes = 0;
            for (int l = 0; l < _levels.Length - 1; l++)
            {
                nodes += _levels[l].Count;
            }

            return nodes;
        }
    }

    /// <summary>
    /// The least bytes a state the tree's tables would take: every node and root as two 32-bit indices, in tables
    /// filled to the last slot (a real table keeps room free, as the fingerprint table keeps an eighth or more).
    /// </summary>
    public double LeastBytesPerState => _states == 0 ? 0 : (Nodes + Roots) * 8.0 / _states;

    /// <summary>The search lists a state's actions once, when it expands it: the state is counted then.</summary>
    public override int ListActions(ReadOnlySpan<byte> state, Span<ulong> actions)
    {
        Count(state);
        return Inner.ListActions(state, actions);
    }

    private void Count(ReadOnlySpan<byte> state)
    {
        _states++;
        state.CopyTo(_padded);
        int n = _scratch.Length;
        ReadOnlySpan<uint> slots = MemoryMarshal.Cast<byte, uint>(_padded);

        // The leaves' level: each 8-byte word is a node of two 32-bit slots.
        int level = 0;
        for (int i = 0; i < n; i++)
        {
            _scratch[i] = Intern(level, (int)slots[2 * i], (int)slots[(2 * i) + 1]);
        }

        // A state of one word has its root there; otherwise pair up level by level until one node is left.
        while (n > 1)
        {
            level++;
            int m = (n + 1) / 2;
            for (int i = 0; i < n / 2; i++)
            {
                _scratch[i] = Intern(level, _scratch[2 * i], _scratch[(2 * i) + 1]);
            }

            if (n % 2 == 1)
            {
                _scratch[m - 1] = _scratch[n - 1];
            }

            n = m;
        }
    }

    /// <summary>One table a level: the leaves' level, then one more for each halving of the words down to one.</summary>
    private static Dictionary<(int Left, int Right), int>[] Levels(int words)
    {
        int levels = 1;
        for (int n = words; n > 1; n = (n + 1) / 2)
        {
            levels++;
        }

        var tables = new Dictionary<(int Left, int Right), int>[levels];
        for (int l = 0; l < levels; l++)
        {
            tables[l] = [];
        }

        return tables;
    }

    private int Intern(int level, int left, int right)
    {
        Dictionary<(int Left, int Right), int> nodes = _levels[level];
        ref int index = ref CollectionsMarshal.GetValueRefOrAddDefault(nodes, (left, right), out bool exists);
        if (!exists)
        {
            index = nodes.Count - 1;
        }

        return index;
    }
}
