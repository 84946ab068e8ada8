namespace Vexlab.Checking.Engine;

/// <summary>
/// A transition system that passes every call to the one it wraps: the base of systems that watch or slow a search
/// (<see cref="TreeCensus"/> counts the states it lists) or narrow its properties, and override only what they change.
/// It does not pass the wrapped system's in-place interface on, so a search over it copies every successor.
/// </summary>
public abstract class ForwardingSystem(ITransitionSystem inner) : ITransitionSystem
{
    /// <summary>The wrapped system.</summary>
    protected ITransitionSystem Inner => inner;

    public virtual int StateSize => inner.StateSize;

    public virtual int MaxActions => inner.MaxActions;

    public virtual IReadOnlyList<string> SafetyProperties => inner.SafetyProperties;

    public virtual IReadOnlyList<string> LivenessProperties => inner.LivenessProperties;

    public virtual int FairnessClasses => inner.FairnessClasses;

    public virtual void WriteInitialState(Span<byte> state) => inner.WriteInitialState(state);

    public virtual int ListActions(ReadOnlySpan<byte> state, Span<ulong> actions) => inner.ListActions(state, actions);

    public virtual ulong Apply(ReadOnlySpan<byte> state, ulong action, Span<byte> next) => inner.Apply(state, action, next);

    public virtual ulong PendingObligations(ReadOnlySpan<byte> state, int property) => inner.PendingObligations(state, property);

    public virtual int FairnessClass(ulong action) => inner.FairnessClass(action);

    public virtual bool IsValidEnd(ReadOnlySpan<byte> state) => inner.IsValidEnd(state);

    public virtual bool IsAlive(ReadOnlySpan<byte> state) => inner.IsAlive(state);
}
