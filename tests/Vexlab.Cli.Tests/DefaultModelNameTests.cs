using System.Text.Json.Nodes;

namespace Vexlab.Cli.Tests;

/// <summary>
/// A model file without <c>name:</c> is named after its file. A file name with a control character names no model, as a
/// <c>name:</c> with one names none: the model was called by the name as messages print it (<c>f\u001b]0;x\u0007y</c>,
/// backslashes and all) in the output, the JSON and its traces.
/// </summary>
public sealed class DefaultModelNameTests : IDisposable
{
    private const string Model =
        "vcpus: 1\npages: 2\nhost_absent: [0, 1]\ntasks:\n  - {name: a, mode: user, program: \"touch 0; touch 1\"}\n" +
        "invariants:\n  - {name: one-sleeper, expr: \"sleeping == 0\"}\n";

    private readonly string _dir = Directory.CreateTempSubdirectory("vexlab-model-name-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("check", "--protocol", "kvm-pf-int")]
    [InlineData("validate")]
    public void A_file_name_with_control_characters_names_no_model(params string[] command)
    {
        var path = Path.Combine(_dir, "f\u001b]0;x\u0007y.yaml");
        File.WriteAllText(path, Model);
        var result = CliRunner.Run([command[0], path, .. command[1..]]);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal(string.Empty, result.Stdout);
        Assert.Equal(
            $"vexlab: {_dir}/f\\u001b]0;x\\u0007y.yaml:1:1: the model has no 'name' and is named after its file, whose name has control characters or line separators (\"f\\u001b]0;x\\u0007y\"); give it a name: key\n",
            result.Stderr);
    }

    [Fact]
    public void A_named_model_may_live_in_such_a_file_and_a_plain_file_name_still_names_one()
    {
        var named = Path.Combine(_dir, "g\u001b]0;x\u0007y.yaml");
        File.WriteAllText(named, "name: gee\n" + Model);
        var result = CliRunner.Run("check", named, "--protocol", "kvm-pf-int", "--json");
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("gee", (string?)JsonNode.Parse(result.Stdout)!["model"]);

        var plain = Path.Combine(_dir, "plain.yaml");
        File.WriteAllText(plain, Model);
        result = CliRunner.Run("check", plain, "--protocol", "kvm-pf-int", "--json");
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("plain", (string?)JsonNode.Parse(result.Stdout)!["model"]);
    }

    /// <summary>
    /// A trace written before the refusal embeds the unnamed model, records the file's name as it is and the model's as
    /// messages print it: it replays as it did, its embedded model named from the printed path, not refused for it.
    /// </summary>
    [Fact]
    public void A_trace_of_such_a_model_from_before_still_replays()
    {
        var file = Path.Combine(_dir, "f\u001b]0;x\u0007y.yaml");
        File.WriteAllText(file, "name: gee\n" + Model);
        var trace = Path.Combine(_dir, "t.json");
        Assert.Equal(1, CliRunner.Run("check", file, "--protocol", "kvm-pf-int", "--trace", trace).ExitCode);
        var doc = JsonNode.Parse(File.ReadAllText(trace))!.AsObject();
        doc["model"] = "f\\u001b]0;x\\u0007y";
        doc["model_source"] = Model;
        File.WriteAllText(trace, doc.ToJsonString());

        var result = CliRunner.Run("replay", trace);
        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith("f\\u001b]0;x\\u0007y under kvm-pf-int: 7 of 7 steps replayed", result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', result.Stdout + result.Stderr);
    }

    /// <summary>
    /// A trace's model name is the file's word, not vexlab's: one edited to hold an escape sequence is printed escaped,
    /// as every other name is, rather than reaching the terminal (replay printed it as it was).
    /// </summary>
    [Fact]
    public void A_traces_model_name_is_printed_escaped()
    {
        var file = Path.Combine(_dir, "plain.yaml");
        File.WriteAllText(file, "name: gee\n" + Model);
        var trace = Path.Combine(_dir, "t2.json");
        Assert.Equal(1, CliRunner.Run("check", file, "--protocol", "kvm-pf-int", "--trace", trace).ExitCode);
        var doc = JsonNode.Parse(File.ReadAllText(trace))!.AsObject();
        doc["model"] = "g\u001b]0;x\u0007h";
        doc["model_source"] = Model;
        File.WriteAllText(trace, doc.ToJsonString());

        var result = CliRunner.Run("replay", trace);
        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith("g\\u001b]0;x\\u0007h under kvm-pf-int: 7 of 7 steps replayed", result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', result.Stdout + result.Stderr);
    }
}
