using System.Buffers.Binary;
using Vexlab.Checking.Engine;

namespace Vexlab.Checking.Tests.Engine;

/// <summary>
/// The shared path reports, for a level, the dead end and the violation of the smallest state id (block order),
/// whatever order a worker met them in: with 2 and 3 workers the result is that of one worker.
/// </summary>
/// <remarks>
/// The workers' counters are merged in worker order and a lower worker's slice lies earlier in the block, so a find
/// of a lower worker always stands; the order matters only inside one worker. A worker taking its segment's chunks
/// from the back (<see cref="SegmentClaims"/>) meets a later chunk's finds before an earlier chunk's, and only there
/// does keeping the first one met instead of the smallest show. Left to the workers' speeds, a level this small is
/// listed whole by the first worker to start, in block order, before the second's thread runs (so it was in 16 runs
/// of 16 with 2 and 3 workers), and the order never shows; so these tests hold the front worker at the level's first
/// state until the back worker has met both finds, in two of its chunks, the larger first.
/// </remarks>
public sealed class SharedPathFirstFindTests
{
    // Level 1 holds the root's 256 successors, node k with id k at the level's position k - 1. Chunks are 64 states:
    // with 2 workers the back worker takes [192, 256), [128, 192), [64, 128); with 3, its segment is [0, 170) and it
    // takes [128, 170), [64, 128) (the third worker has [170, 256) alone). Both finds lie in its chunks, the larger one
    // in the chunk it takes first.
    private const int Width = 256;
    private const int Smaller = 101;
    private const int Larger = 151;

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void The_dead_end_reported_is_the_smallest_id_a_back_going_worker_met(int workers)
    {
        // SearchEngine.Shared's Expand keeps a worker's dead end of the smallest source, not the first it met.
        using var finds = new FanSystem(deadEnds: true, holdFront: false);
        CheckResult reference = Run(finds, 1);
        Violation deadlock = Assert.Single(reference.Violations);
        Assert.Equal(Checker.DeadlockProperty, deadlock.Property);
        Assert.Equal([Smaller - 1], deadlock.ActionIndices);

        using var held = new FanSystem(deadEnds: true, holdFront: true);
        CheckResult other = Run(held, workers);
        held.AssertBackWorkerMetLargerFirst();
        CheckerTests.AssertSameResult(reference, other);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void The_violation_reported_is_the_smallest_source_a_back_going_worker_met(int workers)
    {
        // PendingSuccessors.NoteViolations keeps a worker's violation of the smallest source, not the first it met.
        using var finds = new FanSystem(deadEnds: false, holdFront: false);
        CheckResult reference = Run(finds, 1);
        Violation violation = Assert.Single(reference.Violations);
        Assert.Equal("bad", violation.Property);
        Assert.Equal([Smaller - 1, 0], violation.ActionIndices);

        using var held = new FanSystem(deadEnds: false, holdFront: true);
        CheckResult other = Run(held, workers);
        held.AssertBackWorkerMetLargerFirst();
        CheckerTests.AssertSameResult(reference, other);
    }

    private static CheckResult Run(ITransitionSystem system, int workers)
    {
        CheckResult result = Checker.Run(system, new CheckerOptions { Workers = workers, MaxMemoryBytes = 1L << 30 });
        Assert.Equal(1 + Width, result.States);
        Assert.True(workers == 1 || result.SharedPathTime > TimeSpan.Zero, "the level was not expanded on the shared path");
        return result;
    }

    /// <summary>
    /// The root (node 0) and its <see cref="Width"/> successors, nodes 1 to <see cref="Width"/>; every successor loops
    /// on itself, except the two finds: with <c>deadEnds</c> they have no action, without, their loop violates "bad".
    /// With <c>holdFront</c> listing node 1, the front worker's first state, waits until <see cref="Smaller"/> has
    /// been listed.
    /// </summary>
    private sealed class FanSystem(bool deadEnds, bool holdFront) : ITransitionSystem, IDisposable
    {
        private static readonly TimeSpan s_hold = TimeSpan.FromSeconds(60);

        private readonly ManualResetEventSlim _smallerListed = new();
        private readonly long[] _listedAt = new long[Width + 1];
        private readonly int[] _listedOn = new int[Width + 1];
        private long _listings;
        private bool _heldTooLong;

        public int StateSize => 4;

        public int MaxActions => Width;

        public IReadOnlyList<string> SafetyProperties { get; } = ["bad"];

        public IReadOnlyList<string> LivenessProperties { get; } = [];

        public int FairnessClasses => 0;

        public void WriteInitialState(Span<byte> state) => BinaryPrimitives.WriteInt32LittleEndian(state, 0);

        public int ListActions(ReadOnlySpan<byte> state, Span<ulong> actions)
        {
            int node = BinaryPrimitives.ReadInt32LittleEndian(state);
            if (Interlocked.CompareExchange(ref _listedAt[node], Interlocked.Increment(ref _listings), 0) == 0)
            {
                _listedOn[node] = Environment.CurrentManagedThreadId;
            }

            if (node == Smaller)
            {
                _smallerListed.Set();
            }

            if (holdFront && node == 1 && !_smallerListed.Wait(s_hold))
            {
                _heldTooLong = true;
            }

            if (node == 0)
            {
                for (int i = 0; i < Width; i++)
                {
                    actions[i] = (ulong)(i + 1);
                }

                return Width;
            }

            if (deadEnds && IsFind(node))
            {
                return 0;
            }

            actions[0] = (ulong)node;
            return 1;
        }

        public ulong Apply(ReadOnlySpan<byte> state, ulong action, Span<byte> next)
        {
            BinaryPrimitives.WriteInt32LittleEndian(next, (int)action);
            int node = BinaryPrimitives.ReadInt32LittleEndian(state);
            return node != 0 && !deadEnds && IsFind(node) ? 1UL : 0UL;
        }

        public ulong PendingObligations(ReadOnlySpan<byte> state, int property) => 0;

        public int FairnessClass(ulong action) => -1;

        public bool IsValidEnd(ReadOnlySpan<byte> state) => false;

        public bool IsAlive(ReadOnlySpan<byte> state) => true;

        /// <summary>The premise of the tests: one worker (one thread) listed both finds, the larger one first.</summary>
        public void AssertBackWorkerMetLargerFirst()
        {
            Assert.False(_heldTooLong, "the back worker did not reach the smaller find while the front worker was held");
            Assert.Equal(_listedOn[Larger], _listedOn[Smaller]);
            Assert.True(_listedAt[Larger] < _listedAt[Smaller], "the larger find was not met first");
        }

        public void Dispose() => _smallerListed.Dispose();

        private static bool IsFind(int node) => node is Smaller or Larger;
    }
}
