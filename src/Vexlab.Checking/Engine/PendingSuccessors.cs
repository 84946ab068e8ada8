namespace Vexlab.Checking.Engine;

/// <summary>
/// One expanded state's successors, fingerprinted and their home slots prefetched, waiting for their table lookups:
/// the one generation of successors every expansion path (serial, shared, graph workers) runs.
/// </summary>
/// <remarks>
/// On the serial and shared paths a state's successors are looked up only after the next state's have been
/// generated (a graph worker, which needs each target at once, looks them up right away): the prefetches then have a
/// whole state's work (decode, list, apply, fingerprint; about a microsecond) to arrive instead of the few
/// successors after them. At 7/8 load a lookup probes a cluster of several slots, and a profile of the bench check
/// had a sixth of the serial path's time waiting on those cache lines. Two of these alternate there; lookups still run
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
        Violated = new ulong[Math.Max(1, maxActions)];
    }

    /// <summary>The successors' patches against their parent.</summary>
    public SuccessorBuffer<TKey, TScheme> Successors { get; }

    /// <summary>The successors' fingerprints, in action order.</summary>
    public TKey[] Keys { get; }

    /// <summary>Their action kinds.</summary>
    public int[] Kinds { get; }

    /// <summary>The safety properties each transition violated (bit p: property p).</summary>
    public ulong[] Violated { get; }

    /// <summary>How many successors (enabled actions).</summary>
    public int Count { get; set; }

    /// <summary>The parent's state id.</summary>
    public int Source { get; set; }

    /// <summary>Where the parent's record lies (an offset into the block it came from, or a position in the level).</summary>
    public long ParentAt { get; set; }

    public long Bytes => Successors.Bytes + (Keys.LongLength * System.Runtime.CompilerServices.Unsafe.SizeOf<TKey>()) + (Kinds.LongLength * sizeof(int))
        + (Violated.LongLength * sizeof(ulong));

    /// <summary>
    /// Generates the successors of <paramref name="state"/> (fingerprint <paramref name="hash"/>) under
    /// <paramref name="actions"/>, in order: each action runs on the buffer in place (on <paramref name="inPlace"/> when
    /// the system has that view), its kind is counted in <paramref name="kindTransitions"/>, the successor's fingerprint
    /// is updated from the words it changed and its home slot in <paramref name="table"/> prefetched. Returns the
    /// violated properties of all transitions or-ed (each one's in <see cref="Violated"/>).
    /// </summary>
    // Inlined into each expansion loop, as the loop it replaced was written there: one out-of-line copy shared by the
    // three paths measured about a twentieth slower on the bench check.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public ulong Generate(ITransitionSystem system, IInPlaceTransitionSystem? inPlace, ReadOnlySpan<byte> state, TKey hash,
        ReadOnlySpan<ulong> actions, IActionKinds? kinds, long[] kindTransitions, FingerprintTable<TKey, TScheme> table)
    {
        SuccessorBuffer<TKey, TScheme> successors = Successors;
        TKey[] keys = Keys;
        int[] kindOf = Kinds;
        ulong[] violations = Violated;
        successors.Load(state);
        ulong any = 0;
        for (int a = 0; a < actions.Length; a++)
        {
            ulong action = actions[a];
            ulong violated = inPlace is null
                ? system.Apply(state, action, successors.State)
                : inPlace.ApplyInPlace(successors.Buffer, 0, action);
            int kind = kinds is null ? 0 : kinds.ActionKind(action);
            kindOf[a] = kind;
            kindTransitions[kind]++;
            violations[a] = violated;
            any |= violated;
            TKey key = successors.Finish(state, hash);
            keys[a] = key;
            table.Prefetch(TScheme.Stored(key));
        }

        Count = actions.Length;
        return any;
    }

    /// <summary>
    /// Notes, for every property a transition of these successors violated and that has none noted yet from an earlier
    /// parent, their parent <see cref="Source"/> and the action index (the first violation in state and action order,
    /// whatever order the states were expanded in); returns how many properties got their first.
    /// </summary>
    public int NoteViolations(int[] violationSource, int[] violationAction)
    {
        int decided = 0;
        for (int a = 0; a < Count; a++)
        {
            ulong violated = Violated[a];
            for (int p = 0; violated != 0 && p < violationSource.Length; p++)
            {
                if ((violated & (1UL << p)) != 0 && (violationSource[p] < 0 || Source < violationSource[p]))
                {
                    decided += violationSource[p] < 0 ? 1 : 0;
                    violationSource[p] = Source;
                    violationAction[p] = a;
                }
            }
        }

        return decided;
    }
}
