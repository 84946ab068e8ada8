using Vexlab.DocsCheck;

namespace Vexlab.Docs.Tests;

/// <summary>Every <c>$ vexlab</c> block of README.md and docs/*.md prints what it pastes.</summary>
public sealed class ExecutableDocsTests
{
    private static readonly string Root = DocsRun.FindRoot(AppContext.BaseDirectory);

    [Fact]
    public void Every_pasted_output_is_what_its_command_prints()
    {
        var run = new DocsRun(Root);
        var report = run.Run(run.DefaultFiles());

        Assert.True(report.Commands > 20, $"only {report.Commands} commands found in the docs");
        Assert.True(report.Mismatches.Count == 0,
            string.Join("\n", report.Mismatches.Select(m => m.Describe())) +
            $"\n{report.Mismatches.Count} pasted outputs differ; regenerate with: {DocsRun.UpdateCommand} (then review the diff)");
    }

    [Fact]
    public void A_hand_edited_number_in_a_pasted_table_fails_the_check()
    {
        var readme = File.ReadAllLines(Path.Combine(Root, "README.md"));
        var block = ExtractBlock(readme, "$ vexlab run --builtin swap-overcommit --protocol kvm-pf-int --exits");
        Assert.True(Check(block).Mismatches.Count == 0, "the README's block as written");

        var row = block.FindIndex(l => l.Contains("work: total", StringComparison.Ordinal));
        Assert.True(row > 0, "the block has a work: total row");
        var edited = new List<string>(block);
        edited[row] = EditLastDigit(edited[row]);
        var report = Check(edited);

        var mismatch = Assert.Single(report.Mismatches);
        Assert.Contains("vexlab run --builtin swap-overcommit", mismatch.Command, StringComparison.Ordinal);
    }

    [Fact]
    public void An_edited_word_in_a_pasted_error_fails_the_check()
    {
        var block = new List<string>
        {
            "```",
            "$ vexlab explain double-fault 15 PF; echo \"exit $?\"",
            "vexlab: FIRST: vector 15 is reserved and has no exception class",
            "exit 1",
            "```",
        };

        Assert.Single(Check(block).Mismatches);
    }

    [Fact]
    public void Update_rewrites_a_stale_block_and_keeps_the_excerpt_cut()
    {
        var directory = Directory.CreateTempSubdirectory("vexlab-docs-test-").FullName;
        try
        {
            var file = Path.Combine(directory, "doc.md");
            File.WriteAllLines(file,
            [
                "Text.",
                "",
                "```",
                "$ vexlab scenarios list",
                "postcopy         stale description",
                "...",
                "```",
                "",
            ]);

            new DocsRun(directory) { Update = true }.Run(["doc.md"]);
            var updated = File.ReadAllLines(file);
            var again = new DocsRun(directory).Run(["doc.md"]);

            Assert.StartsWith("postcopy         post-copy migration", updated[4], StringComparison.Ordinal);
            Assert.Equal("...", updated[5]);
            Assert.Equal("```", updated[6]);
            Assert.Empty(again.Mismatches);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    // A slow block with quick options runs small in the test suite and its shape is compared: the bench blocks had
    // gone stale unseen when a line of the bench gained a clause, since only --slow ran them.
    [Fact]
    public void A_slow_block_with_quick_options_is_compared_by_shape_in_a_small_run()
    {
        var readme = File.ReadAllLines(Path.Combine(Root, "README.md"));
        var block = ExtractBlock(readme, "$ vexlab bench");
        List<string> quick = ["<!-- docs-check: slow measured quick --duration 2ms -->", .. block];
        var whole = Check(quick);
        Assert.Empty(whole.Mismatches);
        Assert.Equal(0, whole.SkippedSlow);
        Assert.Equal(1, whole.Commands);

        // A line the command prints and the paste lacks, as when a clause was added to it.
        var stale = new List<string>(quick);
        stale.RemoveAt(stale.FindIndex(l => l.StartsWith("peak memory", StringComparison.Ordinal)));
        var mismatch = Assert.Single(Check(stale).Mismatches);
        Assert.EndsWith("--duration 2ms", mismatch.Command, StringComparison.Ordinal);

        // Without quick options the block is skipped as before.
        List<string> slow = ["<!-- docs-check: slow measured -->", .. block];
        Assert.Equal(1, Check(slow).SkippedSlow);
    }

    [Fact]
    public void A_LANG_prefix_runs_the_command_in_that_locale()
    {
        List<string> ascii = ["```", "$ LANG=C vexlab explain protocol sync", "...", "| user               | sync-stall  | none  |", "...", "```"];
        Assert.Empty(Check(ascii).Mismatches);

        List<string> boxes = ["```", "$ LANG=C vexlab explain protocol sync", "...", "\u2502 user               \u2502 sync-stall  \u2502 none  \u2502", "...", "```"];
        Assert.Single(Check(boxes).Mismatches);
        boxes[1] = "$ LANG=C.UTF-8 vexlab explain protocol sync";
        Assert.Empty(Check(boxes).Mismatches);
    }

    [Theory]
    [InlineData("<!-- docs-check: measured quick --duration 2ms -->")]
    [InlineData("<!-- docs-check: slow measured quick -->")]
    [InlineData("<!-- docs-check: quick slow measured -->")]
    public void Quick_goes_after_slow_measured_with_options(string marker)
    {
        var e = Assert.Throws<FormatException>(() => MarkdownBlocks.Parse("doc.md", [marker, "```", "$ vexlab bench", "```"]));
        Assert.Equal("doc.md:1: \"quick\" comes after \"slow measured\" and before the options of the quick run", e.Message);
    }

    private static DocsReport Check(IReadOnlyList<string> block)
    {
        var directory = Directory.CreateTempSubdirectory("vexlab-docs-test-").FullName;
        try
        {
            File.WriteAllLines(Path.Combine(directory, "doc.md"), block);
            return new DocsRun(directory).Run(["doc.md"]);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static List<string> ExtractBlock(string[] lines, string command)
    {
        var start = Array.IndexOf(lines, command);
        Assert.True(start > 0, $"README.md has no line {command}");
        var end = start;
        while (!lines[end].StartsWith("```", StringComparison.Ordinal))
        {
            end++;
        }

        return ["```", .. lines[start..end], "```"];
    }

    private static string EditLastDigit(string line)
    {
        var at = line.Length - 1;
        while (!char.IsAsciiDigit(line[at]))
        {
            at--;
        }

        var digit = line[at] == '9' ? '1' : (char)(line[at] + 1);
        return line[..at] + digit + line[(at + 1)..];
    }
}
