using System.Text;

namespace Vexlab.Fuzz;

/// <summary>What one mutation does to an input's bytes.</summary>
public enum MutationKind
{
    FlipByte,
    DeleteSpan,
    DuplicateSpan,
    InsertToken,
    ReplaceNumber,
    SwapLines,
    Truncate,
    RepeatLine,
}

/// <summary>
/// One edit of an input, as a hostile or careless person would make it: a flipped byte, a cut,
/// a pasted span, a token from the dictionary (deep nesting, extreme numbers, control characters,
/// YAML anchors, NUL), two lines swapped. Positions are fractions, so one edit fits any input.
/// </summary>
public readonly record struct Mutation(MutationKind Kind, double Where, double Span, int Token)
{
    /// <summary>Tokens that broke or might break a parser: structure, numbers at the edges, odd characters.</summary>
    public static readonly string[] Dictionary =
    [
        "[", "]", "{", "}", ":", ": ", "- ", ",", "\n", "\r", "\r\n", "\t", "\0", "\"", "'", "#", "&a ", "*a", "!!binary ", "? ",
        "---\n", "...\n", "|\n", ">\n", "null", "~", "true", "yes", "",
        "0", "-1", "1e-300", "1e308", "-1e308", "NaN", "Infinity", "-0", "0x10", "1_000", "1.5", "4294967296", "65536", "255", "256",
        "9223372036854775807", "9223372036854775808", "-9223372036854775808", "18446744073709551616", "99999999999999999999999",
        "1ms", "0ns", "1e308s", "NaNs", "-5s", "9223372036854775807ns", "1000/s", "0/s", "1/0s", "1PiB", "16EiB", "100%", "1000%",
        "\u001b[31m", "\u0007", "\u00b5s", "\u2028", "\ufeff", "\ud800", "\u00e9",
        new string('a', 1000), new string('[', 20_000), new string('{', 5_000) + "a: ", string.Concat(Enumerable.Repeat("[{a: ", 4_000)),
        "op: touch 0; touch 0; touch 0; touch 0; touch 0; touch 0; touch 0; touch 0; touch 0; touch 0; touch 0; touch 0",
    ];

    public byte[] Apply(byte[] input)
    {
        var n = input.Length;
        var at = (int)(Where * n);
        var len = Math.Max(1, (int)(Span * Math.Min(n, 4096)));
        switch (Kind)
        {
            case MutationKind.FlipByte when n > 0:
                var copy = (byte[])input.Clone();
                copy[Math.Min(at, n - 1)] ^= (byte)(1 << (Token % 8));
                return copy;
            case MutationKind.DeleteSpan when n > 0:
                return [.. input.AsSpan(0, at), .. input.AsSpan(Math.Min(n, at + len))];
            case MutationKind.DuplicateSpan when n > 0:
                var span = input.AsSpan(at, Math.Min(len, n - at));
                return [.. input.AsSpan(0, at), .. span, .. span, .. input.AsSpan(at + span.Length)];
            case MutationKind.ReplaceNumber:
                return ReplaceNumber(input, at);
            case MutationKind.SwapLines:
                return SwapLines(input);
            case MutationKind.Truncate:
                return input[..at];
            case MutationKind.RepeatLine:
                return RepeatLine(input, at);
            default:
                var token = Encoding.UTF8.GetBytes(Dictionary[Token % Dictionary.Length]);
                return [.. input.AsSpan(0, at), .. token, .. input.AsSpan(at)];
        }
    }

    public override string ToString() =>
        FormattableString.Invariant($"{Kind}@{Where:F3}/{Span:F3}#{Token}");

    private byte[] ReplaceNumber(byte[] input, int at)
    {
        // The first digit run at or after the position, replaced by an extreme number.
        var start = at;
        while (start < input.Length && !char.IsAsciiDigit((char)input[start]))
        {
            start++;
        }

        if (start >= input.Length)
        {
            return input;
        }

        var end = start;
        while (end < input.Length && (char.IsAsciiDigit((char)input[end]) || input[end] == '.'))
        {
            end++;
        }

        string[] numbers = ["0", "-1", "1e-300", "1e308", "NaN", "4294967296", "65536", "9223372036854775807", "18446744073709551616", "-9223372036854775808", "255", "1000000000"];
        var number = Encoding.ASCII.GetBytes(numbers[Token % numbers.Length]);
        return [.. input.AsSpan(0, start), .. number, .. input.AsSpan(end)];
    }

    private byte[] SwapLines(byte[] input)
    {
        var lines = Split(input);
        if (lines.Count < 2)
        {
            return input;
        }

        var a = (int)(Where * lines.Count);
        var b = Token % lines.Count;
        (lines[a], lines[b]) = (lines[b], lines[a]);
        return Join(lines);
    }

    private byte[] RepeatLine(byte[] input, int at)
    {
        var lines = Split(input);
        if (lines.Count == 0)
        {
            return input;
        }

        var i = Math.Min(lines.Count - 1, (int)(Where * lines.Count));
        var times = 1 + (Token % 3 == 0 ? 200 : Token % 5);
        lines.InsertRange(i, Enumerable.Repeat(lines[i], times));
        return Join(lines);
    }

    private static List<byte[]> Split(byte[] input)
    {
        var lines = new List<byte[]>();
        var start = 0;
        for (var i = 0; i < input.Length; i++)
        {
            if (input[i] == '\n')
            {
                lines.Add(input[start..(i + 1)]);
                start = i + 1;
            }
        }

        if (start < input.Length)
        {
            lines.Add(input[start..]);
        }

        return lines;
    }

    private static byte[] Join(List<byte[]> lines) => [.. lines.SelectMany(l => l)];
}
