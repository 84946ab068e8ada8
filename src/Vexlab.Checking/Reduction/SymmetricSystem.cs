using Vexlab.Checking.Engine;

namespace Vexlab.Checking.Reduction;

/// <summary>
/// The quotient of a <see cref="MachineSystem"/> under its vCPU symmetry: every state the engine sees
/// (the initial one and each successor) is the representative of its orbit, so the engine stores one
/// state per orbit (through the span overloads: a canonical successor rewrites the whole state, which no
/// in-place undo record covers). Sound because the machine treats interchangeable vCPUs alike: a permuted state's
/// successors are the permuted successors, with the same violations (the symmetry tests check this on
/// every reachable state). Liveness is searched on the real states over the quotient's candidate
/// components (<see cref="SymmetricLiveness"/>): weak fairness is per vCPU, and a cycle of representatives
/// may relabel the vCPUs on the way round.
/// </summary>
public sealed class SymmetricSystem : ITransitionSystem, IActionKinds, IQuotientLiveness, IDisposable
{
    private readonly MachineSystem _inner;
    private readonly ThreadLocal<byte[]> _scratch;

    public SymmetricSystem(MachineSystem inner, VcpuSymmetry symmetry)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(symmetry);
        _inner = inner;
        Symmetry = symmetry;
        _scratch = new ThreadLocal<byte[]>(() => new byte[2 * inner.StateSize]);
    }

    public VcpuSymmetry Symmetry { get; }

    public MachineSystem Inner => _inner;

    public int StateSize => _inner.StateSize;

    public int MaxActions => _inner.MaxActions;

    public IReadOnlyList<string> SafetyProperties => _inner.SafetyProperties;

    public IReadOnlyList<string> LivenessProperties => _inner.LivenessProperties;

    public int FairnessClasses => _inner.FairnessClasses;

    public IReadOnlyList<string> ActionKindNames => _inner.ActionKindNames;

    public void Dispose() => _scratch.Dispose();

    /// <summary>Replaces <paramref name="state"/> by the representative of its orbit.</summary>
    public void Canonicalize(Span<byte> state) => Symmetry.Canonicalize(state, _scratch.Value);

    public void WriteInitialState(Span<byte> state)
    {
        _inner.WriteInitialState(state);
        Canonicalize(state);
    }

    public int ListActions(ReadOnlySpan<byte> state, Span<ulong> actions) => _inner.ListActions(state, actions);

    public ulong Apply(ReadOnlySpan<byte> state, ulong action, Span<byte> next)
    {
        var bits = _inner.Apply(state, action, next);
        Canonicalize(next);
        return bits;
    }

    /// <summary>The representative's obligations; only whether any is pending is used (it does not depend on the numbering).</summary>
    public ulong PendingObligations(ReadOnlySpan<byte> state, int property) => _inner.PendingObligations(state, property);

    public int FairnessClass(ulong action) => _inner.FairnessClass(action);

    public bool IsValidEnd(ReadOnlySpan<byte> state) => _inner.IsValidEnd(state);

    public bool IsAlive(ReadOnlySpan<byte> state) => _inner.IsAlive(state);

    public int ActionKind(ulong action) => _inner.ActionKind(action);

    Violation? IQuotientLiveness.FindLasso(LivenessChecker quotient, int property, Func<int, List<int>> pathTo) =>
        SymmetricLiveness.Find(this, quotient, property, pathTo);
}
