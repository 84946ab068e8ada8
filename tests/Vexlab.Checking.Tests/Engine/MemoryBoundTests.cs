using Vexlab.Checking.Engine;

namespace Vexlab.Checking.Tests.Engine;

/// <summary>
/// MaxMemoryBytes with a liveness graph: a graph that would push the search over the bound is dropped, and the
/// search goes on for the other properties, so a larger bound never explores fewer states or gives a weaker verdict.
/// </summary>
public sealed class MemoryBoundTests
{
    private const string GraphDropped = "liveness incomplete: the state graph does not fit in MaxMemoryBytes";

    /// <summary>
    /// wake-race under ve has about 3,500 states; its graph's first pages (128 KiB for each of its edge, edge-start, enabled
    /// and obligation lists) are most of a bound of a few hundred KiB, so the bounds between the least the model takes
    /// and 2 MiB meet the graph at every point of the search.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void A_larger_bound_never_explores_fewer_states(int workers)
    {
        CheckRequest request = CheckRequest.Of("wake-race", "ve");
        CheckResult? previous = null;
        long previousBound = 0;
        for (long bound = 256 << 10; bound <= 2 << 20; bound += 32 << 10)
        {
            CheckResult result = ModelCheck.Run(request, new CheckerOptions { Workers = workers, MaxMemoryBytes = bound }).Result;
            if (previous is not null)
            {
                string where = $"{previousBound} -> {bound} bytes: {previous.States} -> {result.States} states, {previous.Verdict} -> {result.Verdict}";
                Assert.True(result.States >= previous.States, where);
                Assert.True(Strength(result) >= Strength(previous), where);
            }

            previous = result;
            previousBound = bound;
        }

        // The largest bound holds the graph and the fair-cycle search: the whole model, as with no bound.
        Assert.Equal(Verdict.Pass, previous!.Verdict);
        Assert.Equal(ModelCheck.Run(request, new CheckerOptions { Workers = workers }).Result.States, previous.States);
    }

    /// <summary>
    /// Where the graph does not fit but the safety search does, the check drops the graph and explores every state,
    /// with liveness left undecided, and stops at the bound only when the safety search itself does not fit.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void A_graph_beyond_the_bound_is_dropped_and_the_search_goes_on(int workers)
    {
        CheckRequest request = CheckRequest.Of("truncate", "kvm-pf-int");
        string[] safety;
        using (var system = ModelCheck.BuildSystem(request))
        {
            safety = [.. system.SafetyProperties, Checker.DeadlockProperty];
        }

        // The safety properties alone: the states a search without the graph explores.
        CheckResult all = ModelCheck.Run(request with { Properties = safety }, new CheckerOptions { Workers = workers, MaxMemoryBytes = 1L << 30 }).Result;
        Assert.Equal(StopReason.Exhausted, all.StopReason);

        CheckResult dropped = ModelCheck.Run(request, new CheckerOptions { Workers = workers, MaxMemoryBytes = 48 << 20 }).Result;
        Assert.Contains(GraphDropped, dropped.Notes);
        Assert.Equal(StopReason.Exhausted, dropped.StopReason);
        Assert.Equal(all.States, dropped.States);
        Assert.Equal(all.Transitions, dropped.Transitions);
        Assert.True(dropped.LivenessIncomplete);
        Assert.Equal(Verdict.Incomplete, dropped.Verdict);

        // A bound the safety search does not fit either: the graph goes first, then the search stops at the bound,
        // past the states a smaller bound reached.
        CheckResult small = ModelCheck.Run(request, new CheckerOptions { Workers = workers, MaxMemoryBytes = 4 << 20 }).Result;
        CheckResult larger = ModelCheck.Run(request, new CheckerOptions { Workers = workers, MaxMemoryBytes = 8 << 20 }).Result;
        foreach (CheckResult stopped in new[] { small, larger })
        {
            Assert.Equal(StopReason.MaxMemory, stopped.StopReason);
            Assert.Contains(GraphDropped, stopped.Notes);
        }

        Assert.True(larger.States > small.States, $"{small.States} then {larger.States} states");
    }

    /// <summary>Incomplete below a verdict the check decided (a pass, or a violation found).</summary>
    private static int Strength(CheckResult result) => result.Verdict == Verdict.Incomplete ? 0 : 1;
}
