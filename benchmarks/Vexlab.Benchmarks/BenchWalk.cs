using Vexlab.Checking;

namespace Vexlab.Benchmarks;

/// <summary>
/// A random walk of a model from its initial state, back to it at a dead end: each state the walk visits, with its
/// enabled actions, then one of them taken at random. The benchmarks that need the states and transitions a check
/// meets (not one state's successors over and over, which a branch predictor learns) take theirs from it.
/// </summary>
internal static class BenchWalk
{
    /// <summary>
    /// The visited states (each yielded in a buffer the walk reuses: copy what is kept) and their enabled actions (the
    /// first <c>count</c> of the array); runs until the caller stops.
    /// </summary>
    public static IEnumerable<(byte[] State, ulong[] Actions, int Count)> States(MachineSystem system, int seed)
    {
        var state = new byte[system.StateSize];
        var next = new byte[system.StateSize];
        var actions = new ulong[system.MaxActions];
        system.WriteInitialState(state);
        var random = new Random(seed);
        while (true)
        {
            var n = system.ListActions(state, actions);
            if (n == 0)
            {
                system.WriteInitialState(state);
                continue;
            }

            yield return (state, actions, n);
            system.Apply(state, actions[random.Next(n)], next);
            next.CopyTo(state, 0);
        }
    }
}
