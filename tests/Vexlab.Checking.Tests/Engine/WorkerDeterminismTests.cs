using Vexlab.Checking.Engine;
using Vexlab.Checking.Models;

namespace Vexlab.Checking.Tests.Engine;

/// <summary>Every built-in model under every protocol gives the same verdicts, counts and traces with 1, 2 and 4 workers.</summary>
public sealed class WorkerDeterminismTests
{
    public static TheoryData<string, string> ModelsAndProtocols()
    {
        var data = new TheoryData<string, string>();
        foreach (var model in BuiltinModels.All.Where(m => m.InMatrix))
        {
            foreach (var protocol in ModelCheck.Protocols)
            {
                data.Add(model.Name, protocol);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ModelsAndProtocols))]
    public void Workers_do_not_change_the_result(string model, string protocol)
    {
        // A state bound keeps the slow combinations short; a run stopped by it is as deterministic as a full one.
        CheckResult Run(int workers) => ModelCheck.Run(
            CheckRequest.Of(model, protocol),
            new CheckerOptions { Workers = workers, MaxStates = 60_000, MaxMemoryBytes = 1L << 30 }).Result;

        CheckResult reference = Run(1);
        foreach (int workers in new[] { 2, 4 })
        {
            CheckResult other = Run(workers);
            CheckerTests.AssertSameResult(reference, other);
            Assert.Equal(reference.LivenessIncomplete, other.LivenessIncomplete);
        }
    }

    [Theory]
    [MemberData(nameof(ModelsAndProtocols))]
    public void Workers_sharing_the_table_do_not_change_a_safety_result(string model, string protocol)
    {
        // With the safety properties alone no graph is recorded, so 2 and 3 workers take the shared table's path
        // (with the graph, fewer than 4 workers expand on one thread): the slices meet wherever the workers get to, a
        // third worker takes a segment alone, and the counts, violations and traces must still be those of one worker.
        string[] safety;
        using (var system = ModelCheck.BuildSystem(CheckRequest.Of(model, protocol)))
        {
            safety = [.. system.SafetyProperties, Checker.DeadlockProperty];
        }

        CheckRequest request = CheckRequest.Of(model, protocol) with { Properties = safety };
        CheckResult Run(int workers) => ModelCheck.Run(request, new CheckerOptions { Workers = workers, MaxMemoryBytes = 1L << 30 }).Result;

        CheckResult reference = Run(1);
        foreach (int workers in new[] { 2, 3 })
        {
            CheckResult other = Run(workers);
            Assert.True(other.SharedPathTime > TimeSpan.Zero || reference.States < 20_000, $"{other.States} states, {reference.Depth}");
            CheckerTests.AssertSameResult(reference, other);
        }
    }

    [Fact]
    public void Large_levels_on_the_shared_table_give_the_same_result()
    {
        // Levels of thousands of states: every worker inserts into the shared table; the ids, parents and so the
        // traces are still those of one worker.
        static CheckResult Run(int workers) => Checker.Run(
            new GridSystem(70, liveness: false, deadlocks: true),
            new CheckerOptions { Workers = workers, MaxMemoryBytes = 1L << 30 });

        CheckResult reference = Run(1);
        Assert.Equal(70 * 70 * 70, reference.States);
        Assert.Equal(["no-center", Checker.DeadlockProperty], reference.Violations.Select(v => v.Property));
        foreach (int workers in new[] { 2, 4 })
        {
            CheckResult other = Run(workers);
            CheckerTests.AssertSameResult(reference, other);
        }
    }

    [Fact]
    public void Workers_slowed_at_random_meet_anywhere_and_give_the_same_result()
    {
        // Where two workers' slices of a segment meet depends on their speed (SegmentClaims); spells of slowness at
        // random move the meeting points from block to block and run to run, and the first-seen rule, the first
        // violation and the first deadlock must still be those of one worker, in block order.
        static CheckResult Run(int workers) => Checker.Run(
            new UnevenSpeedSystem(new GridSystem(50, liveness: false, deadlocks: true)),
            new CheckerOptions { Workers = workers, MaxMemoryBytes = 1L << 30 });

        CheckResult reference = Run(1);
        Assert.Equal(50 * 50 * 50, reference.States);
        Assert.Equal(["no-center", Checker.DeadlockProperty], reference.Violations.Select(v => v.Property));
        foreach (int workers in new[] { 2, 3, 4, 2, 3, 4, 2, 2 })
        {
            CheckResult other = Run(workers);
            CheckerTests.AssertSameResult(reference, other);
        }
    }

    /// <summary>A system whose listing of actions runs slow in spells on each thread, changing at random.</summary>
    private sealed class UnevenSpeedSystem(ITransitionSystem inner) : ForwardingSystem(inner)
    {
        [ThreadStatic]
        private static Random? t_random;

        [ThreadStatic]
        private static bool t_slow;

        public override int ListActions(ReadOnlySpan<byte> state, Span<ulong> actions)
        {
            Random random = t_random ??= new Random(Environment.CurrentManagedThreadId);
            if (random.Next(100) == 0)
            {
                t_slow = !t_slow;
            }

            if (t_slow)
            {
                Thread.SpinWait(random.Next(50, 400));
            }

            return Inner.ListActions(state, actions);
        }
    }

    [Fact]
    public void One_worker_through_the_shared_path_gives_the_serial_result()
    {
        // bench --checker times this path to say what a second worker can gain; it must do the same search.
        static CheckResult Run(bool shared) => Checker.Run(
            new GridSystem(70, liveness: false, deadlocks: true),
            new CheckerOptions { Workers = 1, MaxMemoryBytes = 1L << 30, SharedPathWithOneWorker = shared });

        CheckResult reference = Run(false);
        CheckResult shared = Run(true);
        CheckerTests.AssertSameResult(reference, shared);
    }

    [Fact]
    public void The_bench_model_gives_the_same_result_with_two_workers()
    {
        static CheckResult Run(int workers) => ModelCheck.Run(
            new CheckRequest("bench", "kvm-pf-int", [], ["no-deadlock"]),
            new CheckerOptions { Workers = workers, MaxStates = 150_000, MaxMemoryBytes = 1L << 30 }).Result;

        CheckResult reference = Run(1);
        CheckResult other = Run(2);
        CheckerTests.AssertSameResult(reference, other);
        Assert.Equal(reference.BytesPerState, other.BytesPerState);
    }
}
