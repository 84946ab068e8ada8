using System.Text.Json.Nodes;

namespace Vexlab.Cli.Tests;

/// <summary>
/// <c>replay</c> on traces a person edited, truncated or corrupted: one line naming the file,
/// line, column and field, exit 2 (or 1 with the step where it diverges); never an internal error.
/// Traces written from model files replay from the model text they embed.
/// </summary>
public sealed class ReplayRobustnessTests : IDisposable
{
    private const string OneFault = """
        vcpus: 1
        pages: 1
        host_absent: [0]
        tasks:
          - {name: u, mode: user, vcpu: 0, program: "touch 0"}
        invariants:
          - {name: nobody-sleeps, expr: "sleeping <= 0"}
        """;

    private readonly string _dir = Directory.CreateTempSubdirectory("vexlab-replay-bad-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    private CliRunner.Result Replay(string json)
    {
        File.WriteAllText(P("t.json"), json);
        return CliRunner.Run("replay", P("t.json"));
    }

    [Theory]
    [InlineData("{\"model\":\"wake-race\",\"protocol\":\"ve\",\"actions\":[null]}", ":1:49: actions[0]: expected an action word (a whole number from 0 to 4294967295), got null")]
    [InlineData("{\"model\":\"wake-race\",\"protocol\":\"ve\",\"actions\":[\"x\"]}", ":1:49: actions[0]: expected an action word (a whole number from 0 to 4294967295), got a string")]
    [InlineData("{\"model\":\"wake-race\",\"protocol\":\"ve\",\"actions\":[-1]}", ":1:49: actions[0]: expected an action word")]
    [InlineData("{\"model\":\"wake-race\",\"protocol\":\"ve\",\"actions\":[1.5]}", ":1:49: actions[0]: expected an action word")]
    [InlineData("{\"model\":\"wake-race\",\"protocol\":\"ve\",\"actions\":[999999999999]}", ":1:49: actions[0]: expected an action word (a whole number from 0 to 4294967295), got 999999999999")]
    [InlineData("{\"model\":\"wake-race\",\"protocol\":\"ve\",\"actions\":[4278190080]}", ":1:49: actions[0]: action kind 31 does not exist")]
    [InlineData("{\"model\":7,\"protocol\":\"ve\",\"actions\":[]}", ":1:10: model: expected a string, got a number")]
    [InlineData("{\"model\":\"wake-race\",\"model\":\"x\",\"protocol\":\"ve\",\"actions\":[]}", ":1:22: model: duplicate key")]
    [InlineData("{\"model\":\"wake-race\",\"protocol\":\"ve\",\"actions\":{}}", ":1:48: actions: expected a list of action words, got an object")]
    [InlineData("{\"model\":\"wake-race\",\"protocol\":\"ve\",\n\"overrides\":[3],\"actions\":[]}", ":2:14: overrides[0]: expected a string, got a number")]
    [InlineData("{\"model\":\"wake-race\",\"protocol\":\"ve\",\"actions\":[]} []", ":1:52: not JSON")]
    [InlineData("{\"model\":\"wake-race\",\"protocol\":\"ve\",\"actions\":[", ":1:49: not JSON")]
    [InlineData("[]", ":1:1: expected a JSON object written by vexlab check --trace")]
    [InlineData("", ":1:1: not JSON")]
    [InlineData("{\"model\":\"nope\",\"protocol\":\"ve\",\"actions\":[]}", ": model: unknown built-in model \"nope\"")]
    [InlineData("{\"model\":\"wake-race\",\"protocol\":\"nope\",\"actions\":[]}", "nope")]
    [InlineData("{\"model\":\"wake-race\",\"protocol\":\"ve\",\"kind\":\"loop\",\"actions\":[]}", ":1:45: kind: expected safety or lasso, got \"loop\"")]
    [InlineData("{\"model\":\"wake-race\",\"protocol\":\"ve\",\"property\":\"no-dedlock\",\"kind\":\"safety\",\"actions\":[]}", ":1:49: property: unknown property 'no-dedlock'; did you mean no-deadlock?")]
    [InlineData("{\"model\":\"wake-race\",\"protocol\":\"ve\",\"property\":null,\"kind\":\"lasso\",\"loop_start\":0,\"actions\":[]}", ":1:49: property: a trace that gives its kind names the property it breaks")]
    [InlineData("{\"model\":\"wake-race\",\"protocol\":\"ve\",\"kind\":\"safety\",\"loop_start\":0,\"actions\":[]}", ":1:67: loop_start: a safety trace has no loop; expected null")]
    [InlineData("{\"model\":\"wake-race\",\"protocol\":\"ve\",\"kind\":\"lasso\",\"loop_start\":null,\"actions\":[]}", ":1:45: kind: a lasso needs loop_start")]
    [InlineData("{\"model\":\"wake-race\",\"protocol\":\"ve\",\"kind\":\"lasso\",\"loop_start\":2,\"actions\":[0]}", ":1:66: loop_start: 2 is past the trace's 1 actions")]
    [InlineData("{\"model\":\"wake-race\",\"protocol\":\"ve\",\"kind\":\"lasso\",\"loop_start\":-1,\"actions\":[0]}", ":1:66: loop_start: expected an action index (a whole number from 0) or null, got -1")]
    [InlineData("{\"model\":\"wake-race\",\"protocol\":\"ve\",\"knobs\":[],\"actions\":[]}", ":1:46: knobs: expected an object, got a list")]
    [InlineData("{\"model\":\"wake-race\",\"protocol\":\"ve\",\"knobs\":{\"a\":1},\"actions\":[]}", ":1:51: knobs.a: expected a string, got a number")]
    [InlineData("{\"model\":\"wake-race\",\"protocol\":\"ve\",\"bounds\":{\"pages\":-1},\"actions\":[]}", ":1:56: bounds.pages: expected a whole number from 0, got -1")]
    [InlineData("{\"model\":\"wake-race\",\"protocol\":\"ve\",\"bounds\":{\"pages\":1,\"pages\":1},\"actions\":[]}", ":1:58: bounds.pages: duplicate key")]
    public void A_malformed_trace_is_one_line_naming_the_place(string json, string expected)
    {
        var result = Replay(json);
        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.Stderr.TrimEnd('\n').Split('\n'));
        Assert.StartsWith("vexlab: " + P("t.json"), line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.DoesNotContain("internal error", line, StringComparison.Ordinal);
    }

    [Fact]
    public void A_deeply_nested_trace_is_refused()
    {
        var result = Replay("{\"replay\":" + new string('[', 100_000));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("nested deeper than 64 levels; set VEXLAB_MAX_INPUT_DEPTH to raise the limit", result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0x00FF_0000u)]
        [InlineData((4u << 24) | 0x0000_00FFu)]
    public void An_action_naming_a_missing_vcpu_diverges_instead_of_crashing(uint word)
    {
        var result = Replay($"{{\"model\":\"wake-race\",\"protocol\":\"kvm-pf-int\",\"actions\":[{word}]}}");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("names a vCPU the model does not have", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void A_trace_from_a_model_file_replays_from_the_text_it_embeds()
    {
        File.WriteAllText(P("one.yaml"), OneFault);
        var check = CliRunner.Run("check", P("one.yaml"), "--protocol", "kvm-pf-int", "--trace", P("cex.json"));
        Assert.Equal(1, check.ExitCode);
        var trace = JsonNode.Parse(File.ReadAllText(P("cex.json")))!.AsObject();
        Assert.Equal(OneFault, (string?)trace["model_source"]);

        // The model file may change or vanish afterwards: the replay uses the embedded text.
        File.Delete(P("one.yaml"));
        var replay = CliRunner.Run("replay", P("cex.json"));
        Assert.Equal(0, replay.ExitCode);
        var steps = trace["actions"]!.AsArray().Count;
        Assert.Contains($"{steps} of {steps} steps replayed", replay.Stdout, StringComparison.Ordinal);

        // The user invariant the trace breaks is the model file's own: it is confirmed from the embedded text too.
        Assert.Contains("confirmed: the last step breaks nobody-sleeps\n", replay.Stdout, StringComparison.Ordinal);
    }

    // A trace cut short or with an edited step replays without diverging; it used to end with exit 0 and nothing said,
    // as if it showed its property broken.
    [Fact]
    public void A_trace_that_no_longer_shows_its_property_is_not_confirmed()
    {
        var check = CliRunner.Run("check", "--builtin", "nmi-host-fault", "--protocol", "ve", "--trace", P("cex.json"));
        Assert.Equal(1, check.ExitCode);
        var whole = CliRunner.Run("replay", P("cex.json"), "--json", P("whole.json"));
        Assert.Equal(0, whole.ExitCode);
        Assert.Contains("confirmed: the last step breaks fault-info-intact\n", whole.Stdout, StringComparison.Ordinal);
        var wholeJson = JsonNode.Parse(File.ReadAllText(P("whole.json")))!;
        Assert.True((bool)wholeJson["confirmed"]!);

        var trace = JsonNode.Parse(File.ReadAllText(P("cex.json")))!.AsObject();
        var actions = trace["actions"]!.AsArray();
        actions.RemoveAt(actions.Count - 1);
        File.WriteAllText(P("cut.json"), trace.ToJsonString());
        var cut = CliRunner.Run("replay", P("cut.json"), "--json", P("cut-result.json"));
        Assert.Equal(1, cut.ExitCode);
        Assert.Contains("not confirmed: the last step does not break fault-info-intact\n", cut.Stdout, StringComparison.Ordinal);
        var cutJson = JsonNode.Parse(File.ReadAllText(P("cut-result.json")))!;
        Assert.False((bool)cutJson["confirmed"]!);
        Assert.Equal("the last step does not break fault-info-intact", (string?)cutJson["confirmation"]);
        Assert.Null(cutJson["diverged"]);
    }

    // A step's choice past the ones the model offers (999: vCPU0 steps with choice 998): the simulator's replay took any
    // step as enabled, replayed all 7 steps, printed the violation and then "not confirmed: step 4 ... is not enabled
    // there"; both now tell of one divergence, at step 4.
    [Fact]
    public void A_step_with_a_choice_the_model_does_not_offer_diverges_there()
    {
        Assert.Equal(1, CliRunner.Run("check", "--builtin", "nmi-window", "--protocol", "kvm-pf-int", "--property", "fault-info-intact", "--trace", P("cex.json")).ExitCode);
        var trace = JsonNode.Parse(File.ReadAllText(P("cex.json")))!.AsObject();
        var steps = trace["actions"]!.AsArray().Count;
        Assert.True(steps > 4);
        trace["actions"]![3] = 999;
        File.WriteAllText(P("bad.json"), trace.ToJsonString());
        var replay = CliRunner.Run("replay", P("bad.json"), "--json", P("r.json"));
        Assert.Equal(1, replay.ExitCode);
        Assert.Contains($": 3 of {steps} steps replayed", replay.Stdout, StringComparison.Ordinal);
        Assert.Contains("diverged at step 4: vCPU0: step (choice 998) is not enabled", replay.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("violated", replay.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("not confirmed", replay.Stdout, StringComparison.Ordinal);
    }
}
