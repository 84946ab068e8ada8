using Vexlab.Checking.Engine;

namespace Vexlab.Checking.Tests.Engine;

/// <summary>
/// The tree census counts what a tree-compressed visited set (Laarman, van de Pol, Weber, SPIN 2011) would hold,
/// checked on counters whose trees can be counted by hand (<see cref="CounterSystem"/>: K 32-bit counters modulo V,
/// V^K states, no padding word when the state is exactly the counters). A leaf is an 8-byte word, two counters: it
/// takes V^2 values, one node each however many positions hold them; a pair of leaves takes V^4; an odd node moves up
/// unpaired and joins the level above; a state's last, half-filled word holds values a full one also holds.
/// </summary>
public sealed class TreeCensusTests
{
    [Theory]
    [InlineData(4, 3, 16, new long[] { 9, 81 })] // two leaves -> root
    [InlineData(8, 2, 32, new long[] { 4, 16, 256 })] // (l0 l1) (l2 l3) -> root
    [InlineData(6, 2, 24, new long[] { 4, 16, 64 })] // (l0 l1), l2 unpaired -> root
    [InlineData(3, 2, 12, new long[] { 4, 8 })] // the last leaf is (c2, 0), a value of the first leaf too
    [InlineData(2, 5, 8, new long[] { 25 })] // one word: the leaf is the root, no nodes below it
    public void Counts_the_distinct_nodes_of_every_level_and_one_root_a_state(int counters, int modulus, int stateSize, long[] levels)
    {
        var census = new TreeCensus(new CounterSystem(counters, modulus, stateSize));
        CheckResult result = Checker.Run(census, new CheckerOptions { Workers = 1, CheckLiveness = false, CheckDeadlock = false });

        long states = (long)Math.Pow(modulus, counters);
        Assert.Equal(states, result.States);
        Assert.Equal(states, census.States);
        Assert.Equal(states, census.Roots);
        Assert.Equal(levels, census.NodesPerLevel);
        Assert.Equal(levels[..^1].Sum(), census.Nodes);
        Assert.Equal((census.Nodes + states) * 8.0 / states, census.LeastBytesPerState, 9);
    }

    /// <summary>The census passes every call through: the search finds the same states and transitions with it as without.</summary>
    [Fact]
    public void A_search_through_the_census_finds_what_it_finds_without()
    {
        CheckResult plain = Checker.Run(new CounterSystem(5, 3, 24), new CheckerOptions { Workers = 1, CheckLiveness = false });
        CheckResult counted = Checker.Run(new TreeCensus(new CounterSystem(5, 3, 24)), new CheckerOptions { Workers = 1, CheckLiveness = false });
        Assert.Equal(plain.States, counted.States);
        Assert.Equal(plain.Transitions, counted.Transitions);
        Assert.Equal(plain.Verdict, counted.Verdict);
    }
}
