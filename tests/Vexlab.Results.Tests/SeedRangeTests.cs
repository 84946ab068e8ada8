using Vexlab.Results.Reports;

namespace Vexlab.Results.Tests;

/// <summary>A heading names the seeds as compare's replay lines do: "seed 1, 3 seeds" once read as one seed.</summary>
public sealed class SeedRangeTests
{
    [Theory]
    [InlineData("1", "seed 1")]
    [InlineData("1 1", "seed 1")]
    [InlineData("1 2 3", "seeds 1..3")]
    [InlineData("3 1 2", "seeds 1..3")]
    [InlineData("7 8", "seeds 7..8")]
    [InlineData("1 3 9", "3 seeds in 1..9")]
    public void Says_TheSeeds_AsARangeWhenTheyHaveNoGap(string seeds, string expected)
    {
        Assert.Equal(expected, SeedRange.Say(seeds.Split(' ').Select(long.Parse)));
    }
}
