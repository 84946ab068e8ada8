using System.Text.Json.Nodes;

namespace Vexlab.Cli.Tests;

/// <summary>
/// <c>replay</c> holds a trace to the knobs and bounds the check recorded in it (<c>knobs</c>, <c>bounds</c>): a trace
/// whose model, protocol and overrides now build another model is refused (exit 2) at the field that differs, rather
/// than replayed on a model nobody checked. It read neither field.
/// </summary>
public sealed class ReplayRecordedModelTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vexlab-replay-recorded-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("none", 0, null)]
    [InlineData("drop-fields", 0, null)]
    [InlineData("bounds.pages+1", 2, "bounds.pages: the trace was found with 3, the model this replay builds from its model, protocol and overrides has 2: ")]
    [InlineData("bounds.nmis=0", 2, "bounds.nmis: the trace was found with 0, ")]
    [InlineData("bounds.unknown=1", 2, "bounds.unknown: the trace was found with 1, the model this replay builds from its model, protocol and overrides has no such bound")]
    [InlineData("knobs+dummy", 2, "knobs.guest.apf.dummy_entries: the trace was found with false, the model this replay builds from its model, protocol and overrides has its default")]
    [InlineData("overrides-dropped", 2, "knobs.host.apf.token_never_zero: the trace was found with false, the model this replay builds from its model, protocol and overrides has its default")]
    public void A_trace_whose_recorded_model_differs_is_refused(string edit, int exit, string? message)
    {
        var file = Path.Combine(_dir, "t.json");
        var check = CliRunner.Run("check", "--builtin", "nmi-window", "--protocol", "kvm-pf", "--set", "host.apf.token_never_zero=false", "--property", "fault-info-intact", "--trace", file);
        Assert.True(check.ExitCode == 1, check.Stderr);
        var doc = JsonNode.Parse(File.ReadAllText(file))!.AsObject();
        Assert.Equal("false", (string?)doc["knobs"]!["host.apf.token_never_zero"]);
        switch (edit)
        {
            case "drop-fields": doc.Remove("knobs"); doc.Remove("bounds"); break;
            case "bounds.pages+1": doc["bounds"]!["pages"] = (int)doc["bounds"]!["pages"]! + 1; break;
            case "bounds.nmis=0": doc["bounds"]!["nmis"] = 0; break;
            case "bounds.unknown=1": doc["bounds"]!["unknown"] = 1; break;
            case "knobs+dummy": doc["knobs"]!["guest.apf.dummy_entries"] = "false"; break;
            case "overrides-dropped": doc["overrides"] = new JsonArray(); break;
        }

        File.WriteAllText(file, doc.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        var replay = CliRunner.Run("replay", file);
        Assert.True(replay.ExitCode == exit, replay.Stderr);
        if (message is null)
        {
            Assert.Contains("confirmed: ", replay.Stdout, StringComparison.Ordinal);
            return;
        }

        // One line, placed in the file, before any replay line or output.
        Assert.Equal(string.Empty, replay.Stdout);
        var line = Assert.Single(replay.Stderr.Trim().Split('\n'));
        Assert.StartsWith("vexlab: " + file + ":", line, StringComparison.Ordinal);
        Assert.Contains(message, line, StringComparison.Ordinal);
        Assert.EndsWith("the model changed since the trace was written, or the trace was edited; replaying it would not show what the check found", line, StringComparison.Ordinal);
    }

    /// <summary>A recorded knob that no protocol has is named as unknown: it was reported as a model that changed.</summary>
    [Fact]
    public void A_trace_with_a_knob_vexlab_does_not_have_is_refused_as_such()
    {
        var file = Path.Combine(_dir, "t.json");
        Assert.Equal(1, CliRunner.Run("check", "--builtin", "nmi-window", "--protocol", "kvm-pf", "--property", "fault-info-intact", "--trace", file).ExitCode);
        var doc = JsonNode.Parse(File.ReadAllText(file))!.AsObject();
        doc["knobs"]!["foo.bar"] = "1";
        File.WriteAllText(file, doc.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));

        var replay = CliRunner.Run("replay", file);
        Assert.Equal(2, replay.ExitCode);
        var line = Assert.Single(replay.Stderr.Trim().Split('\n'));
        Assert.StartsWith("vexlab: " + file + ":", line, StringComparison.Ordinal);
        Assert.EndsWith("knobs.foo.bar: the trace was found with 1, and vexlab has no such knob: the trace was edited, or written by a vexlab that had it; replaying it would not show what the check found", line, StringComparison.Ordinal);
    }

    // A --set of the replay changes the model on purpose, after the comparison: the trace's own fields still hold.
    [Fact]
    public void A_set_of_the_replay_is_not_a_difference()
    {
        var file = Path.Combine(_dir, "t.json");
        Assert.Equal(1, CliRunner.Run("check", "--builtin", "nmi-window", "--protocol", "kvm-pf", "--property", "fault-info-intact", "--trace", file).ExitCode);
        var replay = CliRunner.Run("replay", file, "--set", "guest.apf.dummy_entries=false");
        Assert.NotEqual(2, replay.ExitCode);
    }
}
