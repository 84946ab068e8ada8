namespace Vexlab.Cli.Tests;

/// <summary>
/// The verdict tables in the README and docs are `check --matrix` output, pasted after the command
/// that prints them (`<!-- $ vexlab ... -->` before a Markdown table, `$ vexlab ...` in a code
/// block): one source, so a change of verdict fails here until the docs are regenerated.
/// </summary>
public sealed class VerdictTablesTests
{
    public static TheoryData<string, string[]> Tables => new()
    {
        { "docs/checking.md", ["check", "--matrix", "--markdown"] },
        { "README.md", ["check", "--matrix", "--markdown", "--transpose", "--protocols", VeDesigns] },
    };

    /// <summary>info_store x irq_enable x clear_busy, as the README's #VE design table lists them.</summary>
    public const string VeDesigns =
        "ve,ve[guest.ve.irq_enable=after-hypercall],ve[guest.ve.clear_busy=after-hypercall],"
        + "ve[guest.ve.irq_enable=after-hypercall;guest.ve.clear_busy=after-hypercall],ve[guest.ve.info_store=args],"
        + "ve[guest.ve.info_store=args;guest.ve.irq_enable=after-hypercall],ve[guest.ve.info_store=args;guest.ve.clear_busy=after-hypercall],"
        + "ve[guest.ve.info_store=args;guest.ve.irq_enable=after-hypercall;guest.ve.clear_busy=after-hypercall]";

    [Theory]
    [MemberData(nameof(Tables))]
    public void DocTable_IsTheCommandsOutput(string file, string[] args)
    {
        var text = File.ReadAllText(Path.Combine(RepositoryRoot.Path, file)).ReplaceLineEndings("\n");
        var result = CliRunner.Run(args);
        Assert.True(result.ExitCode is 0 or 1, result.Stderr);
        var command = "vexlab " + string.Join(' ', args.Select(a => a.Contains(' ', StringComparison.Ordinal) || a.Contains('[', StringComparison.Ordinal) ? "'" + a + "'" : a));
        var marker = $"<!-- $ {command} -->\n";
        Assert.Contains(marker, text);
        Assert.Contains(marker + result.Stdout.ReplaceLineEndings("\n"), text);
    }

    [Fact]
    public void Matrix_HumanAndMarkdown_ShowTheSameCells()
    {
        var human = CliRunner.Run("check", "--matrix", "--protocols", "sync,kvm-pf");
        var markdown = CliRunner.Run("check", "--matrix", "--protocols", "sync,kvm-pf", "--markdown");
        Assert.Equal(human.ExitCode, markdown.ExitCode);
        foreach (var line in markdown.Stdout.Split('\n').Skip(2).Where(l => l.StartsWith('|')))
        {
            var cells = line.Trim('|', ' ').Split(" | ");
            Assert.Contains(cells[0], human.Stdout, StringComparison.Ordinal);
            Assert.Contains(cells[2], human.Stdout, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void MatrixOptions_WithoutMatrix_AreRejected()
    {
        var r = CliRunner.Run("check", "--builtin", "irq-off", "--protocol", "sync", "--markdown");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--matrix", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Matrix_BadProtocolEntry_IsInputError()
    {
        var r = CliRunner.Run("check", "--matrix", "--protocols", "ve[guest.ve.irq_enable=sometimes]");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("guest.ve.irq_enable", r.Stderr, StringComparison.Ordinal);
    }
}
