using Vexlab.DocsCheck;

namespace Vexlab.Docs.Tests;

public sealed class OutputMatchTests
{
    public static TheoryData<string[], string[], bool> Cases => new()
    {
        // Exact: every line, in order, nothing more.
        { ["a", "b"], ["a", "b"], true },
        { ["a", "b"], ["a", "b", "c"], false },
        { ["a", "b"], ["a", "x"], false },
        // Trailing spaces and trailing blank lines do not count.
        { ["a  ", "b"], ["a", "b", "", ""], true },
        // An excerpt: head ... tail, and ... alone in the middle of the pasted lines.
        { ["a", "..."], ["a", "b", "c"], true },
        { ["b", "..."], ["a", "b", "c"], false },
        { ["...", "c"], ["a", "b", "c"], true },
        { ["a", "...", "c"], ["a", "b", "x", "c"], true },
        { ["a", "...", "x", "...", "c"], ["a", "b", "x", "y", "c"], true },
        { ["a", "...", "z", "...", "c"], ["a", "b", "x", "y", "c"], false },
        // Wall time, rates, job counts and the version's commit vary; simulated time does not.
        { ["time: 0.03 s (28,335 states/s)"], ["time: 1.50 s (1,024 states/s)"], true },
        { ["ran 14 in 0.5 s (31.1 runs/s, 2 jobs)"], ["ran 14 in 3.0 s (4.7 runs/s, 16 jobs)"], true },
        { ["ran 14 in 0.5 s"], ["ran 13 in 0.5 s"], false },
        { ["postcopy: 300.0 ms simulated"], ["postcopy: 301.0 ms simulated"], false },
        { ["fault p50 263.4 us"], ["fault p50 263.5 us"], false },
        { ["\"vexlab_version\": \"0.1.0+4298adf9cd88b5cb526667dec617c042f729828e\","], ["\"vexlab_version\": \"0.1.0+0123456789abcdef0123456789abcdef01234567\","], true },
        { ["\"vexlab_version\": \"0.1.0+4298adf9cd88\","], ["\"vexlab_version\": \"0.2.0+4298adf9cd88\","], false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Pasted_output_matches_as_documented(string[] expected, string[] actual, bool matches)
    {
        Assert.Equal(matches, OutputMatch.Matches(expected, actual, BlockMode.Exact));
    }

    [Fact]
    public void A_JSON_timing_object_is_one_placeholder()
    {
        string[] docs = ["{", "  \"seed\": 1,", "  \"timing\": {", "    \"wall_ns\": 120", "  },", "  \"x\": 2", "}"];
        string[] now = ["{", "  \"seed\": 1,", "  \"timing\": {", "    \"wall_ns\": 977", "  },", "  \"x\": 2", "}"];
        string[] other = ["{", "  \"seed\": 2,", "  \"timing\": {", "    \"wall_ns\": 977", "  },", "  \"x\": 2", "}"];

        Assert.True(OutputMatch.Matches(docs, now, BlockMode.Exact));
        Assert.False(OutputMatch.Matches(docs, other, BlockMode.Exact));
    }

    [Fact]
    public void A_measured_block_compares_shape_not_numbers()
    {
        string[] docs = ["events/s          5,493,818 (target >= 3,000,000)"];
        string[] now = ["events/s          3,667,620 (target >= 3,000,000)"];
        string[] renamed = ["events per second 3,667,620 (target >= 3,000,000)"];

        Assert.False(OutputMatch.Matches(docs, now, BlockMode.Exact));
        Assert.True(OutputMatch.Matches(docs, now, BlockMode.Measured));
        Assert.False(OutputMatch.Matches(docs, renamed, BlockMode.Measured));
    }

    [Fact]
    public void Update_keeps_matching_text_and_cuts_a_changed_excerpt_like_the_docs()
    {
        string[] docs = ["time: 0.03 s", "b", "...", "z"];
        string[] same = ["time: 9.00 s", "b", "c", "z"];
        string[] changed = ["time: 9.00 s", "B", "c", "d", "Z"];

        Assert.Equal(docs, OutputMatch.Update(docs, same, BlockMode.Exact));
        Assert.Equal(["time: 9.00 s", "B", "...", "Z"], OutputMatch.Update(docs, changed, BlockMode.Exact));
    }
}
