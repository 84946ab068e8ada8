namespace Vexlab.DocsCheck;

/// <summary>
/// How the docs check treats a block, from a <c>&lt;!-- docs-check: WORD... --&gt;</c> line just
/// above its fence (<c>measured</c>, <c>slow</c> or both).
/// </summary>
[Flags]
public enum BlockMode
{
    /// <summary>Run and compare after the normalisation every block gets.</summary>
    Exact = 0,

    /// <summary>Measurements (benchmarks): every number is normalised, the shape is compared.</summary>
    Measured = 1,

    /// <summary>Run (and updated) only with <c>--slow</c>: too slow for the test suite.</summary>
    Slow = 2,
}

/// <summary>
/// One fenced block whose first line starts with <c>$ </c>: its commands, each with the output
/// the docs paste under it. <see cref="FirstLine"/> is the 0-based index of the block's first
/// content line in its file.
/// </summary>
public sealed record DocBlock(string File, int FirstLine, int LineCount, BlockMode Mode, IReadOnlyList<DocCommand> Commands)
{
    /// <summary>
    /// For a <c>slow measured</c> block, options (after the word <c>quick</c>) that make each command a small run of
    /// the same output's shape: without <c>--slow</c> the block runs with them and its shape is compared, so that a
    /// line the command gained or changed since the block was pasted is caught by the test suite; null for none.
    /// </summary>
    public string? Quick { get; init; }

    /// <summary>The block's text as the docs should hold it, given each command's output.</summary>
    public IEnumerable<string> Render(IReadOnlyList<IReadOnlyList<string>> outputs)
    {
        for (var i = 0; i < Commands.Count; i++)
        {
            yield return "$ " + Commands[i].Line;
            foreach (var line in outputs[i])
            {
                yield return line;
            }
        }
    }
}

/// <summary>A <c>$ </c> line and the lines pasted under it up to the next <c>$ </c> line or the fence.</summary>
public sealed record DocCommand(string Line, int LineNumber, IReadOnlyList<string> Expected);

/// <summary>Finds the executable blocks in a Markdown file.</summary>
public static class MarkdownBlocks
{
    public const string Prompt = "$ ";
    private const string MarkPrefix = "<!-- docs-check:";

    public static List<DocBlock> Parse(string file, IReadOnlyList<string> lines)
    {
        var blocks = new List<DocBlock>();
        for (var i = 0; i < lines.Count; i++)
        {
            if (!lines[i].StartsWith("```", StringComparison.Ordinal))
            {
                continue;
            }

            var fence = lines[i][..(lines[i].Length - lines[i].TrimStart('`').Length)];
            var end = i + 1;
            while (end < lines.Count && !(lines[end].StartsWith(fence, StringComparison.Ordinal) && lines[end].Trim('`').Trim().Length == 0))
            {
                end++;
            }

            if (i + 1 < end && lines[i + 1].StartsWith(Prompt, StringComparison.Ordinal))
            {
                var (mode, quick) = ModeAbove(file, lines, i);
                blocks.Add(new DocBlock(file, i + 1, end - i - 1, mode, Commands(lines, i + 1, end)) { Quick = quick });
            }

            i = end;
        }

        return blocks;
    }

    private static (BlockMode Mode, string? Quick) ModeAbove(string file, IReadOnlyList<string> lines, int fenceLine)
    {
        var above = fenceLine - 1;
        while (above >= 0 && lines[above].Trim().Length == 0)
        {
            above--;
        }

        if (above < 0 || !lines[above].TrimStart().StartsWith(MarkPrefix, StringComparison.Ordinal))
        {
            return (BlockMode.Exact, null);
        }

        var words = lines[above].Trim()[MarkPrefix.Length..].Replace("-->", "", StringComparison.Ordinal)
            .Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var mode = BlockMode.Exact;
        string? quick = null;
        for (var w = 0; w < words.Length; w++)
        {
            if (words[w] == "quick")
            {
                // The rest of the line is the quick run's options.
                quick = string.Join(' ', words[(w + 1)..]);
                if (quick.Length == 0 || mode != (BlockMode.Slow | BlockMode.Measured))
                {
                    throw new FormatException($"{file}:{above + 1}: \"quick\" comes after \"slow measured\" and before the options of the quick run");
                }

                break;
            }

            mode |= words[w] switch
            {
                "measured" => BlockMode.Measured,
                "slow" => BlockMode.Slow,
                _ => throw new FormatException($"{file}:{above + 1}: unknown docs-check word \"{words[w]}\" (measured, slow, quick)"),
            };
        }

        return (mode, quick);
    }

    private static List<DocCommand> Commands(IReadOnlyList<string> lines, int start, int end)
    {
        var commands = new List<DocCommand>();
        var i = start;
        while (i < end)
        {
            var line = lines[i][Prompt.Length..];
            var number = i;
            var expected = new List<string>();
            i++;
            while (i < end && !lines[i].StartsWith(Prompt, StringComparison.Ordinal))
            {
                expected.Add(lines[i]);
                i++;
            }

            commands.Add(new DocCommand(line, number, expected));
        }

        return commands;
    }
}
