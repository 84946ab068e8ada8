using System.Text;

namespace Vexlab.Results.Plotting;

/// <summary>
/// Tick labels under bars that are never clipped and never collide: a name wider than its bar's slot
/// is wrapped at the places a protocol entry reads well (<c>[</c>, <c>,</c>, <c>.</c>, <c>=</c>, <c>-</c>);
/// when that still takes more than <see cref="MaxLines"/> lines, every bar gets a short key
/// (<c>A</c>, <c>B</c>, ...) and the names are listed under the axis.
/// </summary>
public static class BarLabels
{
    public const int MaxLines = 4;

    /// <summary>The tick labels and, when keys were needed, the key lines ("A = name").</summary>
    public sealed record Layout(IReadOnlyList<string> Ticks, IReadOnlyList<string> Key);

    /// <summary>Lays out <paramref name="names"/> for slots <paramref name="slotPx"/> wide, measuring text with <paramref name="measure"/>.</summary>
    public static Layout For(IReadOnlyList<string> names, double slotPx, Func<string, double> measure)
    {
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(measure);
        var wrapped = names.Select(n => Wrap(n, slotPx, measure)).ToList();
        if (wrapped.All(lines => lines.Count <= MaxLines))
        {
            return new Layout(wrapped.Select(lines => string.Join('\n', lines)).ToList(), []);
        }

        var keys = names.Select((_, i) => KeyName(i)).ToList();
        return new Layout(keys, names.Select((n, i) => $"{keys[i]} = {n}").ToList());
    }

    /// <summary>Wraps <paramref name="text"/> into lines no wider than <paramref name="widthPx"/> (a piece that alone is wider is cut).</summary>
    public static List<string> Wrap(string text, double widthPx, Func<string, double> measure)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(measure);
        var lines = new List<string>();
        var line = new StringBuilder();
        foreach (var piece in Pieces(text))
        {
            if (line.Length > 0 && measure(line + piece) > widthPx)
            {
                lines.Add(line.ToString());
                line.Clear();
            }

            foreach (var c in piece)
            {
                if (line.Length > 0 && measure(line.ToString() + c) > widthPx && measure(piece) > widthPx)
                {
                    lines.Add(line.ToString());
                    line.Clear();
                }

                line.Append(c);
            }
        }

        if (line.Length > 0)
        {
            lines.Add(line.ToString());
        }

        return lines;
    }

    /// <summary>Joins wrapped names back: what a reader reconstructs from the lines.</summary>
    public static string Unwrap(string tick) => tick.Replace("\n", string.Empty, StringComparison.Ordinal);

    private static IEnumerable<string> Pieces(string text)
    {
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] is '[' or ',' or '.' or '=' or '-' or ' ' or '_')
            {
                yield return text[start..(i + 1)];
                start = i + 1;
            }
        }

        if (start < text.Length)
        {
            yield return text[start..];
        }
    }

    private static string KeyName(int index) =>
        index < 26 ? ((char)('A' + index)).ToString() : KeyName((index / 26) - 1) + (char)('A' + (index % 26));
}
