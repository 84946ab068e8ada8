using Vexlab.Results.Reports;

namespace Vexlab.Results.Tests;

/// <summary>A comparison's heading gives its span in ms with thousands separators, as every count in the output has them.</summary>
public sealed class SimulatedSpansTests
{
    [Theory]
    [InlineData(20e6, 20e6, "20.0 ms simulated")]
    [InlineData(36e15, 36e15, "36,000,000,000.0 ms simulated")]
    [InlineData(1.5e9, 2e9, "1,500.0 to 2,000.0 ms simulated (the entries' spans differ: row simulated)")]
    public void The_heading_separates_thousands(double shortestNs, double longestNs, string expected)
        => Assert.Equal(expected, SimulatedSpans.Heading(shortestNs, longestNs));
}
