namespace Vexlab.Cli.Tests;

/// <summary>
/// A simulator scenario, a checker model file or a sweep file given to a command that takes another kind:
/// <c>check so.yaml</c> said "duration: unknown key 'duration' (expected one of name, vcpus, ...)", <c>run
/// two-faults.yaml</c> "vcpus: unknown key; did you mean guest.vcpus?", <c>validate mini.yaml</c> "scenario: unknown
/// key" and <c>sweep run so.yaml</c> "duration: unknown sweep key". A file plainly of another kind is said to be one,
/// at its first such key, with the command that takes it; exit 2.
/// </summary>
public sealed class OtherFileKindTests : IDisposable
{
    private const string Scenario = "name: so\nduration: 5ms\nguest:\n  vcpus: 2\ntasks:\n  - name: a\n    loop: compute 10\n";

    private const string Model = "name: two-faults\nvcpus: 1\npages: 2\nhost_absent: [0, 1]\ntasks:\n  - {name: a, mode: user, vcpu: 0, program: \"touch 0; touch 1\"}\n";

    private const string Sweep = "name: mini\nscenario: swap-overcommit\nset:\n  duration: 5ms\nprotocols: all\nseeds: 2\naxes:\n  - name: latency\n    key: host.latency\n    values: [1us]\n";

    private readonly string _dir = Directory.CreateTempSubdirectory("vexlab-otherkind-").FullName;

    public OtherFileKindTests()
    {
        File.WriteAllText(P("so.yaml"), Scenario);
        File.WriteAllText(P("two-faults.yaml"), Model);
        File.WriteAllText(P("mini.yaml"), Sweep);

        // Tasks first, then a scenario key written dotted at the top level: the first key of the other kind is named.
        File.WriteAllText(P("dotted.yaml"), "tasks:\n  - name: a\n    loop: compute 10\nguest.vcpus: 2\n");
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    [Theory]
    [InlineData("so.yaml", "2:1: duration: this is a simulator scenario (its top-level keys are a scenario's: duration, guest), not a checker model file; run it with vexlab run {0} --protocol P, or vexlab compare {0}", "check", "{0}", "--protocol", "ve")]
    [InlineData("dotted.yaml", "4:1: guest.vcpus: this is a simulator scenario (its top-level keys are a scenario's: guest.vcpus), not a checker model file; run it with vexlab run {0} --protocol P, or vexlab compare {0}", "check", "{0}", "--protocol", "kvm-pf")]
    [InlineData("two-faults.yaml", "2:1: vcpus: this is a checker model file (its top-level keys are a model file's: vcpus, pages, host_absent), not a simulator scenario; check it with vexlab check {0} --protocol P", "run", "{0}", "--protocol", "ve")]
    [InlineData("two-faults.yaml", "2:1: vcpus: this is a checker model file (its top-level keys are a model file's: vcpus, pages, host_absent), not a simulator scenario; check it with vexlab check {0} --protocol P", "compare", "{0}")]
    [InlineData("mini.yaml", "2:1: scenario: this is a sweep file (its top-level keys are a sweep file's: scenario, set, protocols, seeds, axes), not a simulator scenario; run it with vexlab sweep run {0}", "run", "{0}", "--protocol", "ve")]
    [InlineData("mini.yaml", "2:1: scenario: this is a sweep file (its top-level keys are a sweep file's: scenario, set, protocols, seeds, axes), not a checker model file; run it with vexlab sweep run {0}", "check", "{0}", "--protocol", "ve")]
    [InlineData("so.yaml", "2:1: duration: this is a simulator scenario (its top-level keys are a scenario's: duration, guest, tasks), not a sweep file; run it with vexlab run {0} --protocol P, or vexlab compare {0}", "sweep", "run", "{0}")]
    [InlineData("two-faults.yaml", "2:1: vcpus: this is a checker model file (its top-level keys are a model file's: vcpus, pages, host_absent, tasks), not a sweep file; check it with vexlab check {0} --protocol P", "sweep", "run", "{0}")]
    public void A_file_of_the_other_kind_names_the_command_that_takes_it(string file, string expected, params string[] args)
    {
        var path = P(file);
        var result = CliRunner.Run([.. args.Select(a => a.Replace("{0}", path, StringComparison.Ordinal))]);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal("vexlab: " + path + ":" + expected.Replace("{0}", path, StringComparison.Ordinal) + "\n", result.Stderr);
    }

    // A sweep file named as another sweep's base scenario said "scenario: unknown key", and with an axis "(at the
    // sweep's point lat=1us under sync)" too: it is named as run names it, before any point is checked.
    [Theory]
    [InlineData("scenario: mini.yaml\nprotocols: [sync]\n")]
    [InlineData("scenario: mini.yaml\nprotocols: [sync]\naxes:\n  - {name: lat, key: host.latency, values: [1us, 2us]}\n")]
    public void A_sweep_file_as_a_sweeps_scenario_is_named_as_run_names_it(string yaml)
    {
        var outer = P("outer.yaml");
        File.WriteAllText(outer, yaml);
        var mini = P("mini.yaml");
        var run = CliRunner.Run("run", mini, "--protocol", "sync");
        var sweep = CliRunner.Run("sweep", "run", outer, "--db", P("outer.duckdb"));
        Assert.Equal(2, sweep.ExitCode);
        Assert.Equal($"vexlab: {mini}:2:1: scenario: this is a sweep file (its top-level keys are a sweep file's: scenario, set, protocols, seeds, axes), not a simulator scenario; run it with vexlab sweep run {mini}\n", sweep.Stderr);
        Assert.Equal(run.Stderr, sweep.Stderr);
        Assert.False(File.Exists(P("outer.duckdb")));
    }

    // A file with a key only its own kind has is a mistyped file of that kind: the usual message, not a guess.
    [Theory]
    [InlineData("vcpus: 1\npages: 1\nduration: 5ms\ntasks:\n  - {name: u, mode: user, program: \"touch 0\"}\n", "3:1: duration: unknown key 'duration' (expected one of", "check", "{0}", "--protocol", "ve")]
    [InlineData("duration: 5ms\nvcpus: 2\n", "2:1: vcpus: unknown key; did you mean guest.vcpus?", "run", "{0}", "--protocol", "ve")]
    [InlineData("name: x\ncolour: red\n", "2:1: colour: unknown key", "run", "{0}", "--protocol", "ve")]
    [InlineData("scenario: postcopy\nduration: 5ms\n", "2:1: duration: unknown sweep key", "sweep", "run", "{0}")]
    [InlineData("scenario: postcopy\nduration: 5ms\n", "1:1: scenario: unknown key", "validate", "{0}")]
    public void A_mixed_file_keeps_the_unknown_key_message(string yaml, string expected, params string[] args)
    {
        var path = P("mixed.yaml");
        File.WriteAllText(path, yaml);
        var result = CliRunner.Run([.. args.Select(a => a.Replace("{0}", path, StringComparison.Ordinal))]);
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("vexlab: " + path + ":" + expected, result.Stderr, StringComparison.Ordinal);
    }
}
