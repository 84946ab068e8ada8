namespace Vexlab.Checking.Engine;

/// <summary>Settings of one exhaustive search. Every limit stops the search after the current BFS level.</summary>
public sealed class CheckerOptions
{
    /// <summary>Threads that expand a BFS level. Verdicts, counts and traces do not depend on it.</summary>
    public int Workers { get; set; } = Environment.ProcessorCount;

    /// <summary>Stop (after the current level) once this many distinct states are stored.</summary>
    public long MaxStates { get; set; } = int.MaxValue - 1;

    /// <summary>
    /// Limit for the fingerprint table (including its next growth step), parent and action arrays,
    /// in-memory frontier and the liveness graph. Per-worker scratch buffers are not counted.
    /// Default: half of the memory available to the process.
    /// </summary>
    public long MaxMemoryBytes { get; set; } = DefaultMaxMemoryBytes();

    /// <summary>States at this depth are stored but not expanded.</summary>
    public int MaxDepth { get; set; } = int.MaxValue;

    /// <summary>Wall-clock limit; null for none.</summary>
    public TimeSpan? TimeLimit { get; set; }

    /// <summary>Use 128-bit fingerprints (XxHash128) instead of 64-bit ones (XxHash3).</summary>
    public bool Fingerprint128 { get; set; }

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

    /// <summary>Receives progress about every <see cref="ProgressInterval"/>, from the search thread.</summary>
    public IProgress<CheckProgress>? Progress { get; set; }

    public TimeSpan ProgressInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Clock for the time limit and progress.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Cancellation stops the search after the current level, like a limit.</summary>
    public CancellationToken CancellationToken { get; set; }

    private static long DefaultMaxMemoryBytes()
    {
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        return available > 0 ? available / 2 : 4L << 30;
    }
}
