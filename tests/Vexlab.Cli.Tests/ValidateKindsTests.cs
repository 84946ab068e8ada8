using System.Text.Json.Nodes;

namespace Vexlab.Cli.Tests;

/// <summary>
/// <c>validate</c> takes every kind of input file: a sweep file is checked at every point under every protocol entry,
/// as <c>sweep run</c> checks it before it opens the store, and a checker model file is built under every protocol,
/// as <c>check</c> builds it. Before, both were refused as "not a simulator scenario", and the only way to check a
/// sweep was to run it.
/// </summary>
public sealed class ValidateKindsTests : IDisposable
{
    // Two points under two protocol entries and two seeds: 8 runs.
    private const string Sweep = "name: tiny\nscenario: postcopy\nset:\n  duration: 1ms\nprotocols: [sync, \"ve[guest.ve.can_continue=always]\"]\nseeds: 2\naxes:\n  - {name: tasks, key: \"tasks[0].count\", values: [1, 2]}\n";

    private const string Model = "name: one-fault\nvcpus: 1\npages: 1\nhost_absent: [0]\ntasks:\n  - {name: a, mode: user, vcpu: 0, program: \"touch 0\"}\n";

    private readonly string _dir = Directory.CreateTempSubdirectory("vexlab-validate-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    private string Write(string name, string text)
    {
        File.WriteAllText(P(name), text);
        return P(name);
    }

    /// <summary>
    /// An output of vexlab's given where a scenario, model or sweep file goes is named as what it is: validate said a
    /// result store was "not UTF-8 text" and a JSON result had "schema_version: unknown key".
    /// </summary>
    [Fact]
    public void An_output_given_as_an_input_file_is_named_as_what_it_is()
    {
        var sweep = Write("s.yaml", "scenario: postcopy\nprotocols: [sync]\nseeds: 1\n");
        Assert.Equal(0, CliRunner.RunFake("sweep", "run", sweep, "--db", P("s.duckdb"), "--jobs", "1").ExitCode);
        Assert.Equal(0, CliRunner.Run("run", "--builtin", "postcopy", "--protocol", "sync", "--duration", "1ms", "--json", P("r.json")).ExitCode);
        Assert.Equal(1, CliRunner.Run("check", "--builtin", "pending-event", "--protocol", "ve", "--trace", P("t.json")).ExitCode);

        foreach (var (file, what) in new[] { ("s.duckdb", "a result store"), ("r.json", "a JSON result"), ("t.json", "a counterexample") })
        {
            foreach (var (command, expected) in new[]
            {
                (new[] { "validate", P(file) }, "a scenario, sweep or checker model file"),
                (["run", P(file), "--protocol", "sync"], "a simulator scenario"),
                (["check", P(file), "--protocol", "sync"], "a checker model file"),
                (["sweep", "run", P(file), "--db", P("never.duckdb")], "a sweep file"),
            })
            {
                var result = CliRunner.Run(command);
                Assert.Equal(2, result.ExitCode);
                Assert.StartsWith($"vexlab: {P(file)}: is {what} (an output of vexlab), not {expected}", result.Stderr, StringComparison.Ordinal);
                Assert.Single(result.Stderr.TrimEnd('\n').Split('\n'));
            }
        }

        Assert.False(File.Exists(P("never.duckdb")));
    }

    /// <summary>
    /// The ok line names a sweep or model file by its path as messages print it: a name holding ESC ]0;x BEL set the
    /// terminal's title when validated (a scenario's line escaped it already).
    /// </summary>
    [Fact]
    public void The_ok_line_escapes_a_file_name_with_control_characters()
    {
        var sweep = Write("s\u001b]0;x\u0007.yaml", Sweep);
        var model = Write("m\u001b.yaml", Model);
        var escapedSweep = P("s\\u001b]0;x\\u0007.yaml");
        var escapedModel = P("m\\u001b.yaml");

        var first = CliRunner.Run("validate", sweep);
        Assert.Equal(0, first.ExitCode);
        Assert.StartsWith($"{escapedSweep}: ok (sweep tiny:", first.Stdout, StringComparison.Ordinal);
        var second = CliRunner.Run("validate", model);
        Assert.Equal(0, second.ExitCode);
        Assert.StartsWith($"{escapedModel}: ok (checker model one-fault,", second.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', first.Stdout + first.Stderr + second.Stdout + second.Stderr);
    }

    [Fact]
    public void A_sweep_file_is_validated_with_the_runs_and_hash_sweep_run_then_has()
    {
        var path = Write("tiny.yaml", Sweep);
        var validate = CliRunner.Run("validate", path, "--json");
        Assert.Equal(0, validate.ExitCode);
        var v = JsonNode.Parse(validate.Stdout)!;
        Assert.Equal("sweep", (string?)v["kind"]);
        Assert.Equal(2, (long)v["points"]!);
        Assert.Equal(8, (long)v["runs"]!);
        Assert.Equal($"{path}: ok (sweep tiny: 2 points x 2 protocol entries x 2 seeds = 8 runs)\n", validate.Stderr);

        var run = CliRunner.RunFake("sweep", "run", path, "--db", P("tiny.duckdb"), "--json");
        Assert.Equal(0, run.ExitCode);
        var r = JsonNode.Parse(run.Stdout)!;
        Assert.Equal((long)v["runs"]!, (long)r["runs"]!);
        Assert.Equal((string?)v["sweep_hash"], (string?)r["sweep_hash"]);
    }

    // A fault at one point only (a task count of 0 at the second) is the one sweep run reports, and validate makes no store.
    [Theory]
    [InlineData("axes:\n  - {name: tasks, key: \"tasks[0].count\", values: [1, 0]}\n")]
    [InlineData("protocols: [sync, nope]\n")]
    [InlineData("seeds: 0\n")]
    public void A_faulty_sweep_gets_the_error_sweep_run_gives(string change)
    {
        var key = change[..change.IndexOf(':', StringComparison.Ordinal)];
        var lines = Sweep.Split('\n').ToList();
        var start = lines.FindIndex(l => l.StartsWith(key + ":", StringComparison.Ordinal));
        var end = start + 1;
        while (end < lines.Count && lines[end].StartsWith(' '))
        {
            end++;
        }

        lines.RemoveRange(start, end - start);
        lines.Insert(start, change.TrimEnd('\n'));
        var path = Write("bad.yaml", string.Join('\n', lines));
        var validate = CliRunner.Run("validate", path);
        var run = CliRunner.RunFake("sweep", "run", path, "--db", P("bad.duckdb"));
        Assert.Equal(2, validate.ExitCode);
        Assert.Equal(2, run.ExitCode);
        Assert.StartsWith($"vexlab: {path}:", validate.Stderr, StringComparison.Ordinal);
        Assert.Equal(run.Stderr, validate.Stderr);
        Assert.Equal(string.Empty, validate.Stdout);
        Assert.False(File.Exists(P("bad.duckdb")));
    }

    [Fact]
    public void The_command_lines_set_reaches_a_sweeps_points_as_sweep_run_set_does()
    {
        var path = Write("tiny.yaml", Sweep);
        var validate = CliRunner.Run("validate", path, "--set", "guest.vcpus=0");
        var run = CliRunner.RunFake("sweep", "run", path, "--db", P("set.duckdb"), "--set", "guest.vcpus=0");
        Assert.Equal(2, validate.ExitCode);
        Assert.Equal(run.Stderr, validate.Stderr);
    }

    [Fact]
    public void A_checker_model_file_is_built_under_every_protocol()
    {
        var path = Write("one.yaml", Model);
        var validate = CliRunner.Run("validate", path, "--json");
        Assert.Equal(0, validate.ExitCode);
        var v = JsonNode.Parse(validate.Stdout)!;
        Assert.Equal("model", (string?)v["kind"]);
        Assert.Equal("one-fault", (string?)v["model"]);
        Assert.Equal(["sync", "kvm-halt", "kvm-pf", "kvm-pf-int", "ve"], v["protocols"]!.AsArray().Select(p => (string?)p!["protocol"]));
    }

    [Fact]
    public void A_faulty_model_file_gets_the_error_check_gives()
    {
        var path = Write("bad.yaml", Model.Replace("touch 0", "touch 7", StringComparison.Ordinal));
        var validate = CliRunner.Run("validate", path);
        var check = CliRunner.Run("check", path, "--protocol", "ve");
        Assert.Equal(2, validate.ExitCode);
        Assert.Contains("page out of range", validate.Stderr, StringComparison.Ordinal);
        Assert.Equal(check.Stderr, validate.Stderr);
    }

    [Theory]
    [InlineData("tiny.yaml", "--seed", "3", "vexlab: --seed: a sweep runs the seeds its seeds: key lists")]
    [InlineData("one.yaml", "--set", "guest.ve.can_continue=always", "vexlab: --set: a checker model file is validated as written, under every protocol")]
    [InlineData("one.yaml", "--duration", "5ms", "vexlab: --duration: a checker model file has no duration: the checker explores every state it reaches, not a span of simulated time; --duration goes with a scenario file\n")]
    // --seed is not a knob: a model file has no seed, and a swarm's goes with its check.
    [InlineData("one.yaml", "--seed", "5", "vexlab: --seed: a checker model file has no seed: the exhaustive search draws nothing at random, and a swarm's seed goes with its check: vexlab check ")]
    public void Options_that_do_not_apply_to_the_kind_are_refused(string file, string option, string value, string expected)
    {
        Write("tiny.yaml", Sweep);
        Write("one.yaml", Model);
        var result = CliRunner.Run("validate", P(file), option, value);
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith(expected, result.Stderr, StringComparison.Ordinal);
        if (option != "--set")
        {
            Assert.DoesNotContain("knob", result.Stderr, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_scenario_is_still_prepared_under_every_protocol()
    {
        var path = Write("s.yaml", "duration: 1ms\ntasks:\n  - name: a\n    loop: compute 10\n");
        var validate = CliRunner.Run("validate", path, "--json");
        Assert.Equal(0, validate.ExitCode);
        var v = JsonNode.Parse(validate.Stdout)!;
        Assert.Equal("scenario", (string?)v["kind"]);
        Assert.All(v["protocols"]!.AsArray(), p => Assert.StartsWith("vexlab run ", (string?)p!["replay"], StringComparison.Ordinal));
    }
}
