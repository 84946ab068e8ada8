namespace Vexlab.Checking.Engine;

/// <summary>
/// A deterministic, finite transition system over packed, canonical states of a fixed size.
/// The checker owns all memory; implementations must not allocate per call and must be safe
/// to call concurrently from several threads (they are pure functions of their arguments).
/// </summary>
public interface ITransitionSystem
{
    /// <summary>Bytes of one packed, canonical state (fixed per configuration).</summary>
    int StateSize { get; }

    /// <summary>Upper bound of <see cref="ListActions"/>' count.</summary>
    int MaxActions { get; }

    void WriteInitialState(Span<byte> state);

    /// <summary>Writes the enabled actions of <paramref name="state"/> in a canonical order; returns their count.</summary>
    int ListActions(ReadOnlySpan<byte> state, Span<ulong> actions);

    /// <summary>
    /// Writes the successor of <paramref name="state"/> under <paramref name="action"/> into <paramref name="next"/>.
    /// Returns a bitmask: bit i set means safety property i is violated by this transition or by <paramref name="next"/>.
    /// </summary>
    ulong Apply(ReadOnlySpan<byte> state, ulong action, Span<byte> next);

    /// <summary>Safety property names; bit i of <see cref="Apply"/>'s result is index i.</summary>
    IReadOnlyList<string> SafetyProperties { get; }

    /// <summary>Liveness property names.</summary>
    IReadOnlyList<string> LivenessProperties { get; }

    /// <summary>
    /// Obligations outstanding in <paramref name="state"/> for liveness property <paramref name="property"/>
    /// (bit j = obligation j). The property is violated iff a reachable weakly fair cycle of alive states keeps
    /// some bit j set in every state, or a reachable alive dead end (no action, not a valid end) has a bit set.
    /// </summary>
    ulong PendingObligations(ReadOnlySpan<byte> state, int property);

    /// <summary>Number of weak-fairness classes (at most 64).</summary>
    int FairnessClasses { get; }

    /// <summary>-1: no fairness; otherwise the weakly fair class of <paramref name="action"/>.</summary>
    int FairnessClass(ulong action);

    /// <summary>True for a state without enabled actions that is a legitimate end.</summary>
    bool IsValidEnd(ReadOnlySpan<byte> state);

    /// <summary>Liveness is judged only on paths whose states satisfy this.</summary>
    bool IsAlive(ReadOnlySpan<byte> state);
}

/// <summary>
/// Optional companion of <see cref="ITransitionSystem"/>: groups actions into kinds for the coverage report.
/// <see cref="ActionKind"/> is called once per transition and must be cheap.
/// </summary>
public interface IActionKinds
{
    /// <summary>Kind names; <see cref="ActionKind"/> returns an index into this list.</summary>
    IReadOnlyList<string> ActionKindNames { get; }

    int ActionKind(ulong action);
}

/// <summary>
/// Optional companion of <see cref="ITransitionSystem"/> for states the engine holds in arrays: the system may
/// read the state where it lies and build the successor in place, saving the copies of the span overloads.
/// Results must equal those of <see cref="ITransitionSystem.ListActions"/> and <see cref="ITransitionSystem.Apply"/>.
/// </summary>
public interface IInPlaceTransitionSystem
{
    /// <summary>As <see cref="ITransitionSystem.ListActions"/> for the state at <paramref name="offset"/> in <paramref name="states"/>.</summary>
    int ListActions(byte[] states, int offset, Span<ulong> actions);

    /// <summary>As <see cref="ITransitionSystem.Apply"/>, reading at <paramref name="offset"/> and writing at <paramref name="nextOffset"/>.</summary>
    ulong Apply(byte[] states, int offset, ulong action, byte[] next, int nextOffset);

    /// <summary>
    /// As <see cref="ITransitionSystem.Apply"/>, changing the state at <paramref name="offset"/> in <paramref name="state"/>
    /// itself into the successor (the engine keeps the parent and undoes the change).
    /// </summary>
    ulong ApplyInPlace(byte[] state, int offset, ulong action);
}
