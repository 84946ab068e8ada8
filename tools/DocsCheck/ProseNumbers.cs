using System.Globalization;
using System.Text.RegularExpressions;

namespace Vexlab.DocsCheck;

/// <summary>A number the prose of a doc states that no pasted output of the same doc holds.</summary>
public sealed record UnsourcedNumber(string File, int Line, string Text, string Context, string? Nearest)
{
    public string Describe() =>
        $"{File}:{Line}: \"{Text}\" is in no pasted output of this file's `$ vexlab` blocks" +
        (Nearest is null ? "" : $" (nearest: {Nearest})") + $": {Context}";
}

/// <summary>
/// Every number a doc states in prose must come from a pasted output of the same doc, so a
/// result cannot be typed by hand or outlive the output it was read from.
/// <para>
/// A prose number is a number outside fenced blocks, indented code, inline code spans, link
/// targets and HTML comments that has a thousands separator (<c>41,657</c>), a decimal point
/// (<c>3.05</c>), a percent sign, or a unit (<c>us</c>, <c>ms</c>, <c>GiB</c>, <c>states/s</c>,
/// <c>x</c>, <c>times</c>, ...). It is sourced when some number in the pasted output of a
/// <c>$ </c> block of the same file (exact blocks, which the docs test runs, and measured blocks,
/// whose pasted output is the recorded measurement), or in a table generated under a
/// <c>&lt;!-- $ vexlab ... --&gt;</c> comment, has its value: separators do not count, and a prose
/// number with fewer decimals is the output's value rounded half away from zero (<c>29.2</c> gives
/// <c>29%</c>, <c>59.6</c> does not give <c>59%</c>). After <c>about</c> a number may round an
/// output to its own significant digits (<c>about 556,000</c> for <c>555,623</c>).
/// </para>
/// <para>
/// Numbers that are not results (kernel versions, option defaults, constants of the model) are
/// listed with a reason in <see cref="AllowFile"/>: a line <c>FILE&lt;TAB&gt;PHRASE&lt;TAB&gt;REASON</c>
/// allows the numbers inside PHRASE wherever PHRASE occurs in FILE's prose. An entry whose phrase no
/// longer occurs is an error too, so the list cannot outgrow the docs. Figures cited from published
/// sources (docs/costs.md) follow a <see cref="CitedMarker"/> comment, which exempts the rest of its section.
/// </para>
/// </summary>
public static partial class ProseNumbers
{
    /// <summary>The allowlist, relative to the repository root.</summary>
    public const string AllowFile = "tools/DocsCheck/prose-numbers.tsv";

    /// <summary>One allowlist entry.</summary>
    public sealed record Allowed(string File, string Phrase, string Reason);

    /// <summary>A number found in prose: its 1-based line, its text and the value it states.</summary>
    public sealed record Found(int Line, int Column, string Text, decimal Value, int Decimals, bool About, string LineText);

    /// <summary>The allowlist entries of <paramref name="root"/>; a malformed line throws with its line number.</summary>
    public static List<Allowed> ReadAllowlist(string root)
    {
        var path = Path.Combine(root, AllowFile);
        var entries = new List<Allowed>();
        if (!File.Exists(path))
        {
            return entries;
        }

        var lines = File.ReadAllLines(path);
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var fields = line.Split('\t');
            if (fields.Length != 3 || fields.Any(f => f.Trim().Length == 0))
            {
                throw new FormatException($"{AllowFile}:{i + 1}: expected FILE<TAB>PHRASE<TAB>REASON, each non-empty");
            }

            entries.Add(new Allowed(fields[0], fields[1], fields[2]));
        }

        return entries;
    }

    /// <summary>
    /// The unsourced prose numbers of each file, and the allowlist entries (as messages) whose
    /// phrase is not in their file's prose.
    /// </summary>
    public static (List<UnsourcedNumber> Unsourced, List<string> StaleAllowed) Check(string root, IReadOnlyList<string> files, IReadOnlyList<Allowed> allowed)
    {
        var unsourced = new List<UnsourcedNumber>();
        var stale = new List<string>();
        foreach (var file in files)
        {
            var lines = File.ReadAllText(Path.Combine(root, file)).Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
            var mine = allowed.Where(a => a.File == file).ToList();
            var (_, used) = CheckText(file, lines, mine, unsourced);
            stale.AddRange(mine.Where(a => !used.Contains(a)).Select(a => $"{AllowFile}: \"{a.Phrase}\" is no longer in the prose of {a.File}: remove the entry"));
        }

        return (unsourced, stale);
    }

    /// <summary>Checks one file's text; adds what is unsourced and returns the numbers found and the entries used.</summary>
    public static (List<Found> Found, HashSet<Allowed> Used) CheckText(string file, IReadOnlyList<string> lines, IReadOnlyList<Allowed> allowed, List<UnsourcedNumber> unsourced)
    {
        var (prose, outputs) = Split(lines);
        var sources = new List<(decimal Value, string Text)>();
        foreach (var line in outputs)
        {
            foreach (Match m in OutputNumber().Matches(line))
            {
                foreach (var text in Readings(m.Value))
                {
                    if (decimal.TryParse(text, NumberStyles.Number, CultureInfo.InvariantCulture, out var value))
                    {
                        sources.Add((value, text));
                    }
                }
            }
        }

        var cited = CitedLines(lines);
        var used = new HashSet<Allowed>();
        var found = new List<Found>();
        foreach (var (number, text) in prose)
        {
            if (cited.Contains(number))
            {
                continue;
            }

            var stripped = Strip(text);
            var covered = new bool[stripped.Length];
            foreach (var entry in allowed)
            {
                for (var at = text.IndexOf(entry.Phrase, StringComparison.Ordinal); at >= 0; at = text.IndexOf(entry.Phrase, at + 1, StringComparison.Ordinal))
                {
                    used.Add(entry);
                    Array.Fill(covered, true, at, entry.Phrase.Length);
                }
            }

            foreach (var n in Numbers(number, stripped))
            {
                found.Add(n);
                if (covered[n.Column] || sources.Any(s => Sources(n, s.Value)))
                {
                    continue;
                }

                var nearest = sources.Count == 0 ? null : sources.MinBy(s => Math.Abs(s.Value - n.Value)).Text;
                unsourced.Add(new UnsourcedNumber(file, number, n.Text, text.Trim(), nearest));
            }
        }

        return (found, used);
    }

    /// <summary>The comment that marks the rest of its section as figures cited from published sources.</summary>
    public const string CitedMarker = "<!-- docs-check: cited figures -->";

    /// <summary>
    /// The 1-based lines after a <see cref="CitedMarker"/> up to the next heading: measurements others published
    /// (an exit's cycles, a drive's latency), each with its source beside it, which no Vexlab output can hold.
    /// </summary>
    public static HashSet<int> CitedLines(IReadOnlyList<string> lines)
    {
        var cited = new HashSet<int>();
        var inCited = false;
        for (var i = 0; i < lines.Count; i++)
        {
            var line = lines[i].Trim();
            if (line.StartsWith('#'))
            {
                inCited = false;
            }
            else if (line == CitedMarker)
            {
                inCited = true;
            }
            else if (inCited)
            {
                cited.Add(i + 1);
            }
        }

        return cited;
    }

    /// <summary>The numbers of one prose line (already stripped of code, links and comments).</summary>
    public static IEnumerable<Found> Numbers(int line, string stripped)
    {
        foreach (Match m in ProseNumber().Matches(stripped))
        {
            var digits = m.Groups["n"].Value;
            var hasUnit = m.Groups["unit"].Success || m.Groups["pct"].Success;
            if (!hasUnit && !digits.Contains(',', StringComparison.Ordinal) && !digits.Contains('.', StringComparison.Ordinal))
            {
                continue;
            }

            var plain = digits.Replace(",", "", StringComparison.Ordinal);
            var decimals = plain.Contains('.', StringComparison.Ordinal) ? plain.Length - plain.IndexOf('.', StringComparison.Ordinal) - 1 : 0;
            var before = stripped[..m.Index].TrimEnd();
            var about = before.EndsWith("about", StringComparison.Ordinal) || before.EndsWith('~');
            yield return new Found(line, m.Index, m.Value.Trim(), decimal.Parse(plain, CultureInfo.InvariantCulture), decimals, about, stripped);
        }
    }

    /// <summary>True when the output value <paramref name="output"/> is what the prose number says.</summary>
    public static bool Sources(Found prose, decimal output)
    {
        if (decimal.Round(output, prose.Decimals, MidpointRounding.AwayFromZero) == prose.Value)
        {
            return true;
        }

        if (!prose.About || prose.Decimals > 0 || prose.Value == 0)
        {
            return false;
        }

        // "about 556,000": the output rounded to the prose's significant digits.
        var scale = 1m;
        var value = prose.Value;
        while (value % 10 == 0)
        {
            value /= 10;
            scale *= 10;
        }

        return decimal.Round(output / scale, 0, MidpointRounding.AwayFromZero) * scale == prose.Value;
    }

    /// <summary>
    /// The prose lines (1-based number, text) and the lines of pasted output (outputs of <c>$ </c>
    /// blocks and tables generated under a <c>&lt;!-- $ ... --&gt;</c> comment).
    /// </summary>
    public static (List<(int Number, string Text)> Prose, List<string> Outputs) Split(IReadOnlyList<string> lines)
    {
        var prose = new List<(int, string)>();
        var outputs = new List<string>();
        var inComment = false;
        var previousBlank = true;
        var indentedCode = false;
        for (var i = 0; i < lines.Count; i++)
        {
            var line = lines[i];
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal))
            {
                var trimmed = line.TrimStart();
                var fence = trimmed[..(trimmed.Length - trimmed.TrimStart('`').Length)];
                var end = i + 1;
                while (end < lines.Count && !(lines[end].TrimStart().StartsWith(fence, StringComparison.Ordinal) && lines[end].Trim().Trim('`').Length == 0))
                {
                    end++;
                }

                if (i + 1 < end && lines[i + 1].StartsWith(MarkdownBlocks.Prompt, StringComparison.Ordinal))
                {
                    for (var j = i + 1; j < end; j++)
                    {
                        if (!lines[j].StartsWith(MarkdownBlocks.Prompt, StringComparison.Ordinal))
                        {
                            outputs.Add(lines[j]);
                        }
                    }
                }

                i = end;
                previousBlank = false;
                continue;
            }

            if (line.TrimStart().StartsWith("<!-- $ ", StringComparison.Ordinal) && line.TrimEnd().EndsWith("-->", StringComparison.Ordinal))
            {
                while (i + 1 < lines.Count && lines[i + 1].TrimStart().StartsWith('|'))
                {
                    outputs.Add(lines[++i]);
                }

                continue;
            }

            // Indented code: four spaces after a blank line, until the next blank line.
            if (line.Trim().Length == 0)
            {
                previousBlank = true;
                indentedCode = false;
                continue;
            }

            if ((previousBlank || indentedCode) && line.StartsWith("    ", StringComparison.Ordinal) && !inComment)
            {
                indentedCode = true;
                previousBlank = false;
                continue;
            }

            previousBlank = false;
            var text = line;
            if (inComment)
            {
                var close = text.IndexOf("-->", StringComparison.Ordinal);
                if (close < 0)
                {
                    continue;
                }

                text = text[(close + 3)..];
                inComment = false;
            }

            var open = text.IndexOf("<!--", StringComparison.Ordinal);
            if (open >= 0 && text.IndexOf("-->", open, StringComparison.Ordinal) < 0)
            {
                text = text[..open];
                inComment = true;
            }

            prose.Add((i + 1, text));
        }

        return (prose, outputs);
    }

    /// <summary>
    /// A prose line with inline code, link targets and complete HTML comments blanked out (spaces
    /// of the same length, so columns stay those of the line).
    /// </summary>
    public static string Strip(string text)
    {
        text = Comment().Replace(text, Blank);
        text = CodeSpan().Replace(text, Blank);
        text = LinkTarget().Replace(text, Blank);
        return text;
    }

    private static string Blank(Match m) => new(' ', m.Length);

    /// <summary>The values an output token can be read as: with separators, and, in CSV, each field.</summary>
    private static IEnumerable<string> Readings(string token)
    {
        if (Thousands().IsMatch(token))
        {
            yield return token.Replace(",", "", StringComparison.Ordinal);
        }
        else
        {
            foreach (var part in token.Split(','))
            {
                yield return part;
            }
        }
    }

    // A number not glued to a word, a hex literal or a version's dots, with what follows it.
    [GeneratedRegex(@"(?<![\w.,+\-/^])(?<n>\d{1,3}(?:,\d{3})+(?!\d)|\d+(?:\.\d+)?(?!,\d{3}))(?:(?<pct>%)|\s?(?<unit>us|µs|ns|ms|s|M|K|G|GiB|MiB|KiB|GB|MB|KB|bytes|states/s|events/s|runs/s|x|times)(?![\w/]))?(?![\w.]*\d)(?![A-Za-z_@])(?!-\w)")]
    private static partial Regex ProseNumber();

    [GeneratedRegex(@"\d[\d,]*(?:\.\d+)?")]
    private static partial Regex OutputNumber();

    [GeneratedRegex(@"^\d{1,3}(?:,\d{3})+(?:\.\d+)?$|^[^,]*$")]
    private static partial Regex Thousands();

    [GeneratedRegex(@"<!--.*?-->")]
    private static partial Regex Comment();

    [GeneratedRegex(@"(`+)[^`]*?\1")]
    private static partial Regex CodeSpan();

    [GeneratedRegex(@"\]\([^)]*\)")]
    private static partial Regex LinkTarget();
}
