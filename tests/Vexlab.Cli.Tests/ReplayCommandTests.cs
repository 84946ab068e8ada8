using System.Text.Json;
using System.Text.Json.Nodes;

namespace Vexlab.Cli.Tests;

/// <summary><c>vexlab replay</c>: a checker counterexample re-executed in the simulator.</summary>
public sealed class ReplayCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vexlab-replay-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string WriteCounterexample()
    {
        var trace = Path.Combine(_dir, "cex.json");
        var check = CliRunner.Run("check", "--builtin", "nmi-host-fault", "--protocol", "ve", "--trace", trace);
        Assert.Equal(1, check.ExitCode);
        return trace;
    }

    // report and plot take run, compare or sweep results; given a counterexample, they say what it is and what reads it.
    [Theory]
    [InlineData("report")]
    [InlineData("plot")]
    public void A_counterexample_given_to_report_or_plot_is_named_as_one(string command)
    {
        var trace = WriteCounterexample();
        var output = Path.Combine(_dir, command == "report" ? "r.html" : "p.png");
        var result = command == "report"
            ? CliRunner.Run("report", trace, "--out", output)
            : CliRunner.Run("plot", trace, "--kind", "cdf", "--out", output);
        Assert.Equal(2, result.ExitCode);
        Assert.EndsWith("; this is a checker counterexample (check --trace), which vexlab replay FILE --out TIMELINE turns into a timeline\n", result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(output));
    }

    // The checker's own result (check --json) is the other file at hand: report, plot and replay each say what it is.
    [Theory]
    [InlineData("report", "; this is a checker result (check --json), which holds no simulated runs; its counterexamples, written with check --trace FILE, replay as timelines\n")]
    [InlineData("plot", "; this is a checker result (check --json), which holds no simulated runs; its counterexamples, written with check --trace FILE, replay as timelines\n")]
    [InlineData("replay", ":1:1: this is the result of vexlab check --json, not a counterexample; check --trace FILE writes the first counterexample for replay\n")]
    public void A_check_result_given_to_report_plot_or_replay_is_named_as_one(string command, string ending)
    {
        var result = Path.Combine(_dir, "check.json");
        Assert.Equal(1, CliRunner.Run("check", "--builtin", "nmi-host-fault", "--protocol", "ve", "--json", result).ExitCode);
        var output = Path.Combine(_dir, command == "report" ? "r.html" : "p.png");
        var run = command switch
        {
            "report" => CliRunner.Run("report", result, "--out", output),
            "plot" => CliRunner.Run("plot", result, "--kind", "cdf", "--out", output),
            _ => CliRunner.Run("replay", result),
        };
        Assert.Equal(2, run.ExitCode);
        Assert.EndsWith(ending, run.Stderr, StringComparison.Ordinal);
        Assert.Single(run.Stderr.TrimEnd('\n').Split('\n'));
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void Replay_ReproducesTheViolationAndWritesAValidPerfettoTrace()
    {
        var trace = WriteCounterexample();
        var timeline = Path.Combine(_dir, "t.json");
        var result = CliRunner.Run("replay", trace, "--out", timeline, "--json");
        Assert.Equal(0, result.ExitCode);
        using var doc = JsonDocument.Parse(result.Stdout);
        Assert.Equal(doc.RootElement.GetProperty("steps").GetInt32(), doc.RootElement.GetProperty("applied").GetInt32());
        Assert.Equal("fault-info-intact", doc.RootElement.GetProperty("violations")[0].GetProperty("property").GetString());
        using var perfetto = JsonDocument.Parse(File.ReadAllText(timeline));
        var events = perfetto.RootElement.GetProperty("traceEvents").EnumerateArray().ToList();
        Assert.True(events.Count > 0);

        // The violating step is marked: a global instant (drawn across every track) at the time it happened.
        var marks = events.Where(e => e.GetProperty("ph").GetString() == "i" && e.GetProperty("s").GetString() == "g").ToList();
        var mark = Assert.Single(marks);
        Assert.Equal($"violated: fault-info-intact (step {doc.RootElement.GetProperty("steps").GetInt32()})", mark.GetProperty("name").GetString());
        var markNs = (long)(mark.GetProperty("ts").GetDecimal() * 1000m);
        Assert.InRange(markNs, 1, doc.RootElement.GetProperty("simulated_ns").GetInt64());
    }

    [Fact]
    public void Replay_FtraceUsesKvmTracepointNames()
    {
        var trace = WriteCounterexample();
        var timeline = Path.Combine(_dir, "t.txt");
        Assert.Equal(0, CliRunner.Run("replay", trace, "--out", timeline, "--trace-format", "ftrace").ExitCode);
        var text = File.ReadAllText(timeline);
        Assert.Contains("kvm_exit:             vcpu 0 reason VMCALL", text);
        Assert.Contains("ve_delivered", text);
    }

    /// <summary>
    /// Under the 5.7 host a completion waits for the vCPU's next exit of any reason: truncate's token-collision trace
    /// under kvm-pf takes a host interrupt (HostExit, bounds.host_exits) at a guest instruction with IF=1. The replay
    /// applies it in the simulator, shows its EXTERNAL_INTERRUPT exit, and confirms the trace on the checker's machine.
    /// </summary>
    [Fact]
    public void Replay_TakesAHostExitStep_AndConfirmsTheTrace()
    {
        var trace = Path.Combine(_dir, "hostexit.json");
        var check = CliRunner.Run("check", "--builtin", "truncate", "--protocol", "kvm-pf", "--property", "one-node-per-token", "--trace", trace);
        Assert.Equal(1, check.ExitCode);
        Assert.Contains("host: interrupt on vCPU0's pCPU (external-interrupt exit), then kvm_check_async_pf_completion", check.Stdout, StringComparison.Ordinal);
        var node = JsonNode.Parse(File.ReadAllText(trace))!.AsObject();
        Assert.Equal(2, node["bounds"]!["host_exits"]!.GetValue<int>());
        var kinds = node["actions"]!.AsArray().Select(a => Vexlab.Model.Machine.MachineAction.Unpack(a!.GetValue<uint>()).Kind).ToList();
        Assert.Contains(Vexlab.Model.Machine.ActionKind.HostExit, kinds);

        var timeline = Path.Combine(_dir, "hostexit.txt");
        var result = CliRunner.Run("replay", trace, "--json", "--out", timeline, "--trace-format", "ftrace");
        Assert.Equal(0, result.ExitCode);
        using var doc = JsonDocument.Parse(result.Stdout);
        Assert.Equal(kinds.Count, doc.RootElement.GetProperty("applied").GetInt32());
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("diverged").ValueKind);
        Assert.True(doc.RootElement.GetProperty("confirmed").GetBoolean());
        Assert.Contains("reason EXTERNAL_INTERRUPT", File.ReadAllText(timeline), StringComparison.Ordinal);
    }

    [Fact]
    public void Replay_SaysWhereATraceDiverges()
    {
        var trace = WriteCounterexample();
        var node = JsonNode.Parse(File.ReadAllText(trace))!.AsObject();
        var actions = node["actions"]!.AsArray();

        // A host completion of a work slot that is never in flight at that point.
        actions[0] = (uint)((3u << 24) | 9);
        File.WriteAllText(trace, node.ToJsonString());
        var result = CliRunner.Run("replay", trace);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("diverged at step 1", result.Stdout);

        // The step was edited, not the model: the line says only that the step is not possible, blaming neither.
        Assert.Contains(" is not enabled (the trace's step is not possible in this model)\n", result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("model differs", result.Stdout, StringComparison.Ordinal);
    }

    // A knob given to replay changes the model; the divergence says so (it said "the model differs from the one that
    // wrote the trace", as for an edited trace).
    [Fact]
    public void Replay_with_a_knob_that_changes_the_steps_blames_the_set()
    {
        var trace = Path.Combine(_dir, "ve.json");
        Assert.Equal(1, CliRunner.Run("check", "--builtin", "nmi-host-fault", "--protocol", "ve", "--trace", trace).ExitCode);
        var result = CliRunner.Run("replay", trace, "--set", "guest.ve.clear_busy=after-hypercall", "--json", Path.Combine(_dir, "r.json"));
        Assert.Equal(1, result.ExitCode);
        Assert.Contains(" is not enabled (the --set changed the model the trace was written for)\n", result.Stdout, StringComparison.Ordinal);
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(_dir, "r.json")))!;
        Assert.EndsWith("(the --set changed the model the trace was written for)", (string)json["diverged"]!, StringComparison.Ordinal);
    }

    /// <summary>A trace of a later form than this vexlab reads was replayed as if it were this one's.</summary>
    [Theory]
    [InlineData("99", false)]
    [InlineData("0", false)]
    [InlineData("\"1\"", false)]
    [InlineData("1", true)]
    public void Replay_reads_the_trace_form_it_knows_and_refuses_others(string version, bool replays)
    {
        var trace = WriteCounterexample();
        var text = File.ReadAllText(trace);
        Assert.Contains("\"schema_version\": 1,", text, StringComparison.Ordinal);
        File.WriteAllText(trace, text.Replace("\"schema_version\": 1,", $"\"schema_version\": {version},", StringComparison.Ordinal));
        var result = CliRunner.Run("replay", trace);
        if (replays)
        {
            Assert.Equal(0, result.ExitCode);
            return;
        }

        Assert.Equal(2, result.ExitCode);
        Assert.Matches(":2:21: schema_version: (the trace is of form -?[0-9]+, and this vexlab reads form 1; replay it with the vexlab that wrote it \\(its vexlab_version\\)|expected a whole number from 0, got a string)\n$", result.Stderr);
    }

    [Theory]
    [InlineData("{\"model\":\"nope\",\"protocol\":\"ve\",\"actions\":[]}")]
    [InlineData("not json")]
    [InlineData("{\"protocol\":\"ve\",\"actions\":[]}")]
    public void Replay_BadFile_ExitsTwo(string content)
    {
        var trace = Path.Combine(_dir, "bad.json");
        File.WriteAllText(trace, content);
        var result = CliRunner.Run("replay", trace);
        Assert.Equal(2, result.ExitCode);
        Assert.Single(result.Stderr.TrimEnd('\n').Split('\n'));
    }
}

public sealed class ComparePlotTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vexlab-plot-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void ComparePlot_WritesAPng()
    {
        var png = Path.Combine(_dir, "c.png");
        var result = CliRunner.Run("compare", "--builtin", "kernel-heavy", "--protocols", "kvm-pf-int,ve", "--duration", "20ms", "--plot", png);
        Assert.Equal(0, result.ExitCode);
        var bytes = File.ReadAllBytes(png);
        Assert.True(bytes.Length > 1000);
        Assert.Equal(0x89, bytes[0]);

        // It says what it wrote, as plot does: after the table, or on standard error when JSON takes stdout.
        Assert.EndsWith($"┘\nwrote {png}\n", result.Stdout, StringComparison.Ordinal);
        var json = CliRunner.Run("compare", "--builtin", "kernel-heavy", "--protocols", "ve", "--duration", "5ms", "--plot", png, "--json");
        Assert.Equal(0, json.ExitCode);
        Assert.EndsWith($"\nwrote {png}\n", json.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("wrote", json.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void PlotOfCompareJson_StackedAndCdf_StackedRefusesX()
    {
        var json = Path.Combine(_dir, "c.json");
        Assert.Equal(0, CliRunner.Run("compare", "--builtin", "kernel-heavy", "--protocols", "kvm-pf-int,ve", "--duration", "20ms", "--json", json).ExitCode);
        foreach (var kind in new[] { "stacked", "cdf" })
        {
            var png = Path.Combine(_dir, kind + ".png");
            var result = CliRunner.Run("plot", json, "--kind", kind, "--out", png);
            Assert.Equal(0, result.ExitCode);
            Assert.Equal($"wrote {png}\n", result.Stdout);
            Assert.Equal(0x89, File.ReadAllBytes(png)[0]);
        }

        var refused = CliRunner.Run("plot", json, "--kind", "stacked", "--x", "latency", "--out", Path.Combine(_dir, "x.png"));
        Assert.Equal(2, refused.ExitCode);
        Assert.Equal("vexlab: --x: --kind stacked draws one bar of the vCPU time split per --by value; it takes no --x (a run or compare JSON is drawn whole: leave it out)\n", refused.Stderr);
        Assert.False(File.Exists(Path.Combine(_dir, "x.png")));
        var size = CliRunner.Run("plot", json, "--kind", "cdf", "--size", "big", "--out", Path.Combine(_dir, "s.png"));
        Assert.Equal(2, size.ExitCode);
        Assert.Equal("vexlab: --size: expected WIDTHxHEIGHT in pixels, such as 900x560, got \"big\"\n", size.Stderr);
        var tiny = CliRunner.Run("plot", json, "--kind", "cdf", "--size", "10x10", "--out", Path.Combine(_dir, "s.png"));
        Assert.Equal(2, tiny.ExitCode);
        Assert.Equal("vexlab: --size: expected a width of 300..8000 and a height of 200..8000 pixels, got 10x10\n", tiny.Stderr);
        Assert.False(File.Exists(Path.Combine(_dir, "s.png")));
    }

    [Fact]
    public void ComparePlot_BadExtension_ExitsTwo()
    {
        var gif = Path.Combine(_dir, "c.gif");
        var result = CliRunner.Run("compare", "--builtin", "kernel-heavy", "--protocols", "ve", "--duration", "5ms", "--plot", gif);
        Assert.Equal(2, result.ExitCode);

        // The option at fault is compare's own --plot, not plot's --out.
        Assert.Equal($"vexlab: --plot: expected a .png or .svg file, got \"{gif}\"\n", result.Stderr);
    }
}
