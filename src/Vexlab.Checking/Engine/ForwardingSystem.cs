namespace Vexlab.Checking.Engine;

/// <summary>
/// A transition system that passes every call to the one it wraps: the base of systems that watch or slow a search
/// (<see cref="TreeCensus"/> counts the states it lists) and override only what they watch. It does not pass the
/// wrapped system's in-place interface on, so a search over it copies every successor.
/// </summary>
public abstract class ForwardingSystem(ITransitionSystem inner) : ITransitionSystem
{
    /// <summary>The wrapped system.</summary>
    protected ITransitionSystem Inner => inner;

    public int StateSize => inner.StateSize;

    public int MaxActions => inner.MaxActions;

    public IReadOnlyList<string> SafetyProperties => inner.SafetyProperties;

    public IReadOnlyList<string> LivenessProperties => inner.LivenessProperties;

    public int FairnessClasses => inner.FairnessClasses;

    public void WriteInitialState(Span<byte> state) => inner.WriteInitialState(state);

    public virtual int ListActions(ReadOnlySpan<byte> state, Span<ulong> actions) => inner.ListActions(state, actions);

    public ulong Apply(ReadOnlySpan<byte> state, ulong action, Span<byte> next) => inner.Apply(state, action, next);

    public ulong PendingObligations(ReadOnlySpan<byte> state, int property) => inner.PendingObligations(state, property);

    public int FairnessClass(ulong action) => inner.FairnessClass(action);

    public bool IsValidEnd(ReadOnlySpan<byte> state) => inner.IsValidEnd(state);

    public bool IsAlive(ReadOnlySpan<byte> state) => inner.IsAlive(state);
}
