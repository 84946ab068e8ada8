using System.Globalization;

namespace Vexlab.Results.Documents;

/// <summary>
/// The order of <c>--by</c> values in a report's columns and a plot's bars, lines and legend: numbers by value, before
/// any text, and text in ordinal order. Ordinal order alone put a latency axis's 10000 before 2.154.
/// </summary>
public sealed class ByValueOrder : IComparer<string>
{
    /// <summary>The one instance; the order has no state.</summary>
    public static readonly ByValueOrder Instance = new();

    private ByValueOrder()
    {
    }

    /// <inheritdoc/>
    public int Compare(string? x, string? y)
    {
        var xIsNumber = double.TryParse(x, NumberStyles.Float, CultureInfo.InvariantCulture, out var xValue);
        var yIsNumber = double.TryParse(y, NumberStyles.Float, CultureInfo.InvariantCulture, out var yValue);
        if (xIsNumber && yIsNumber)
        {
            // Equal values written differently (1 and 1.0) stay apart, as the groups they key are apart.
            var byValue = xValue.CompareTo(yValue);
            return byValue != 0 ? byValue : string.CompareOrdinal(x, y);
        }

        return xIsNumber != yIsNumber ? (xIsNumber ? -1 : 1) : string.CompareOrdinal(x, y);
    }
}
