using System.Diagnostics;
using System.Text;

namespace Vexlab.DocsCheck;

/// <summary>A pasted output that differs from what its command prints now.</summary>
public sealed record DocMismatch(string File, int Line, string Command, IReadOnlyList<string> Expected, IReadOnlyList<string> Actual, BlockMode Mode)
{
    /// <summary>Where the outputs part, with a few lines of context.</summary>
    public string Describe()
    {
        var expected = OutputMatch.NormaliseAll(Expected, Mode);
        var actual = OutputMatch.NormaliseAll(Actual, Mode);
        var first = 0;
        while (first < expected.Count && first < actual.Count && expected[first] == actual[first])
        {
            first++;
        }

        var text = new StringBuilder();
        text.Append(File).Append(':').Append(Line).Append(": $ ").AppendLine(Command);
        var from = Math.Max(0, first - 2);
        text.AppendLine($"  docs (normalised), from line {from + 1} of the output:");
        foreach (var line in expected.Skip(from).Take(6))
        {
            text.Append("  - ").AppendLine(line);
        }

        text.AppendLine("  now:");
        foreach (var line in actual.Skip(from).Take(6))
        {
            text.Append("  + ").AppendLine(line);
        }

        return text.ToString();
    }
}

/// <summary>What a check of the docs found.</summary>
public sealed record DocsReport(int Files, int Blocks, int Commands, int SkippedSlow, IReadOnlyList<DocMismatch> Mismatches, TimeSpan Elapsed)
{
    /// <summary>Blocks not checked because a program they run is not installed, with the program's name.</summary>
    public IReadOnlyList<string> SkippedForTools { get; init; } = [];
}

/// <summary>
/// Runs every executable block of README.md and docs/*.md and compares (or, with update, rewrites)
/// the pasted outputs. Each file's blocks run in order in one fresh temporary directory that
/// starts with a copy of docs/examples/ (and of the YAML and CSV files under docs/, at their
/// paths), so a later block can use what an earlier one wrote.
/// </summary>
public sealed class DocsRun
{
    public const string UpdateCommand = "dotnet run --project tools/DocsCheck -c Release -- --update";

    private readonly string _root;

    public DocsRun(string root)
    {
        _root = root;
    }

    /// <summary>Also run blocks marked <c>slow</c>.</summary>
    public bool Slow { get; init; }

    /// <summary>Rewrite pasted outputs that differ, and refresh docs/img/ from the images the commands write.</summary>
    public bool Update { get; init; }

    /// <summary>
    /// With <see cref="Update"/>: a <c>measured</c> block that runs whole takes this run's numbers even where its shape
    /// matches (a measured block otherwise keeps the run it was pasted from), for when what it measures changed.
    /// </summary>
    public bool Remeasure { get; init; }

    /// <summary>Progress for people (one line per command), or null.</summary>
    public TextWriter? Log { get; init; }

    /// <summary>The repository root: the nearest directory at or above <paramref name="start"/> holding Vexlab.slnx.</summary>
    public static string FindRoot(string start)
    {
        for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Vexlab.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new DirectoryNotFoundException($"no Vexlab.slnx at or above {start}");
    }

    /// <summary>README.md and docs/*.md, relative to the root.</summary>
    public IReadOnlyList<string> DefaultFiles()
    {
        var files = new List<string> { "README.md" };
        files.AddRange(Directory.GetFiles(Path.Combine(_root, "docs"), "*.md")
            .Select(f => Path.GetRelativePath(_root, f))
            .Order(StringComparer.Ordinal));
        return files;
    }

    public DocsReport Run(IReadOnlyList<string> files)
    {
        var clock = Stopwatch.StartNew();
        var mismatches = new List<DocMismatch>();
        int blocks = 0, commands = 0, skipped = 0;
        var skippedForTools = new List<string>();
        foreach (var file in files)
        {
            var path = Path.Combine(_root, file);
            var lines = File.ReadAllText(path).Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n').ToList();
            var parsed = MarkdownBlocks.Parse(file, lines);
            if (parsed.Count == 0)
            {
                continue;
            }

            var directory = Directory.CreateTempSubdirectory("vexlab-docs-").FullName;
            try
            {
                CopyExamples(directory);
                var shell = new DocShell(directory);
                var rewritten = new List<string>(lines);
                var shift = 0;
                foreach (var block in parsed)
                {
                    // A slow block runs whole only with --slow; without, a block with quick options runs small and
                    // only its shape is compared (its pasted output is never replaced by the small run's).
                    var deferred = block.Mode.HasFlag(BlockMode.Slow) && !Slow;
                    var quick = deferred ? block.Quick : null;
                    if (deferred && quick is null)
                    {
                        skipped++;
                        continue;
                    }

                    blocks++;
                    var outputs = new List<IReadOnlyList<string>>();
                    var missing = (string?)null;
                    foreach (var command in block.Commands)
                    {
                        commands++;
                        var started = clock.Elapsed;
                        var line = quick is null ? command.Line : command.Line + " " + quick;
                        List<string> actual;
                        try
                        {
                            actual = shell.Run(line);

                            // A quick run's replay line names the quick options, which the pasted command has not.
                            if (quick is not null)
                            {
                                actual = [.. actual.Select(l => l.Replace(" " + quick, string.Empty, StringComparison.Ordinal))];
                            }
                        }
                        catch (MissingToolException e)
                        {
                            missing = $"{file}:{command.LineNumber + 1}: {e.Tool}";
                            break;
                        }

                        Log?.WriteLine($"{file}:{command.LineNumber + 1}: {(clock.Elapsed - started).TotalSeconds:F1} s  $ {line}");
                        if (!OutputMatch.Matches(command.Expected, actual, block.Mode))
                        {
                            mismatches.Add(new DocMismatch(file, command.LineNumber + 1, line, command.Expected, actual, block.Mode));
                        }

                        outputs.Add(quick is not null ? command.Expected
                            : Remeasure && block.Mode.HasFlag(BlockMode.Measured) ? OutputMatch.Update(command.Expected, actual, block.Mode, replace: true)
                            : OutputMatch.Update(command.Expected, actual, block.Mode));
                    }

                    if (missing is not null)
                    {
                        // The block stays as pasted: nothing ran that could say otherwise.
                        blocks--;
                        skippedForTools.Add(missing);
                        continue;
                    }

                    var text = block.Render(outputs).ToList();
                    rewritten.RemoveRange(block.FirstLine + shift, block.LineCount);
                    rewritten.InsertRange(block.FirstLine + shift, text);
                    shift += text.Count - block.LineCount;
                }

                if (Update)
                {
                    File.WriteAllText(path, string.Join('\n', rewritten));
                    RefreshImages(directory);
                }
            }
            finally
            {
                Directory.Delete(directory, recursive: true);
            }
        }

        return new DocsReport(files.Count, blocks, commands, skipped, mismatches, clock.Elapsed) { SkippedForTools = skippedForTools };
    }

    private void CopyExamples(string directory)
    {
        var docs = Path.Combine(_root, "docs");
        var examples = Path.Combine(docs, "examples");
        if (Directory.Exists(examples))
        {
            foreach (var file in Directory.GetFiles(examples))
            {
                File.Copy(file, Path.Combine(directory, Path.GetFileName(file)));
            }
        }

        // The inputs the docs name by their path in the repository (docs/ve-design/postcopy.yaml) are there too.
        if (!Directory.Exists(docs))
        {
            return;
        }

        foreach (var file in Directory.GetFiles(docs, "*", SearchOption.AllDirectories))
        {
            if (Path.GetExtension(file) is ".yaml" or ".csv")
            {
                var target = Path.Combine(directory, Path.GetRelativePath(_root, file));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(file, target);
            }
        }
    }

    /// <summary>An image a command wrote whose name is in docs/img/ replaces that one.</summary>
    private void RefreshImages(string directory)
    {
        var images = Path.Combine(_root, "docs", "img");
        foreach (var file in Directory.GetFiles(directory))
        {
            var target = Path.Combine(images, Path.GetFileName(file));
            if (File.Exists(target) && !string.Equals(Path.GetExtension(file), ".md", StringComparison.Ordinal))
            {
                File.Copy(file, target, overwrite: true);
                Log?.WriteLine($"refreshed docs/img/{Path.GetFileName(file)}");
            }
        }
    }
}
