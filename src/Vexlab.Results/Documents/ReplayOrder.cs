namespace Vexlab.Results.Documents;

/// <summary>
/// The order of an entry's replay lines in a report: text with its runs of digits compared as numbers, so that
/// <c>--seed 2</c> comes before <c>--seed 10</c> and <c>host.latency=2.154us</c> before <c>host.latency=10us</c>. The
/// store gives runs in run-key order (a hash), which listed one entry's seeds and points shuffled.
/// </summary>
public sealed class ReplayOrder : IComparer<string>
{
    /// <summary>The one instance; the order has no state.</summary>
    public static readonly ReplayOrder Instance = new();

    private ReplayOrder()
    {
    }

    /// <inheritdoc/>
    public int Compare(string? x, string? y)
    {
        if (x is null || y is null)
        {
            return x is null ? (y is null ? 0 : -1) : 1;
        }

        int i = 0, j = 0;
        while (i < x.Length && j < y.Length)
        {
            if (char.IsAsciiDigit(x[i]) && char.IsAsciiDigit(y[j]))
            {
                var xEnd = DigitsEnd(x, i);
                var yEnd = DigitsEnd(y, j);

                // Leading zeros aside, a longer run of digits is the larger number; equal lengths compare digit by digit.
                var xDigits = x.AsSpan(i, xEnd - i).TrimStart('0');
                var yDigits = y.AsSpan(j, yEnd - j).TrimStart('0');
                var byNumber = xDigits.Length != yDigits.Length ? xDigits.Length.CompareTo(yDigits.Length) : xDigits.SequenceCompareTo(yDigits);
                if (byNumber != 0)
                {
                    return byNumber;
                }

                i = xEnd;
                j = yEnd;
                continue;
            }

            if (x[i] != y[j])
            {
                return x[i].CompareTo(y[j]);
            }

            i++;
            j++;
        }

        var byLength = (x.Length - i).CompareTo(y.Length - j);
        return byLength != 0 ? byLength : string.CompareOrdinal(x, y);
    }

    private static int DigitsEnd(string text, int from)
    {
        while (from < text.Length && char.IsAsciiDigit(text[from]))
        {
            from++;
        }

        return from;
    }
}
