using Vexlab.Checking.Engine;

namespace Vexlab.Checking.Tests.Engine;

public sealed class LivenessTests
{
    private static CheckerOptions Options(int workers = 1) => new() { Workers = workers, MaxMemoryBytes = 1L << 30 };

    /// <summary>
    /// Waiter: check (sees no event, pc 0 -> 1, or sees it and finishes), then sleep (pc 1 -> 2).
    /// Waker: set the event and wake the waiter only if it already sleeps. A timer tick always loops.
    /// Nodes: (waiter pc, event) with the waker done iff event: 0=(0,0) 1=(1,0) 2=(2,0) 3=(0,1) 4=(1,1) 5=(2,1) lost, 6=done.
    /// </summary>
    private static GraphSystem LostWakeup()
    {
        const int tick = 0, waiter = 1, waker = 2;
        return new GraphSystem(7, fairnessClasses: 3, liveness: true)
            .Edge(0, 0, "tick", tick).Edge(0, 1, "check", waiter).Edge(0, 3, "wake", waker)
            .Edge(1, 1, "tick", tick).Edge(1, 2, "sleep", waiter).Edge(1, 4, "wake", waker)
            .Edge(2, 2, "tick", tick).Edge(2, 6, "wake", waker)
            .Edge(3, 3, "tick", tick).Edge(3, 6, "check", waiter)
            .Edge(4, 4, "tick", tick).Edge(4, 5, "sleep", waiter)
            .Edge(5, 5, "tick", tick)
            .Edge(6, 6, "tick", tick)
            .Pending(0).Pending(1).Pending(2).Pending(3).Pending(4).Pending(5);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Lost_wakeup_is_reported_as_a_lasso(int workers)
    {
        GraphSystem system = LostWakeup();
        CheckResult result = Checker.Run(system, Options(workers));

        Assert.Equal(Verdict.Violation, result.Verdict);
        Violation lasso = Assert.Single(result.Violations);
        Assert.Equal("progress", lasso.Property);
        Assert.Equal(ViolationKind.Lasso, lasso.Kind);
        Assert.Equal(3, lasso.LoopStart);
        Assert.Equal(4, lasso.Actions.Count);
        Assert.Equal([1, 4, 5], lasso.Actions.Take(3).Select(system.Target));
        Assert.Equal(5, system.Target(lasso.Actions[3]));
    }

    [Fact]
    public void Unfair_noise_loop_is_not_reported()
    {
        // Node 0: pending; noise (no fairness) loops, completion (fair) stays enabled. Node 1: done, noise loops.
        var system = new GraphSystem(2, fairnessClasses: 1, liveness: true)
            .Edge(0, 0, "noise").Edge(0, 1, "complete", 0)
            .Edge(1, 1, "noise")
            .Pending(0);

        CheckResult result = Checker.Run(system, Options());

        Assert.Equal(Verdict.Pass, result.Verdict);
        Assert.Empty(result.Violations);
        Assert.False(result.LivenessIncomplete);
    }

    [Fact]
    public void Retry_loop_taking_every_fair_class_is_reported()
    {
        // fault (0) -> ready (1) by the host completion, ready -> fault again by the guest retry; never done (2).
        var system = new GraphSystem(3, fairnessClasses: 2, liveness: true)
            .Edge(0, 1, "complete", 0)
            .Edge(1, 0, "retry", 1).Edge(1, 1, "noise")
            .Edge(2, 2, "noise")
            .Pending(0).Pending(1);

        CheckResult result = Checker.Run(system, Options());

        Violation lasso = Assert.Single(result.Violations);
        Assert.Equal(ViolationKind.Lasso, lasso.Kind);
        Assert.Equal(0, lasso.LoopStart);
        Assert.Equal([1, 0], lasso.Actions.Select(system.Target));
    }

    [Fact]
    public void Loop_visits_a_state_where_an_unused_class_is_disabled()
    {
        // Class 1 is enabled in node 0 only; the cycle 0 -> 1 -> 0 never takes it but is fair because node 1 disables it.
        var system = new GraphSystem(3, fairnessClasses: 2, liveness: true)
            .Edge(0, 1, "go", 0).Edge(0, 2, "escape-only-from-0", 1)
            .Edge(1, 0, "back", 0)
            .Edge(2, 2, "noise")
            .Pending(0).Pending(1);

        CheckResult result = Checker.Run(system, Options());

        Violation lasso = Assert.Single(result.Violations);
        Assert.Equal(0, lasso.LoopStart);
        Assert.Equal([1, 0], lasso.Actions.Select(system.Target));
    }

    [Fact]
    public void Dead_end_with_a_pending_obligation_is_reported()
    {
        var system = new GraphSystem(3, fairnessClasses: 1, liveness: true)
            .Edge(0, 1, "go", 0).Edge(0, 2, "finish", 0)
            .Edge(2, 2, "noise")
            .Pending(1);
        var options = Options();
        options.CheckDeadlock = false;

        CheckResult result = Checker.Run(system, options);

        Violation lasso = Assert.Single(result.Violations);
        Assert.Equal(ViolationKind.Lasso, lasso.Kind);
        Assert.Single(lasso.Actions);
        Assert.Equal(1, lasso.LoopStart);
    }

    [Fact]
    public void Grid_lasso_is_fair_and_returns_to_its_entry()
    {
        var system = new GridSystem(6, deadlocks: false);
        CheckResult result = Checker.Run(system, Options());

        Violation lasso = Assert.Single(result.Violations, v => v.Kind == ViolationKind.Lasso);
        Assert.InRange(lasso.LoopStart, 1, lasso.Actions.Count - 1);
        byte[] entry = StateAfter(system, lasso.Actions.Take(lasso.LoopStart));
        byte[] end = StateAfter(system, lasso.Actions);
        Assert.Equal(entry, end);
        Assert.Contains(2UL, lasso.Actions.Skip(lasso.LoopStart));
    }

    [Fact]
    public void Liveness_is_incomplete_when_the_search_is()
    {
        var options = Options();
        options.MaxDepth = 2;
        CheckResult result = Checker.Run(LostWakeup(), options);

        Assert.Equal(Verdict.Incomplete, result.Verdict);
        Assert.True(result.LivenessIncomplete);
        Assert.NotEmpty(result.Notes);
    }

    private static byte[] StateAfter(GridSystem system, IEnumerable<ulong> actions)
    {
        var state = new byte[system.StateSize];
        var next = new byte[system.StateSize];
        system.WriteInitialState(state);
        foreach (ulong action in actions)
        {
            system.Apply(state, action, next);
            (state, next) = (next, state);
        }

        return state;
    }
}
