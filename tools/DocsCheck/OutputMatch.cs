using System.Text.RegularExpressions;

namespace Vexlab.DocsCheck;

/// <summary>
/// Compares a command's output with what the docs paste under it. Both sides are normalised
/// first, so what legitimately changes from run to run does not count:
/// <list type="bullet">
/// <item>the version's commit suffix (<c>0.1.0+4298adf...</c>) and a JSON <c>"timing"</c> object;</item>
/// <item>wall-clock figures: a number before <c> s</c> (the CLI prints wall time in seconds and
/// simulated time in ms or us), a number before a rate <c>WORD/s</c>, and <c>N jobs</c>
/// (the default is the machine's core count);</item>
/// <item>in a block marked <c>&lt;!-- docs-check: measured --&gt;</c>, every number.</item>
/// </list>
/// Trailing spaces and trailing blank lines never count. A line holding only <c>...</c> in the
/// pasted output stands for any number of lines (an excerpt): the lines before it must open the
/// output, the lines after it must close it, and lines between two such marks must appear in order.
/// </summary>
public static partial class OutputMatch
{
    public const string Ellipsis = "...";

    public static string Normalise(string line, BlockMode mode)
    {
        line = Version().Replace(line, "+<commit>");
        line = Seconds().Replace(line, "<t> s");
        line = Rate().Replace(line, "<n> $1/s");
        line = Jobs().Replace(line, "<n> job");
        if (mode.HasFlag(BlockMode.Measured))
        {
            line = Number().Replace(line, "<n>");
        }

        return line.TrimEnd();
    }

    /// <summary>Lines with any JSON <c>"timing": { ... }</c> object collapsed to one placeholder line.</summary>
    public static List<string> NormaliseAll(IReadOnlyList<string> lines, BlockMode mode)
    {
        var result = new List<string>(lines.Count);
        for (var i = 0; i < lines.Count; i++)
        {
            var line = lines[i];
            var trimmed = line.TrimStart();
            if (trimmed.StartsWith("\"timing\": {", StringComparison.Ordinal) && !trimmed.Contains('}', StringComparison.Ordinal))
            {
                var indent = line[..(line.Length - trimmed.Length)];
                while (i + 1 < lines.Count && !lines[i].TrimStart().StartsWith('}'))
                {
                    i++;
                }

                var comma = lines[i].TrimEnd().EndsWith(',') ? "," : "";
                result.Add(indent + "\"timing\": <timing>" + comma);
                continue;
            }

            result.Add(Normalise(line, mode));
        }

        while (result.Count > 0 && result[^1].Length == 0)
        {
            result.RemoveAt(result.Count - 1);
        }

        return result;
    }

    /// <summary>True when <paramref name="actual"/> is what <paramref name="expected"/> pastes.</summary>
    public static bool Matches(IReadOnlyList<string> expected, IReadOnlyList<string> actual, BlockMode mode) =>
        Align(NormaliseAll(expected, mode), NormaliseAll(actual, mode)) is not null;

    /// <summary>
    /// What the docs should paste for <paramref name="actual"/>: the pasted text itself when it
    /// matches, else the actual output cut the way the pasted excerpt is cut (the same number of
    /// opening and closing lines around each <c>...</c>). With <paramref name="replace"/>, the actual output even
    /// where it matches (a measured block remeasured).
    /// </summary>
    public static List<string> Update(IReadOnlyList<string> expected, IReadOnlyList<string> actual, BlockMode mode, bool replace = false)
    {
        if (!replace && Matches(expected, actual, mode))
        {
            return [.. expected];
        }

        var segments = Segments(expected);
        if (segments.Count == 1)
        {
            return [.. actual];
        }

        var result = new List<string>();
        var head = segments[0].Count;
        var tail = segments[^1].Count;
        if (head + tail >= actual.Count)
        {
            return [.. actual];
        }

        result.AddRange(actual.Take(head));
        result.Add(Ellipsis);
        if (tail > 0)
        {
            result.AddRange(actual.Skip(actual.Count - tail));
        }

        return result;
    }

    private static List<List<string>> Segments(IReadOnlyList<string> expected)
    {
        var segments = new List<List<string>> { new() };
        foreach (var line in expected)
        {
            if (line.Trim() == Ellipsis)
            {
                segments.Add([]);
            }
            else
            {
                segments[^1].Add(line);
            }
        }

        return segments;
    }

    /// <summary>Matches the segments in order; null when they do not fit.</summary>
    private static int[]? Align(List<string> expected, List<string> actual)
    {
        var segments = Segments(expected);
        var starts = new int[segments.Count];
        var position = 0;
        for (var s = 0; s < segments.Count; s++)
        {
            var segment = segments[s];
            int at;
            if (s == 0)
            {
                at = StartsAt(segment, actual, 0) ? 0 : -1;
            }
            else if (s == segments.Count - 1)
            {
                at = actual.Count - segment.Count;
                if (at < position || !StartsAt(segment, actual, at))
                {
                    at = -1;
                }
            }
            else
            {
                at = -1;
                for (var i = position; i + segment.Count <= actual.Count; i++)
                {
                    if (StartsAt(segment, actual, i))
                    {
                        at = i;
                        break;
                    }
                }
            }

            if (at < 0)
            {
                return null;
            }

            starts[s] = at;
            position = at + segment.Count;
        }

        return segments.Count == 1 && position != actual.Count ? null : starts;
    }

    private static bool StartsAt(List<string> segment, List<string> actual, int at)
    {
        if (at + segment.Count > actual.Count)
        {
            return false;
        }

        for (var i = 0; i < segment.Count; i++)
        {
            if (!string.Equals(segment[i], actual[at + i], StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    [GeneratedRegex(@"(?<=\b\d+\.\d+\.\d+)\+[0-9a-f]{7,40}\b")]
    private static partial Regex Version();

    [GeneratedRegex(@"(?<![\w.,])\d[\d,]*(?:\.\d+)? s\b")]
    private static partial Regex Seconds();

    [GeneratedRegex(@"(?<![\w.,])\d[\d,]*(?:\.\d+)? ([A-Za-z]+)/s\b")]
    private static partial Regex Rate();

    [GeneratedRegex(@"(?<![\w.,])\d+ jobs?\b")]
    private static partial Regex Jobs();

    [GeneratedRegex(@"\d[\d,]*(?:\.\d+)?(?:E[-+]?\d+)?")]
    private static partial Regex Number();
}
