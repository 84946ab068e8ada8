using System.Diagnostics;
using Vexlab.Checking.Engine;

namespace Vexlab.Checking;

/// <summary>
/// The checker's throughput on the built-in <c>bench</c> model, beside the bare fingerprint table. CpuTime is the
/// processor time of the whole process during the check (all threads): on a loaded machine, states per
/// processor-second is the figure that does not depend on what else runs.
/// </summary>
public sealed record CheckerBenchResult(
    long States,
    long Transitions,
    double StatesPerSec,
    double TransitionsPerSec,
    double Branching,
    double BytesPerState,
    int Workers,
    double BaselineStatesPerSec,
    TimeSpan Elapsed,
    TimeSpan CpuTime)
{
    /// <summary>How the visited states were stored in this run.</summary>
    public StateCompression Compression { get; init; }

    /// <summary>Fingerprint bits each stored state kept, and the collision probability they give.</summary>
    public int FingerprintBits { get; init; }

    public double CollisionProbability { get; init; }

    public double StatesPerCpuSecond => States / Math.Max(1e-9, CpuTime.TotalSeconds);

    /// <summary>Mean bytes of an encoded frontier record (the state's difference from the initial state, and its fingerprint): what each state costs in level memory traffic.</summary>
    public int RecordBytes { get; init; }

    /// <summary>Bytes of a full record (the state and its fingerprint), as the search decodes it.</summary>
    public int FullRecordBytes { get; init; }

    /// <summary>The largest in-memory frontier (two levels, encoded) of the run.</summary>
    public long FrontierPeakBytes { get; init; }

    /// <summary>Times the run grew its fingerprint table, and the wall-clock time the growths took (moved by every worker's thread while the search waits).</summary>
    public int TableGrowths { get; init; }

    /// <inheritdoc cref="TableGrowths"/>
    public TimeSpan TableGrowthTime { get; init; }

    /// <summary>The growths' time faulting in new slots, and the bytes (see <see cref="Engine.CheckResult.TableFaultInTime"/>).</summary>
    public TimeSpan TableFaultInTime { get; init; }

    /// <inheritdoc cref="TableFaultInTime"/>
    public long TableFaultInBytes { get; init; }

    /// <summary>The rate the kernel faulted in the growths' new slots, bytes a second (zero when it faulted in none).</summary>
    public double FaultInBytesPerSecond => TableFaultInBytes == 0 ? 0 : TableFaultInBytes / Math.Max(1e-9, TableFaultInTime.TotalSeconds);

    /// <summary>The multi-worker path's time: its blocks, their parallel phases, and the worker time the phases left idle (see <see cref="Engine.CheckResult.SharedPathTime"/>).</summary>
    public TimeSpan SharedPathTime { get; init; }

    /// <inheritdoc cref="SharedPathTime"/>
    public TimeSpan ParallelPhaseTime { get; init; }

    /// <inheritdoc cref="SharedPathTime"/>
    public TimeSpan WorkerWaitTime { get; init; }

    /// <summary>The growths' share of the run's wall-clock time.</summary>
    public double TableGrowthShare => TableGrowthTime.TotalSeconds / Math.Max(1e-9, Elapsed.TotalSeconds);
}

/// <summary>
/// A <see cref="TreeCensus"/> of the bench model's search: the states it expanded, the distinct roots and nodes
/// below them (per level, leaves first), the least bytes a state tree compression would take, and the bytes a state
/// the same search's fingerprint table took (parent links included).
/// </summary>
public sealed record TreeCensusResult(long States, long Roots, long Nodes, IReadOnlyList<long> NodesPerLevel, double LeastBytesPerState, double FingerprintBytesPerState, TimeSpan Elapsed);

public static class CheckerBench
{
    /// <summary>
    /// Checks the bench model with <paramref name="workers"/> workers, storing states as <paramref name="compression"/>
    /// says; <paramref name="baseline"/>: time the bare fingerprint table on as many keys afterwards.
    /// </summary>
    public static CheckerBenchResult Run(int workers, long maxStates = int.MaxValue - 1, StateCompression compression = StateCompression.None, bool baseline = true)
        => Run(workers, maxStates, compression, baseline, sharedPath: false);

    /// <summary>
    /// Checks the bench model on one worker through a <see cref="TreeCensus"/>: what tree compression would store for
    /// its states, beside what the fingerprint table stored for them in the same run.
    /// </summary>
    public static TreeCensusResult RunTreeCensus(long maxStates = int.MaxValue - 1)
    {
        var request = new CheckRequest("bench", "kvm-pf-int", [], ["no-deadlock"]);
        using var system = ModelCheck.BuildSystem(request);
        var census = new TreeCensus(system);
        var result = Checker.Run(census, new CheckerOptions { Workers = 1, MaxStates = maxStates, CheckLiveness = false, CheckDeadlock = true });
        return new TreeCensusResult(census.States, census.Roots, census.Nodes, census.NodesPerLevel, census.LeastBytesPerState, result.BytesPerState, result.Elapsed);
    }

    /// <summary>
    /// <paramref name="checks"/> one-worker checks of the bench model at once, each on a thread of its own with its
    /// own table and frontier, started together: they share nothing but the machine, so what they reach together is
    /// what this machine lets that many workers reach, the ceiling of a parallel check's speedup measured rather than
    /// assumed (a memory copy rate says little about a search's cache and TLB misses).
    /// </summary>
    public static IReadOnlyList<CheckerBenchResult> RunSideBySide(int checks, long maxStates = int.MaxValue - 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(checks, 2);
        var results = new CheckerBenchResult[checks];
        var failures = new Exception?[checks];
        using var start = new Barrier(checks);
        var threads = new Thread[checks];
        for (int i = 0; i < checks; i++)
        {
            int index = i;
            threads[i] = new Thread(() =>
            {
                start.SignalAndWait();
                try
                {
                    results[index] = Run(1, maxStates, StateCompression.None, baseline: false);
                }
                catch (Exception e)
                {
                    // An exception on a thread of its own would end the process; the caller gets it instead, as it
                    // would from any other run of the bench.
                    failures[index] = e;
                }
            });
            threads[i].Start();
        }

        foreach (Thread thread in threads)
        {
            thread.Join();
        }

        foreach (Exception? failure in failures)
        {
            if (failure is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
            }
        }

        return results;
    }

    /// <summary>States a second that side-by-side checks reached together: all their states over the longest one's wall clock.</summary>
    public static double TogetherRate(IReadOnlyList<CheckerBenchResult> sideBySide)
    {
        ArgumentNullException.ThrowIfNull(sideBySide);
        long states = 0;
        double longest = 1e-9;
        foreach (CheckerBenchResult run in sideBySide)
        {
            states += run.States;
            longest = Math.Max(longest, run.Elapsed.TotalSeconds);
        }

        return states / longest;
    }

    /// <summary>One worker through the multi-worker path (shared table, first-seen sets, commit): that path's cost per state.</summary>
    public static CheckerBenchResult RunSharedPath(long maxStates = int.MaxValue - 1)
        => Run(1, maxStates, StateCompression.None, baseline: false, sharedPath: true);

    private static CheckerBenchResult Run(int workers, long maxStates, StateCompression compression, bool baseline, bool sharedPath)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(workers);
        var request = new CheckRequest("bench", "kvm-pf-int", [], ["no-deadlock"]);
        using var system = ModelCheck.BuildSystem(request);
        using var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var result = Checker.Run(system, new CheckerOptions { Workers = workers, MaxStates = maxStates, CheckLiveness = false, CheckDeadlock = true, Compression = compression, SharedPathWithOneWorker = sharedPath });
        process.Refresh();
        var cpu = process.TotalProcessorTime - cpuBefore;
        var seconds = Math.Max(1e-9, result.Elapsed.TotalSeconds);
        double baselineRate = baseline ? CheckerBaseline.Run(Math.Max(1_000, Math.Min(result.States, 10_000_000))).KeysPerSecond : 0;
        return new CheckerBenchResult(
            result.States,
            result.Transitions,
            result.States / seconds,
            result.Transitions / seconds,
            result.States == 0 ? 0 : (double)result.Transitions / result.States,
            result.BytesPerState,
            workers,
            baselineRate,
            result.Elapsed,
            cpu)
        {
            Compression = compression,
            FingerprintBits = result.FingerprintBits,
            CollisionProbability = result.CollisionProbability,
            RecordBytes = (int)Math.Round(result.FrontierWrittenBytes / (double)Math.Max(1, result.States)),
            FullRecordBytes = system.StateSize + (result.FingerprintBits > 64 ? 16 : 8),
            FrontierPeakBytes = result.FrontierPeakBytes,
            TableGrowths = result.TableGrowths,
            TableGrowthTime = result.TableGrowthTime,
            TableFaultInTime = result.TableFaultInTime,
            TableFaultInBytes = result.TableFaultInBytes,
            SharedPathTime = result.SharedPathTime,
            ParallelPhaseTime = result.ParallelPhaseTime,
            WorkerWaitTime = result.WorkerWaitTime,
        };
    }
}
