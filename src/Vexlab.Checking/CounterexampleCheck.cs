using System.Globalization;
using Vexlab.Checking.Engine;

namespace Vexlab.Checking;

/// <summary>What <see cref="CounterexampleCheck.Confirm"/> found: whether the trace shows what it claims, and in words why.</summary>
/// <param name="Holds">Every action is enabled where it is taken and the end shows the property broken.</param>
/// <param name="Reason">One line for people: what was confirmed, or the first thing that was not.</param>
public sealed record Confirmation(bool Holds, string Reason);

/// <summary>
/// Re-checks a counterexample on the checker's own transition system, independently of the search that found it: a
/// trace read back from a file (edited, truncated, or written by an older model) shows its property broken only if
/// every action is enabled in the state it is taken from and the end is a violation, as the checker defines one:
/// <list type="bullet">
/// <item>a safety property: the last transition breaks it (<see cref="ITransitionSystem.Apply"/> reports its bit);</item>
/// <item><c>no-deadlock</c>: the last state has no enabled action and is not a valid end;</item>
/// <item>a liveness property (a lasso): from the loop's start on every state is alive with one obligation of the
/// property pending throughout, and either the loop returns to the state it started from and takes every fairness
/// class enabled throughout it (weak fairness, as <see cref="LivenessChecker"/> decides), or the loop is empty and the
/// last state a dead end that is not a valid end (it stutters with the obligation pending).</item>
/// </list>
/// </summary>
public static class CounterexampleCheck
{
    /// <param name="system">The transition system the trace claims to be an execution of.</param>
    /// <param name="actions">The actions from the initial state.</param>
    /// <param name="property">The property the trace claims to break (safety, <c>no-deadlock</c> or liveness).</param>
    /// <param name="loopStart">For a lasso, the index of the loop's first action (the action count: no loop, a dead end); -1 for a safety trace.</param>
    public static Confirmation Confirm(MachineSystem system, IReadOnlyList<ulong> actions, string property, int loopStart)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(actions);
        ArgumentNullException.ThrowIfNull(property);
        var safety = IndexOf(system.SafetyProperties, property);
        var liveness = IndexOf(system.LivenessProperties, property);
        var deadlock = string.Equals(property, Checker.DeadlockProperty, StringComparison.Ordinal);
        if (loopStart >= 0 ? liveness < 0 : safety < 0 && !deadlock)
        {
            return new(false, loopStart >= 0
                ? $"{property} is not a liveness property of this model, and only a liveness property has a loop"
                : $"{property} is not a safety property of this model, and a trace without a loop shows a safety violation");
        }

        if (loopStart > actions.Count)
        {
            return new(false, Text($"the loop starts at step {loopStart + 1}, after the trace's {actions.Count} steps"));
        }

        var enabled = new ulong[Math.Max(1, system.MaxActions)];
        var state = new byte[system.StateSize];
        var next = new byte[system.StateSize];
        system.WriteInitialState(state);
        byte[]? loopState = null;
        ulong lastViolated = 0;
        ulong pendingThroughout = ulong.MaxValue;
        ulong enabledThroughout = ulong.MaxValue;
        ulong taken = 0;
        for (var i = 0; ; i++)
        {
            var n = system.ListActions(state, enabled);
            if (i == loopStart)
            {
                loopState = (byte[])state.Clone();
            }

            if (loopStart >= 0 && i >= loopStart)
            {
                if (!system.IsAlive(state))
                {
                    return new(false, Text($"the state after step {i} is not alive, and a lasso runs through alive states"));
                }

                pendingThroughout &= system.PendingObligations(state, liveness);
                enabledThroughout &= Classes(system, enabled.AsSpan(0, n));
            }

            if (i == actions.Count)
            {
                return End(system, state, n, property, safety, deadlock, lastViolated, actions.Count, loopStart, loopState, pendingThroughout, enabledThroughout & ~taken);
            }

            var action = actions[i];
            if (Array.IndexOf(enabled, action, 0, n) < 0)
            {
                return new(false, Text($"step {i + 1}: {Vexlab.Model.Machine.MachineAction.Unpack(action)} is not enabled there in the checker's model"));
            }

            if (loopStart >= 0 && i >= loopStart)
            {
                taken |= Classes(system, [action]);
            }

            lastViolated = system.Apply(state, action, next);
            (state, next) = (next, state);
        }
    }

    /// <summary>
    /// Confirms a counterexample the checker is about to report; one that does not hold is a bug of the search (or of
    /// the symmetry's lifting), never a result, so it stops the check rather than reach a user as a violation.
    /// </summary>
    public static void Require(MachineSystem system, Violation violation)
    {
        ArgumentNullException.ThrowIfNull(violation);
        var confirmation = Confirm(system, violation.Actions, violation.Property, violation.Kind == ViolationKind.Lasso ? violation.LoopStart : -1);
        if (!confirmation.Holds)
        {
            throw new InvalidOperationException($"the {violation.Property} counterexample the search found does not hold on the model: {confirmation.Reason}");
        }
    }

    private static Confirmation End(MachineSystem system, byte[] state, int enabled, string property, int safety, bool deadlock,
        ulong lastViolated, int steps, int loopStart, byte[]? loopState, ulong pending, ulong untaken)
    {
        if (loopStart < 0 && !deadlock)
        {
            return (lastViolated & (1UL << safety)) != 0
                ? new(true, Text($"the last step breaks {property}"))
                : new(false, Text($"the last step does not break {property}"));
        }

        if (loopStart < 0 || loopStart == steps)
        {
            // A deadlock, or a lasso whose loop is empty: a dead end that is not a valid end (it stutters).
            if (enabled > 0)
            {
                return new(false, Text($"{enabled} actions are enabled at the end, so it is no dead end"));
            }

            if (system.IsValidEnd(state))
            {
                return new(false, "the end is a valid end (nothing is left to do), so it is no deadlock");
            }

            return loopStart < 0
                ? new(true, "no action is enabled at the end, and it is not a valid end")
                : pending != 0
                    ? new(true, Text($"the end is a dead end with an obligation of {property} pending: it stutters"))
                    : new(false, Text($"the end is a dead end, but no obligation of {property} is pending there"));
        }

        if (pending == 0)
        {
            return new(false, Text($"no obligation of {property} stays pending from the loop's start on"));
        }

        if (loopState is null || !state.AsSpan().SequenceEqual(loopState))
        {
            return new(false, Text($"the loop does not return to {StateAfter(loopStart)}, where it started"));
        }

        return untaken == 0
            ? new(true, Text($"the loop returns to {StateAfter(loopStart)} with an obligation of {property} pending throughout, and takes every action class enabled throughout it"))
            : new(false, "the loop is not weakly fair: an action class enabled throughout it is never taken in it");
    }

    private static ulong Classes(MachineSystem system, ReadOnlySpan<ulong> actions)
    {
        ulong classes = 0;
        foreach (var action in actions)
        {
            var c = system.FairnessClass(action);
            classes |= c >= 0 ? 1UL << c : 0;
        }

        return classes;
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

    private static string StateAfter(int step) => step == 0 ? "the initial state" : Text($"the state after step {step}");

    private static string Text(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
