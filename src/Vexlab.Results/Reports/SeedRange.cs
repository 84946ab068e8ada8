using System.Globalization;

namespace Vexlab.Results.Reports;

/// <summary>
/// Which seeds a result covers, as a heading says it and as compare's replay lines on standard error do
/// ("seeds 1..3"): "seed 1, 3 seeds" read as one seed, and "3 seeds" did not say which.
/// </summary>
public static class SeedRange
{
    /// <summary>"seed 1"; "seeds 1..3" when they run without a gap; otherwise "5 seeds in 1..9".</summary>
    public static string Say(IEnumerable<long> seeds)
    {
        ArgumentNullException.ThrowIfNull(seeds);
        var sorted = seeds.Distinct().Order().ToList();
        if (sorted.Count == 0)
        {
            throw new ArgumentException("no seeds", nameof(seeds));
        }

        return sorted.Count == 1
            ? string.Create(CultureInfo.InvariantCulture, $"seed {sorted[0]}")
            : sorted[^1] - sorted[0] == sorted.Count - 1
                ? string.Create(CultureInfo.InvariantCulture, $"seeds {sorted[0]}..{sorted[^1]}")
                : string.Create(CultureInfo.InvariantCulture, $"{sorted.Count} seeds in {sorted[0]}..{sorted[^1]}");
    }
}
