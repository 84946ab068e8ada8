namespace Vexlab.Checking.Swarm;

/// <summary>A running swarm's totals so far, summed over its members (read while they run).</summary>
public sealed class SwarmProgress(int members)
{
    private long _states;
    private long _transitions;
    private int _done;

    public int Members { get; } = members;

    /// <summary>States the members have stored, each member's counted once (so a state two members met counts twice).</summary>
    public long States => Interlocked.Read(ref _states);

    public long Transitions => Interlocked.Read(ref _transitions);

    public int MembersDone => Volatile.Read(ref _done);

    internal void Add(long states, long transitions)
    {
        Interlocked.Add(ref _states, states);
        Interlocked.Add(ref _transitions, transitions);
    }

    internal void MemberDone() => Interlocked.Increment(ref _done);
}
