namespace Vexlab.Checking.Engine;

/// <summary>
/// One expanded state's successors, fingerprinted and their home slots prefetched, waiting for their table lookups.
/// </summary>
/// <remarks>
/// A state's successors are looked up only after the next state's have been generated: the prefetches then have a
/// whole state's work (decode, list, apply, fingerprint; about a microsecond) to arrive instead of the few
/// successors after them. At 7/8 load a lookup probes a cluster of several slots, and a profile of the bench check
/// had a sixth of the serial path's time waiting on those cache lines. Two of these alternate; lookups still run
/// in state order, so ids, parents and the next level are what the unpipelined order gives.
/// </remarks>
internal sealed class PendingSuccessors<TKey, TScheme>
    where TKey : unmanaged
    where TScheme : IFingerprintScheme<TKey>
{
    public PendingSuccessors(int stateSize, int maxActions)
    {
        Successors = new SuccessorBuffer<TKey, TScheme>(stateSize, maxActions);
        Keys = new TKey[Math.Max(1, maxActions)];
        Kinds = new int[Math.Max(1, maxActions)];
    }

    /// <summary>The successors' patches against their parent.</summary>
    public SuccessorBuffer<TKey, TScheme> Successors { get; }

    /// <summary>The successors' fingerprints, in action order.</summary>
    public TKey[] Keys { get; }

    /// <summary>Their action kinds.</summary>
    public int[] Kinds { get; }

    /// <summary>How many successors (enabled actions).</summary>
    public int Count { get; set; }

    /// <summary>The parent's state id.</summary>
    public int Source { get; set; }

    /// <summary>Where the parent's record lies (an offset into the block it came from, or a position in the level).</summary>
    public long ParentAt { get; set; }

    public long Bytes => Successors.Bytes + (Keys.LongLength * System.Runtime.CompilerServices.Unsafe.SizeOf<TKey>()) + (Kinds.LongLength * sizeof(int));
}
