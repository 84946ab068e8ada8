using System.Text.Json.Nodes;

namespace Vexlab.Cli.Tests;

/// <summary>
/// A knob a scenario file sets is shared by every protocol the file runs under: where a protocol does not read it, it
/// is left out of that protocol's scenario, as a <c>--set</c> of it is left out of a compare column that does not read
/// it. Refused there, <c>compare</c> of a file with <c>guest.ve.can_continue: always</c> printed
/// <c>vexlab run FILE --protocol sync ...</c> as sync's replay line, and that line was refused (exit 2). Where no
/// protocol of the command reads the file's knob, a note names it at its line; a <c>--set</c> of it is still refused.
/// </summary>
public sealed class FileKnobTests : IDisposable
{
    private const string Plain = "name: t\nduration: 2ms\nregions:\n  - name: anon\n    size: 1MiB\n    absent: 50%\ntasks:\n  - name: w\n    loop: touch anon random; compute 50\n";

    private const string Knob = "guest.ve.can_continue: always\n";

    private readonly string _dir = Directory.CreateTempSubdirectory("vexlab-fileknob-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string text)
    {
        var file = Path.Combine(_dir, name);
        File.WriteAllText(file, text);
        return file;
    }

    private static JsonArray Results(params string[] args)
    {
        var result = CliRunner.Run([.. args, "--json", "-"]);
        Assert.True(result.ExitCode == 0, result.Stderr);
        var doc = JsonNode.Parse(result.Stdout)!.AsObject();
        return doc["results"] is JsonArray results ? results : [doc];
    }

    /// <summary>Every column's replay line runs, exit 0, and gives the column's scenario_hash and digest.</summary>
    [Theory]
    [InlineData("guest:\n  ve:\n    can_continue: always\n")]
    [InlineData("host.apf.report_errors: true\n")]
    public void Each_compare_column_replays_under_its_one_protocol(string knob)
    {
        var file = Write("s.yaml", Plain + knob);
        foreach (var column in Results("compare", file))
        {
            var replay = (string)column!["replay"]!;
            Assert.DoesNotContain('\'', replay);
            var again = Results([.. replay.Split(' ').Skip(1)]).Single()!;
            Assert.Equal((string)column["scenario_hash"]!, (string)again["scenario_hash"]!);
            Assert.Equal((string)column["digest"]!, (string)again["digest"]!);
        }
    }

    /// <summary>
    /// The file's knob and a --set of it give each compared protocol the same scenario_hash: a protocol that does not
    /// read it hashes the scenario without it, as it does a --set of it.
    /// </summary>
    [Theory]
    [InlineData("sync,ve")]
    [InlineData("sync,kvm-pf,kvm-pf-int,ve")]
    public void A_file_knob_and_the_same_set_hash_alike_in_every_column(string protocols)
    {
        var plain = Write("plain.yaml", Plain);
        var knob = Write("knob.yaml", Plain + Knob);
        var bySet = Results("compare", plain, "--protocols", protocols, "--set", "guest.ve.can_continue=always");
        var byFile = Results("compare", knob, "--protocols", protocols);
        Assert.Equal(
            bySet.Select(r => (string)r!["scenario_hash"]!),
            byFile.Select(r => (string)r!["scenario_hash"]!));
        Assert.Equal(
            bySet.Select(r => (string)r!["digest"]!),
            byFile.Select(r => (string)r!["digest"]!));
    }

    [Theory]
    [InlineData("guest:\n  ve.can_continue: always\n", 11, 20, "run", "--protocol", "kvm-pf-int")]
    [InlineData(Knob, 10, 24, "run", "--protocol", "sync")]
    [InlineData(Knob, 10, 24, "compare", "--protocols", "sync,kvm-pf")]
    public void A_file_knob_no_protocol_of_the_command_reads_is_noted_at_its_line(string knob, int line, int column, string command, string option, string protocols)
    {
        var file = Write("s.yaml", Plain + knob);
        var result = CliRunner.Run(command, file, option, protocols);
        Assert.True(result.ExitCode == 0, result.Stderr);
        var names = protocols.Split(',');
        var who = names.Length == 1 ? names[0] + " does not use" : "none of " + string.Join(", ", names) + " uses";
        var note = $"vexlab: note: {file}:{line}:{column}: guest.ve.can_continue: {who} this knob (it applies to ve); the file's value is left out\n";
        Assert.Equal(1, result.Stderr.Split(note).Length - 1);
    }

    [Theory]
    [InlineData("run", "--protocol", "sync")]
    [InlineData("compare", "--protocols", "sync,kvm-pf")]
    public void A_set_no_protocol_of_the_command_reads_is_still_refused(string command, string option, string protocols)
    {
        var file = Write("s.yaml", Plain);
        var result = CliRunner.Run(command, file, option, protocols, "--set", "guest.ve.can_continue=always");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("guest.ve.can_continue: ", result.Stderr, StringComparison.Ordinal);
    }
}
