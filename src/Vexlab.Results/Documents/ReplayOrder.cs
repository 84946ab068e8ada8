namespace Vexlab.Results.Documents;

/// <summary>
/// The order of an entry's replay lines in a report: text with its runs of digits compared as numbers, so that
/// <c>--seed 2</c> comes before <c>--seed 10</c>, <c>host.latency=2.154us</c> before <c>host.latency=10us</c> and
/// <c>1.25us</c> before <c>1.5us</c>. The
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

                // A whole number: leading zeros aside, a longer run of digits is the larger number; equal lengths compare
                // digit by digit. The digits after a decimal point: trailing zeros aside, digit by digit, a prefix first
                // (0.25 before 0.5, as ByValueOrder puts the same values).
                int byNumber;
                if (IsFraction(x, i) && IsFraction(y, j))
                {
                    byNumber = x.AsSpan(i, xEnd - i).TrimEnd('0').SequenceCompareTo(y.AsSpan(j, yEnd - j).TrimEnd('0'));
                }
                else
                {
                    var xDigits = x.AsSpan(i, xEnd - i).TrimStart('0');
                    var yDigits = y.AsSpan(j, yEnd - j).TrimStart('0');
                    byNumber = xDigits.Length != yDigits.Length ? xDigits.Length.CompareTo(yDigits.Length) : xDigits.SequenceCompareTo(yDigits);
                }

                if (byNumber == 0 && !IsFraction(x, i) && !IsFraction(y, j))
                {
                    // Equal whole parts, a fraction on one side only: 1 before 1.25 (a fraction of zeros is no fraction).
                    byNumber = FractionAfter(x, xEnd).SequenceCompareTo(FractionAfter(y, yEnd));
                }

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

    /// <summary>The digits at <paramref name="at"/> follow a decimal point that follows a digit.</summary>
    private static bool IsFraction(string text, int at) => at >= 2 && text[at - 1] == '.' && char.IsAsciiDigit(text[at - 2]);

    /// <summary>The digits of a fraction right after <paramref name="at"/> (".25"), trailing zeros aside; empty if none.</summary>
    private static ReadOnlySpan<char> FractionAfter(string text, int at) =>
        at + 1 < text.Length && text[at] == '.' && char.IsAsciiDigit(text[at + 1])
            ? text.AsSpan(at + 1, DigitsEnd(text, at + 1) - at - 1).TrimEnd('0')
            : [];

    private static int DigitsEnd(string text, int from)
    {
        while (from < text.Length && char.IsAsciiDigit(text[from]))
        {
            from++;
        }

        return from;
    }
}
