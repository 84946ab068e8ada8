namespace Vexlab.Cli.Tests;

/// <summary>
/// A knob a scenario file sets is held to <c>--set</c>'s rule: a file with <c>guest.ve.can_continue: always</c> ran
/// under <c>--protocol kvm-pf-int</c>, exit 0, while <c>--set guest.ve.can_continue=always</c> was refused. Now the
/// file is refused at its line whenever --set of the same knob would be: under <c>run</c> when its one protocol does
/// not read it, under <c>compare</c> when none of the compared protocols does.
/// </summary>
public sealed class FileKnobTests : IDisposable
{
    private const string Plain = "name: t\nduration: 2ms\n";

    private readonly string _dir = Directory.CreateTempSubdirectory("vexlab-fileknob-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("guest:\n  ve.can_continue: always\n", 4, 20, "run", "--protocol", "kvm-pf-int")]
    [InlineData("guest.ve.can_continue: always\n", 3, 24, "run", "--protocol", "sync")]
    [InlineData("guest.ve.can_continue: always\n", 3, 24, "compare", "--protocols", "sync,kvm-pf")]
    public void A_knob_no_protocol_of_the_command_reads_is_refused_at_its_line(string knob, int line, int column, string command, string option, string protocols)
    {
        var file = Path.Combine(_dir, "s.yaml");
        File.WriteAllText(file, Plain + knob);
        var result = CliRunner.Run(command, file, option, protocols);
        Assert.Equal(2, result.ExitCode);
        var names = protocols.Split(',');
        var who = names.Length == 1 ? names[0] + " does not use" : "none of " + string.Join(", ", names) + " uses";
        Assert.Equal($"vexlab: {file}:{line}:{column}: guest.ve.can_continue: {who} this knob (it applies to ve)\n", result.Stderr[result.Stderr.IndexOf("vexlab: " + file, StringComparison.Ordinal)..]);
    }

    /// <summary>The file and --set agree on every protocol list: both run, or both are refused.</summary>
    [Theory]
    [InlineData("run", "--protocol", "ve")]
    [InlineData("run", "--protocol", "kvm-pf-int")]
    [InlineData("compare", "--protocols", "sync,ve")]
    [InlineData("compare", "--protocols", "sync,kvm-pf")]
    public void A_file_knob_and_the_same_set_agree(string command, string option, string protocols)
    {
        var plain = Path.Combine(_dir, "plain.yaml");
        var knob = Path.Combine(_dir, "knob.yaml");
        File.WriteAllText(plain, Plain);
        File.WriteAllText(knob, Plain + "guest.ve.can_continue: always\n");
        var bySet = CliRunner.Run(command, plain, option, protocols, "--set", "guest.ve.can_continue=always");
        var byFile = CliRunner.Run(command, knob, option, protocols);
        Assert.Equal(bySet.ExitCode, byFile.ExitCode);
        Assert.True(byFile.ExitCode is 0 or 2, byFile.Stderr);
    }
}
