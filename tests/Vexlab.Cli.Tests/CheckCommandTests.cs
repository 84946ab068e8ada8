using System.Text.Json;

namespace Vexlab.Cli.Tests;

public sealed class CheckCommandTests
{
    [Fact]
    public void Violation_ExitsOneWithJsonTraceAndReplay()
    {
        var r = CliRunner.Run("check", "--builtin", "nmi-window", "--protocol", "kvm-pf", "--property", "fault-info-intact", "--json");
        Assert.Equal(1, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        var root = doc.RootElement;
        Assert.Equal("nmi-window", root.GetProperty("model").GetString());
        Assert.Equal("kvm-pf", root.GetProperty("protocol").GetString());
        Assert.Equal("violation", root.GetProperty("verdict").GetString());
        foreach (var field in new[] { "knobs", "bounds", "states", "transitions", "depth", "bytes_per_state", "frontier_peak_bytes", "collision_probability", "timing" })
        {
            Assert.True(root.TryGetProperty(field, out _), field);
        }

        var v = root.GetProperty("violations")[0];
        Assert.Equal("fault-info-intact", v.GetProperty("property").GetString());
        Assert.Equal("safety", v.GetProperty("kind").GetString());
        Assert.True(v.GetProperty("trace").GetArrayLength() > 0);
        Assert.Equal("vexlab check --builtin nmi-window --protocol kvm-pf --property fault-info-intact", v.GetProperty("replay").GetString());
    }

    [Fact]
    public void Pass_ExitsZero()
    {
        var r = CliRunner.Run("check", "--builtin", "irq-off", "--protocol", "sync");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("verdict: pass", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Limit_ExitsThree()
    {
        var r = CliRunner.Run("check", "--builtin", "wake-race", "--protocol", "kvm-pf-int", "--max-states", "100");
        Assert.Equal(3, r.ExitCode);
    }

    [Theory]
    [InlineData("check", "--builtin", "nope", "--protocol", "sync")]
    [InlineData("check", "--builtin", "irq-off", "--protocol", "nope")]
    [InlineData("check", "--builtin", "irq-off", "--protocol", "sync", "--property", "nope")]
    [InlineData("check", "--builtin", "irq-off", "--protocol", "sync", "--max-memory", "10")]
    [InlineData("check", "--builtin", "irq-off", "--protocol", "sync", "--set", "no.such.knob=1")]
    [InlineData("models", "show", "nope")]
    public void BadInput_ExitsTwoWithOneLine(params string[] args)
    {
        var r = CliRunner.Run(args);
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void TraceFile_HoldsPackedActions()
    {
        var file = Path.Combine(Path.GetTempPath(), $"vexlab-trace-{Environment.ProcessId}.json");
        try
        {
            var r = CliRunner.Run("check", "--builtin", "entry-window", "--protocol", "ve", "--set", "guest.ve.register_never_convertible=false", "--property", "no-ve-in-entry-window", "--trace", file);
            Assert.Equal(1, r.ExitCode);
            using var doc = JsonDocument.Parse(File.ReadAllText(file));
            Assert.Equal("entry-window", doc.RootElement.GetProperty("model").GetString());
            Assert.True(doc.RootElement.GetProperty("actions").GetArrayLength() > 0);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void ModelsList_NamesEveryModel()
    {
        var r = CliRunner.Run("models", "list");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("wake-race", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("bench", r.Stdout, StringComparison.Ordinal);
    }
}
