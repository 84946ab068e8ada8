using Vexlab.Checking.Engine;

namespace Vexlab.Checking.Tests.Engine;

public sealed class CheckerTests
{
    private static CheckerOptions Options(int workers = 1) => new() { Workers = workers, MaxMemoryBytes = 1L << 30 };

    private static ulong ReplayMask(GraphSystem system, IReadOnlyList<ulong> actions, out byte[] last)
    {
        var state = new byte[system.StateSize];
        var next = new byte[system.StateSize];
        var enabled = new ulong[system.MaxActions];
        system.WriteInitialState(state);
        ulong mask = 0;
        foreach (ulong action in actions)
        {
            int n = system.ListActions(state, enabled);
            Assert.Contains(action, enabled.AsSpan(0, n).ToArray());
            mask = system.Apply(state, action, next);
            (state, next) = (next, state);
        }

        last = state;
        return mask;
    }

    [Fact]
    public void Safety_trace_is_a_shortest_one_and_replays_to_the_violation()
    {
        // Long path 0-4-5-6-7-3 is listed first; the short one 0-1-2-3 has three steps.
        var system = new GraphSystem(9)
            .Edge(0, 4).Edge(0, 1)
            .Edge(4, 5).Edge(5, 6).Edge(6, 7).Edge(7, 3, violates: 1)
            .Edge(1, 2).Edge(2, 3, violates: 1)
            .Edge(3, 8).ValidEnd(8);

        CheckResult result = Checker.Run(system, Options());

        Assert.Equal(Verdict.Violation, result.Verdict);
        Violation violation = Assert.Single(result.Violations);
        Assert.Equal("no-bad", violation.Property);
        Assert.Equal(ViolationKind.Safety, violation.Kind);
        Assert.Equal(-1, violation.LoopStart);
        Assert.Equal(3, violation.Actions.Count);
        Assert.Equal(1UL, ReplayMask(system, violation.Actions, out byte[] last) & 1);
        Assert.Equal(3, GraphSystem.Node(last));
        Assert.Equal(StopReason.Exhausted, result.StopReason);
    }

    [Fact]
    public void Workers_give_identical_verdicts_counts_and_traces()
    {
        CheckResult reference = Checker.Run(new GridSystem(30, deadlocks: true), Options(1));
        Assert.Equal(Verdict.Violation, reference.Verdict);
        Assert.Equal(["no-center", Checker.DeadlockProperty, "c2-reaches-top"], reference.Violations.Select(v => v.Property));
        Assert.Equal(30 * 30 * 30, reference.States);
        foreach (int workers in new[] { 2, 4 })
        {
            CheckResult other = Checker.Run(new GridSystem(30, deadlocks: true), Options(workers));
            AssertSameResult(reference, other);
        }
    }

    [Fact]
    public void Deadlock_is_reported_with_a_shortest_path()
    {
        var system = new GraphSystem(4).Edge(0, 1).Edge(0, 3).Edge(1, 2).Edge(3, 0);

        CheckResult result = Checker.Run(system, Options());

        Violation violation = Assert.Single(result.Violations);
        Assert.Equal(Checker.DeadlockProperty, violation.Property);
        Assert.Equal(2, violation.Actions.Count);
        ReplayMask(system, violation.Actions, out byte[] last);
        Assert.Equal(2, GraphSystem.Node(last));
    }

    [Fact]
    public void Valid_end_is_not_a_deadlock()
    {
        var system = new GraphSystem(4).Edge(0, 1).Edge(0, 3).Edge(1, 2).Edge(3, 0).ValidEnd(2);

        CheckResult result = Checker.Run(system, Options());

        Assert.Equal(Verdict.Pass, result.Verdict);
        Assert.Empty(result.Violations);
        Assert.Equal(4, result.States);
        Assert.Equal(4, result.Transitions);
    }

    [Fact]
    public void Stops_when_every_property_is_decided()
    {
        var system = new GridSystem(30, liveness: false);
        var options = Options();
        options.CheckDeadlock = false;
        CheckResult result = Checker.Run(new OneProperty(system), options);
        Assert.Equal(StopReason.AllPropertiesDecided, result.StopReason);
        Assert.Equal(Verdict.Violation, result.Verdict);
        Assert.True(result.States < 27000);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void MaxStates_stops_within_five_percent_with_depth_and_coverage(int workers)
    {
        var options = Options(workers);
        options.MaxStates = 5000;
        CheckResult result = Checker.Run(new GridSystem(30, liveness: false), options);

        Assert.Equal(Verdict.Incomplete, result.Verdict);
        Assert.Equal(StopReason.MaxStates, result.StopReason);
        Assert.False(result.Complete);
        Assert.InRange(result.States, 5000, 5250);
        Assert.True(result.Depth > 0);
        Assert.Equal(["inc0", "inc1", "inc2", "reset0", "reset2"], result.Coverage.Select(c => c.Kind));
        Assert.Equal(result.Transitions, result.Coverage.Sum(c => c.Transitions));
        Assert.Equal(result.States - 1, result.Coverage.Sum(c => c.NewStates));
        Assert.True(result.Coverage[0].Transitions > 0);
    }

    [Fact]
    public void MaxDepth_stops_with_incomplete()
    {
        var options = Options();
        options.MaxDepth = 3;
        CheckResult result = Checker.Run(new GridSystem(30, liveness: false), options);

        Assert.Equal(Verdict.Incomplete, result.Verdict);
        Assert.Equal(StopReason.MaxDepth, result.StopReason);
        Assert.Equal(3, result.Depth);
        Assert.Equal(1 + 3 + 6 + 10, result.States);
    }

    // A dead end d steps deep is found under a depth bound of d, as a safety violation d steps deep is: the states at
    // the bound are not expanded, but their actions are listed. (4, 4, 4)'s only dead end, (3, 3, 3), is 9 steps deep.
    [Theory]
    [InlineData(1, 9, true)]
    [InlineData(1, 8, false)]
    [InlineData(2, 9, true)]
    [InlineData(2, 8, false)]
    public void A_dead_end_at_the_depth_bound_is_found(int workers, int maxDepth, bool found)
    {
        var options = Options(workers);
        options.MaxDepth = maxDepth;
        options.CheckLiveness = false;
        CheckResult result = Checker.Run(new GridSystem(4, liveness: false, deadlocks: true), options);

        Violation? deadlock = result.Violations.SingleOrDefault(v => v.Property == Checker.DeadlockProperty);
        Assert.Equal(found, deadlock is not null);
        if (deadlock is not null)
        {
            Assert.Equal(9, deadlock.Actions.Count);
            Assert.Equal(Checker.Run(new GridSystem(4, liveness: false, deadlocks: true), Options(workers)).Violations.Single(v => v.Property == Checker.DeadlockProperty).Actions, deadlock.Actions);
        }
    }

    [Fact]
    public void Limits_too_small_for_the_initial_state_throw()
    {
        var system = new GridSystem(4);
        Assert.Throws<CheckerLimitException>(() => Checker.Run(system, new CheckerOptions { MaxStates = 0 }));
        Assert.Throws<CheckerLimitException>(() => Checker.Run(system, new CheckerOptions { MaxMemoryBytes = 16 }));
        Assert.Throws<CheckerLimitException>(() => Checker.Run(system, new CheckerOptions { MaxDepth = -1 }));
        Assert.Throws<CheckerLimitException>(() => Checker.Run(system, new CheckerOptions { TimeLimit = TimeSpan.Zero }));
        ArgumentException e = Assert.Throws<CheckerLimitException>(() => Checker.Run(system, new CheckerOptions { Workers = 0 }));
        Assert.IsAssignableFrom<ArgumentException>(e);
    }

    [Fact]
    public void MaxMemory_stops_cleanly()
    {
        var system = new GridSystem(30, liveness: false);
        var options = Options();

        // The parent links' three lists and the action index take 336 KiB in whole pages once a block adds states.
        options.MaxMemoryBytes = 512 * 1024;
        options.FrontierMemoryBytes = 1024;
        CheckResult result = Checker.Run(new OneProperty(system, never: true), options);
        Assert.Equal(Verdict.Incomplete, result.Verdict);
        Assert.Equal(StopReason.MaxMemory, result.StopReason);
        Assert.True(result.States > 1);
    }

    /// <remarks>
    /// Without liveness several workers share the table (with it they take the graph's path below 4 workers). Caps
    /// between a few records and a few levels make a level spill part-way, in any worker's share of a block, after
    /// earlier blocks placed their records in memory.
    /// </remarks>
    [Theory]
    [InlineData(1, 64, true)]
    [InlineData(2, 64, true)]
    [InlineData(2, 64, false)]
    [InlineData(2, 2_000, false)]
    [InlineData(2, 8_000, false)]
    [InlineData(2, 16_000, false)]
    [InlineData(3, 8_000, false)]
    public void Frontier_spill_gives_the_same_result(int workers, long frontierBytes, bool liveness)
    {
        CheckResult inMemory = Checker.Run(new GridSystem(30, liveness, deadlocks: true), Options(workers));
        var options = Options(workers);
        options.FrontierMemoryBytes = frontierBytes;
        CheckResult spilled = Checker.Run(new GridSystem(30, liveness, deadlocks: true), options);

        Assert.Equal(0, inMemory.FrontierSpilledBytes);
        Assert.True(spilled.FrontierSpilledBytes > 0);
        AssertSameResult(inMemory, spilled);
    }

    [Fact]
    public void Collision_probability_is_small_for_small_models()
    {
        CheckResult result = Checker.Run(new GridSystem(10, liveness: false), Options());
        Assert.Equal(1000, result.States);
        Assert.Equal(64, result.FingerprintBits);
        Assert.InRange(result.CollisionProbability, 1e-20, 1e-12);
        Assert.InRange(result.BytesPerState, 8, 64);
        Assert.Equal(1e6 / Math.Pow(2, 65), Checker.CollisionProbability(1000, 64), 1e-30);
    }

    [Fact]
    public void Fingerprint128_gives_the_same_result()
    {
        CheckResult reference = Checker.Run(new GridSystem(20, deadlocks: true), Options());
        var options = Options(2);
        options.Fingerprint128 = true;
        CheckResult wide = Checker.Run(new GridSystem(20, deadlocks: true), options);

        Assert.Equal(128, wide.FingerprintBits);
        Assert.True(wide.CollisionProbability < reference.CollisionProbability);
        AssertSameResult(reference, wide);
    }

    [Fact]
    public void Progress_is_reported()
    {
        var samples = new List<CheckProgress>();
        var options = Options();
        options.Progress = new SyncProgress(samples.Add);
        options.ProgressInterval = TimeSpan.Zero;
        CheckResult result = Checker.Run(new GridSystem(10, liveness: false), options);

        Assert.NotEmpty(samples);
        Assert.Equal(result.States, samples[^1].States);
    }

    internal static void AssertSameResult(CheckResult expected, CheckResult actual)
    {
        Assert.Equal(expected.Verdict, actual.Verdict);
        Assert.Equal(expected.StopReason, actual.StopReason);
        Assert.Equal(expected.States, actual.States);
        Assert.Equal(expected.Transitions, actual.Transitions);
        Assert.Equal(expected.Depth, actual.Depth);
        Assert.Equal(expected.Coverage, actual.Coverage);
        Assert.Equal(expected.Violations.Count, actual.Violations.Count);
        for (int i = 0; i < expected.Violations.Count; i++)
        {
            Assert.Equal(expected.Violations[i].Property, actual.Violations[i].Property);
            Assert.Equal(expected.Violations[i].Kind, actual.Violations[i].Kind);
            Assert.Equal(expected.Violations[i].LoopStart, actual.Violations[i].LoopStart);
            Assert.Equal(expected.Violations[i].Actions, actual.Violations[i].Actions);
            Assert.Equal(expected.Violations[i].ActionIndices, actual.Violations[i].ActionIndices);
        }
    }

    private sealed class SyncProgress(Action<CheckProgress> report) : IProgress<CheckProgress>
    {
        public void Report(CheckProgress value) => report(value);
    }

    /// <summary>Keeps only the first safety property (or only "never", which is never violated).</summary>
    private sealed class OneProperty(ITransitionSystem inner, bool never = false) : ForwardingSystem(inner)
    {
        public override IReadOnlyList<string> SafetyProperties => [never ? "never" : Inner.SafetyProperties[0]];

        public override IReadOnlyList<string> LivenessProperties => [];

        public override ulong Apply(ReadOnlySpan<byte> state, ulong action, Span<byte> next)
            => Inner.Apply(state, action, next) & (never ? 0UL : 1UL);

        public override ulong PendingObligations(ReadOnlySpan<byte> state, int property) => 0;
    }
}
