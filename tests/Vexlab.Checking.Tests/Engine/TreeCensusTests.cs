using System.Buffers.Binary;
using Vexlab.Checking.Engine;

namespace Vexlab.Checking.Tests.Engine;

/// <summary>
/// The tree census counts what a tree-compressed visited set (Laarman, van de Pol, Weber, SPIN 2011) would hold,
/// checked on counters whose trees can be counted by hand: K independent 8-byte words, each cycling through V values,
/// reach V^K states; a word is a leaf node, shared by every position that holds the same value, so the leaves' level
/// holds V nodes; a pair of words takes V^2 combinations, shared by both pairs of four words; an odd word moves up
/// unpaired and joins the level above.
/// </summary>
public sealed class TreeCensusTests
{
    [Theory]
    [InlineData(4, 3, new long[] { 3, 9, 81 })] // (w0 w1) (w2 w3) -> root
    [InlineData(3, 2, new long[] { 2, 4, 8 })] // (w0 w1), w2 unpaired -> root
    [InlineData(2, 5, new long[] { 5, 25 })] // the leaves' pair is the root
    [InlineData(8, 2, new long[] { 2, 4, 16, 256 })]
    public void Counts_the_distinct_nodes_of_every_level_and_one_root_a_state(int words, int values, long[] levels)
    {
        var census = new TreeCensus(new Counters(words, values));
        CheckResult result = Checker.Run(census, new CheckerOptions { Workers = 1, CheckLiveness = false, CheckDeadlock = false });

        long states = (long)Math.Pow(values, words);
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
        CheckResult plain = Checker.Run(new Counters(5, 3), new CheckerOptions { Workers = 1, CheckLiveness = false });
        CheckResult counted = Checker.Run(new TreeCensus(new Counters(5, 3)), new CheckerOptions { Workers = 1, CheckLiveness = false });
        Assert.Equal(plain.States, counted.States);
        Assert.Equal(plain.Transitions, counted.Transitions);
        Assert.Equal(plain.Verdict, counted.Verdict);
    }

    /// <summary>K words of 8 bytes, each a counter modulo V; action k increments word k.</summary>
    private sealed class Counters(int words, int values) : ITransitionSystem
    {
        public int StateSize => 8 * words;

        public int MaxActions => words;

        public IReadOnlyList<string> SafetyProperties { get; } = [];

        public IReadOnlyList<string> LivenessProperties { get; } = [];

        public int FairnessClasses => 0;

        public void WriteInitialState(Span<byte> state) => state.Clear();

        public int ListActions(ReadOnlySpan<byte> state, Span<ulong> actions)
        {
            for (int k = 0; k < words; k++)
            {
                actions[k] = (ulong)k;
            }

            return words;
        }

        public ulong Apply(ReadOnlySpan<byte> state, ulong action, Span<byte> next)
        {
            state.CopyTo(next);
            Span<byte> word = next.Slice(8 * (int)action, 8);
            BinaryPrimitives.WriteUInt64LittleEndian(word, (BinaryPrimitives.ReadUInt64LittleEndian(word) + 1) % (ulong)values);
            return 0;
        }

        public ulong PendingObligations(ReadOnlySpan<byte> state, int property) => 0;

        public int FairnessClass(ulong action) => -1;

        public bool IsValidEnd(ReadOnlySpan<byte> state) => true;

        public bool IsAlive(ReadOnlySpan<byte> state) => true;
    }
}
