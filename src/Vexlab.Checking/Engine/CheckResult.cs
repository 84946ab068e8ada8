namespace Vexlab.Checking.Engine;

public enum Verdict
{
    Pass,
    Violation,
    Incomplete,
}

public enum ViolationKind
{
    /// <summary>A finite trace ending with the violating transition (or the deadlocked state).</summary>
    Safety,

    /// <summary>A stem followed by a loop that repeats forever (an empty loop: the last state stutters).</summary>
    Lasso,
}

public enum StopReason
{
    /// <summary>Every reachable state was expanded.</summary>
    Exhausted,

    /// <summary>Every requested property had a verdict before the state space was exhausted.</summary>
    AllPropertiesDecided,
    MaxStates,
    MaxMemory,
    MaxDepth,
    TimeLimit,

    /// <summary>The frontier spill would have crossed its disk budget.</summary>
    MaxSpill,
    Cancelled,
}

/// <summary>One counterexample. Actions start from the initial state.</summary>
public sealed record Violation(
    string Property,
    ViolationKind Kind,
    IReadOnlyList<ulong> Actions,
    IReadOnlyList<int> ActionIndices,
    int LoopStart);

/// <summary>Transitions taken and new states found per action kind.</summary>
public sealed record ActionCoverage(string Kind, long Transitions, long NewStates);

public sealed record CheckResult
{
    public required Verdict Verdict { get; init; }
    public required StopReason StopReason { get; init; }
    public required long States { get; init; }
    public required long Transitions { get; init; }

    /// <summary>Depth of the deepest stored state (the initial state has depth 0).</summary>
    public required int Depth { get; init; }

    /// <summary>(table bytes including empty slots + parent and action-index bytes) / distinct states.</summary>
    public required double BytesPerState { get; init; }

    /// <summary>Peak in-memory bytes of the current and next frontier (records encoded as differences from the initial state).</summary>
    public required long FrontierPeakBytes { get; init; }

    /// <summary>
    /// Encoded bytes of all the records this run wrote to its levels (not in the JSON: a resumed run counts from its
    /// checkpoint on); over the states, the mean size of a frontier record.
    /// </summary>
    public long FrontierWrittenBytes { get; init; }

    /// <summary>Bytes written to the frontier spill file in total.</summary>
    public required long FrontierSpilledBytes { get; init; }

    /// <summary>
    /// Times this run grew the fingerprint table, and the wall-clock time the growths took (rehashing and faulting in
    /// the new slots, on every worker's thread while the search waits). Not in the check's JSON: the count depends on the
    /// blocks, so on the workers, and a resumed run counts from its checkpoint on.
    /// </summary>
    public int TableGrowths { get; init; }

    /// <inheritdoc cref="TableGrowths"/>
    public TimeSpan TableGrowthTime { get; init; }

    /// <summary>
    /// The part of <see cref="TableGrowthTime"/> the growths spent having the kernel fault in their new slots (overlapped
    /// with the moves where several threads grow the table), and the bytes faulted in; see
    /// <see cref="FingerprintTable{TKey, TScheme}.FaultInTime"/>. Not in the check's JSON, as <see cref="TableGrowths"/>.
    /// </summary>
    public TimeSpan TableFaultInTime { get; init; }

    /// <inheritdoc cref="TableFaultInTime"/>
    public long TableFaultInBytes { get; init; }

    /// <summary>
    /// Where the multi-worker path's wall clock went (zero when the search never took it): its blocks in all, the
    /// parallel phases of those blocks (expand, keep, commit, copy; each ends at a barrier), and the worker time those
    /// phases left idle, the workers waiting for the slowest of them. The rest of the blocks' time ran between the
    /// phases: ids, parent links and places in the next level on one thread, the table's growths on every worker's.
    /// Not in the check's JSON, as
    /// <see cref="TableGrowths"/>.
    /// </summary>
    public TimeSpan SharedPathTime { get; init; }

    /// <inheritdoc cref="SharedPathTime"/>
    public TimeSpan ParallelPhaseTime { get; init; }

    /// <inheritdoc cref="SharedPathTime"/>
    public TimeSpan WorkerWaitTime { get; init; }

    public required int FingerprintBits { get; init; }

    /// <summary>How visited states were stored; <see cref="FingerprintBits"/> are the bits each kept.</summary>
    public StateCompression Compression { get; init; }

    /// <summary>Birthday estimate n^2 / 2^(b+1) of any fingerprint collision among n states with b-bit fingerprints.</summary>
    public required double CollisionProbability { get; init; }

    public required IReadOnlyList<ActionCoverage> Coverage { get; init; }

    /// <summary>One shortest counterexample per violated property: safety properties, then "no-deadlock", then liveness properties.</summary>
    public required IReadOnlyList<Violation> Violations { get; init; }

    /// <summary>True when liveness was requested but could not be decided (incomplete search or graph too large).</summary>
    public required bool LivenessIncomplete { get; init; }

    /// <summary>
    /// Bytes the search still held when its fair-cycle search was sized against MaxMemoryBytes (after handing back the
    /// table and the frontier's idle chunks); 0 when none was sized.
    /// </summary>
    internal long LivenessHeldBytes { get; init; }

    /// <summary>Human-readable remarks, e.g. why liveness is incomplete.</summary>
    public required IReadOnlyList<string> Notes { get; init; }

    public required TimeSpan Elapsed { get; init; }

    /// <summary>The checkpoint folder written when the search stopped early; null when none was written.</summary>
    public string? Checkpoint { get; init; }

    /// <summary>True when the search ended on its own: every state explored or every property decided.</summary>
    public bool Complete => StopReason is StopReason.Exhausted or StopReason.AllPropertiesDecided && !LivenessIncomplete;
}

/// <summary>A progress sample.</summary>
public readonly record struct CheckProgress(
    long States,
    int Depth,
    long FrontierStates,
    double StatesPerSecond,
    long MemoryBytes,
    TimeSpan Elapsed)
{
    /// <summary>Bytes the frontier spill files hold.</summary>
    public long SpillBytes { get; init; }

    /// <summary>True for the sample sent when the search ends.</summary>
    public bool Final { get; init; }
}
