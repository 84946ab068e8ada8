namespace Vexlab.Checking.Engine;

/// <summary>
/// Settings of one exhaustive search. The state-count, time, memory, spill and cancellation limits are checked
/// between small blocks of states, so a search stops within a few milliseconds and a few thousand states of them.
/// </summary>
public sealed class CheckerOptions
{
    /// <summary>Threads that expand a BFS level. Verdicts, counts and traces do not depend on it.</summary>
    public int Workers { get; set; } = Environment.ProcessorCount;

    /// <summary>Stop once this many distinct states are stored (overshooting by at most one block's successors).</summary>
    public long MaxStates { get; set; } = int.MaxValue - 1;

    /// <summary>
    /// Limit for everything the search holds in memory: the fingerprint table (at the size it grows to; a compact one
    /// with its old arrays beside the new while it grows), parent and action arrays, the in-memory frontier, the liveness graph and the workers'
    /// buffers. The search stops before a block whose worst case would cross it.
    /// Default: half of the memory available to the process.
    /// </summary>
    public long MaxMemoryBytes { get; set; } = DefaultMaxMemoryBytes();

    /// <summary>States at this depth are stored but not expanded.</summary>
    public int MaxDepth { get; set; } = int.MaxValue;

    /// <summary>Wall-clock limit; null for none.</summary>
    public TimeSpan? TimeLimit { get; set; }

    /// <summary>Use 128-bit fingerprints (XxHash128) instead of 64-bit ones (XxHash3).</summary>
    public bool Fingerprint128 { get; set; }

    /// <summary>
    /// How visited states are stored. <see cref="StateCompression.Compact"/> keeps 60 of the 64 fingerprint bits in
    /// 6 bytes a slot at scale (the collision probability reported follows); verdicts, counts and traces are those of
    /// the wide table unless two states share those 60 bits. Not with <see cref="Fingerprint128"/>.
    /// </summary>
    public StateCompression Compression { get; set; }

    /// <summary>Report reachable states without enabled actions that are not valid ends ("no-deadlock").</summary>
    public bool CheckDeadlock { get; set; } = true;

    /// <summary>Run the liveness phase when the system declares liveness properties.</summary>
    public bool CheckLiveness { get; set; } = true;

    /// <summary>
    /// In-memory bytes for the current and next frontier together; past it, states spill to a temporary file.
    /// Null: a quarter of <see cref="MaxMemoryBytes"/>.
    /// </summary>
    public long? FrontierMemoryBytes { get; set; }

    /// <summary>Folder for frontier spill files; null for the system temporary folder.</summary>
    public string? SpillDirectory { get; set; }

    /// <summary>
    /// Limit for the bytes the frontier spill files hold at once; the search stops before a block that could
    /// cross it. Null: half of the free space of the spill folder when the search starts.
    /// </summary>
    public long? MaxSpillBytes { get; set; }

    /// <summary>
    /// Folder for checkpoints: written every <see cref="CheckpointInterval"/> and whenever a limit or
    /// cancellation stops the search before it is complete. Null: no checkpoints.
    /// </summary>
    public string? CheckpointDirectory { get; set; }

    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>A checkpoint folder to continue from; the search then ends as the uninterrupted one would.</summary>
    public string? ResumeDirectory { get; set; }

    /// <summary>
    /// What the search is of (model, protocol, settings, properties), stored in checkpoints; resuming requires
    /// the same text, so a checkpoint is never continued under a different model.
    /// </summary>
    public string CheckpointIdentity { get; set; } = string.Empty;

    /// <summary>
    /// Called once, from the search thread, when the options have been found good and the search is set up (the
    /// checkpoint it resumes read and found to be of this check), before the first state is expanded: what a caller
    /// says only of a check that runs (its replay line) goes there, after every refusal of its input.
    /// </summary>
    public Action? Started { get; set; }

    /// <summary>Receives progress about every <see cref="ProgressInterval"/>, from the search thread.</summary>
    public IProgress<CheckProgress>? Progress { get; set; }

    public TimeSpan ProgressInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Clock for the time limit and progress.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// Safety search with one worker through the multi-worker path (shared table, first-seen sets, commit phase)
    /// instead of the serial one: the same result, and the cost of that path with nothing to share, for the bench's
    /// account of what a second worker can gain.
    /// </summary>
    internal bool SharedPathWithOneWorker { get; set; }

    /// <summary>Cancellation stops the search after the current level, like a limit.</summary>
    public CancellationToken CancellationToken { get; set; }

    /// <summary>
    /// A copy of every setting, for a search run beside or after this one with a few of them changed (the
    /// matrix's cells, each with its own cancellation and start callback). A copy rather than a list of
    /// fields so that a setting added later reaches every cell.
    /// </summary>
    public CheckerOptions Copy() => (CheckerOptions)MemberwiseClone();

    private static long DefaultMaxMemoryBytes()
    {
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        return available > 0 ? available / 2 : 4L << 30;
    }
}
