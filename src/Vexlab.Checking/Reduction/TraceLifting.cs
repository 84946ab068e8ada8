using Vexlab.Checking.Engine;

namespace Vexlab.Checking.Reduction;

/// <summary>
/// Turns a counterexample found among orbit representatives into a real execution: from the real
/// initial state, each step takes the concrete action whose successor has the next representative as
/// its canonical form (one exists, the machine being symmetric), and the last step the one that breaks
/// the property. The result replays on the plain machine (<c>vexlab replay</c>).
/// </summary>
public static class TraceLifting
{
    /// <summary>
    /// The real counterexample of a safety violation found among representatives. A lasso comes back as it is:
    /// the symmetric search found and lifted it already (<see cref="SymmetricLiveness"/>).
    /// </summary>
    public static Violation Lift(SymmetricSystem system, Violation violation)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(violation);
        if (violation.Kind != ViolationKind.Safety)
        {
            return violation;
        }

        var lifted = LiftPath(system, [.. violation.ActionIndices], IndexOf(system.SafetyProperties, violation.Property));
        return violation with { Actions = lifted.Actions, ActionIndices = lifted.Indices };
    }

    /// <summary>
    /// A real execution through the representatives that <paramref name="quotientIndices"/> (action indices of the
    /// symmetric system from its initial state) visit; with <paramref name="property"/> at least 0, its last step
    /// also breaks that safety property.
    /// </summary>
    internal static LiftedPath LiftPath(SymmetricSystem system, int[] quotientIndices, int property = -1)
    {
        var size = system.StateSize;
        var inner = system.Inner;
        var actions = new ulong[Math.Max(1, inner.MaxActions)];

        // The representatives the search went through.
        var n = quotientIndices.Length;
        var canonical = new byte[n + 1][];
        canonical[0] = new byte[size];
        system.WriteInitialState(canonical[0]);
        for (var i = 0; i < n; i++)
        {
            system.ListActions(canonical[i], actions);
            canonical[i + 1] = new byte[size];
            system.Apply(canonical[i], actions[quotientIndices[i]], canonical[i + 1]);
        }

        var state = new byte[size];
        var next = new byte[size];
        var image = new byte[size];
        inner.WriteInitialState(state);
        var taken = new ulong[n];
        var indices = new int[n];
        for (var i = 0; i < n; i++)
        {
            var count = inner.ListActions(state, actions);
            var chosen = -1;
            for (var k = 0; k < count && chosen < 0; k++)
            {
                var bits = inner.Apply(state, actions[k], next);
                next.CopyTo(image, 0);
                system.Canonicalize(image);
                var last = i == n - 1;
                if (image.AsSpan().SequenceEqual(canonical[i + 1]) && (!last || property < 0 || (bits & (1UL << property)) != 0))
                {
                    chosen = k;
                }
            }

            if (chosen < 0)
            {
                throw new InvalidOperationException(
                    $"no concrete step {i} matches the symmetric counterexample: the model is not symmetric under {system.Symmetry.Order} vCPU permutations");
            }

            taken[i] = actions[chosen];
            indices[i] = chosen;
            inner.Apply(state, actions[chosen], next);
            (state, next) = (next, state);
        }

        return new LiftedPath(indices, taken, state, canonical[n]);
    }

    private static int IndexOf(IReadOnlyList<string> names, string name)
    {
        for (var i = 0; i < names.Count; i++)
        {
            if (string.Equals(names[i], name, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }
}

/// <summary>A lifted path: the real action indices and actions, the real state it ends in and that state's representative.</summary>
internal sealed record LiftedPath(int[] Indices, ulong[] Actions, byte[] Concrete, byte[] Representative);
