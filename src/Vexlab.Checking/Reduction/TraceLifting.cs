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
    public static Violation Lift(SymmetricSystem system, Violation violation)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(violation);
        if (violation.Kind != ViolationKind.Safety)
        {
            throw new ArgumentException("only safety counterexamples come from a symmetric search", nameof(violation));
        }

        var size = system.StateSize;
        var inner = system.Inner;
        var property = IndexOf(system.SafetyProperties, violation.Property);

        // The representatives the search went through.
        var n = violation.Actions.Count;
        var canonical = new byte[n + 1][];
        canonical[0] = new byte[size];
        system.WriteInitialState(canonical[0]);
        for (var i = 0; i < n; i++)
        {
            canonical[i + 1] = new byte[size];
            system.Apply(canonical[i], violation.Actions[i], canonical[i + 1]);
        }

        var state = new byte[size];
        var next = new byte[size];
        var image = new byte[size];
        inner.WriteInitialState(state);
        var actions = new ulong[Math.Max(1, inner.MaxActions)];
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
                    $"no concrete step {i} matches the symmetric counterexample of {violation.Property}: the model is not symmetric under {system.Symmetry.Order} vCPU permutations");
            }

            taken[i] = actions[chosen];
            indices[i] = chosen;
            inner.Apply(state, actions[chosen], next);
            (state, next) = (next, state);
        }

        return violation with { Actions = taken, ActionIndices = indices };
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
