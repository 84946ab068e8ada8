namespace Vexlab.Cli.Tests;

/// <summary>
/// Inputs a command used to accept and then not act on, found by trying every command as a new user would: each is
/// now either done or refused with the option named, and a command that writes nothing says so.
/// </summary>
public sealed class UnhonouredOptionTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vexlab-unhonoured-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    [Fact]
    public void Check_trace_without_a_counterexample_says_no_trace_was_written()
    {
        var trace = P("none.json");
        var result = CliRunner.Run("check", "--builtin", "wake-race", "--protocol", "ve", "--trace", trace);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains($"vexlab: no counterexample, so no trace written to {trace}\n", result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(trace));
    }

    // The swarm used to run its members to their bounds whatever --time-limit said.
    [Fact]
    public void Swarm_stops_at_the_time_limit()
    {
        // Depth bounds past the model's depth: each member would visit all 14 M states, seconds of work, so the limit
        // (and not the members' ends, about a second with the default bounds) ends the swarm however loaded the machine.
        var result = CliRunner.Run("check", "--builtin", "bench", "--protocol", "kvm-pf-int", "--swarm", "--members", "2", "--max-states", "100000000", "--max-depth", "100000", "--time-limit", "300ms", "--json");
        Assert.Equal(3, result.ExitCode);
        // The members running at the stop were cut short (both, or on a loaded machine the first alone while the second
        // had not started), and the replay line, which carries no time limit, reruns them to their ends.
        var stopped = result.Stderr.Split('\n')[1];
        Assert.True(
            stopped is "vexlab: check: stopped at --time-limit; the result below covers the members' work so far; cut short: members 0, 1"
                or "vexlab: check: stopped at --time-limit; the result below covers the members' work so far; 1 of its 2 members did not start; cut short: member 0",
            stopped);
        Assert.StartsWith("vexlab: check: where a stop falls depends on the machine, so the replay line reruns every member to its end", result.Stderr.Split('\n')[2], StringComparison.Ordinal);
        using var doc = System.Text.Json.JsonDocument.Parse(result.Stdout);
        Assert.False(doc.RootElement.GetProperty("complete").GetBoolean());
    }

    // compare applies --set to every entry whose protocol reads the knob; the others' replay lines must not carry it,
    // since run refuses a knob its protocol does not use.
    [Fact]
    public void Compare_replay_lines_carry_only_their_protocols_knobs()
    {
        var result = CliRunner.Run("compare", "--builtin", "postcopy", "--duration", "5ms", "--protocols", "ve,kvm-pf", "--set", "host.apf.token_never_zero=false");
        Assert.Equal(0, result.ExitCode);
        var lines = result.Stderr.Split('\n');
        var ve = Assert.Single(lines, l => l.StartsWith("vexlab: ve: ", StringComparison.Ordinal));
        var pf = Assert.Single(lines, l => l.StartsWith("vexlab: kvm-pf: ", StringComparison.Ordinal));
        Assert.DoesNotContain("token_never_zero", ve, StringComparison.Ordinal);
        Assert.Contains("--set host.apf.token_never_zero=false", pf, StringComparison.Ordinal);
        var replay = ve[(ve.IndexOf("replay: vexlab ", StringComparison.Ordinal) + "replay: vexlab ".Length)..].Split(' ');
        Assert.Equal(0, CliRunner.Run(replay).ExitCode);
    }

    [Fact]
    public void Plot_and_report_of_a_json_refuse_by()
    {
        var json = P("c.json");
        Assert.Equal(0, CliRunner.Run("compare", "--builtin", "postcopy", "--duration", "5ms", "--protocols", "ve,sync", "--json", json).ExitCode);
        const string refusal = "vexlab: --by: groups a sweep store's rows; a run or compare JSON has one entry per protocol entry already\n";
        Assert.Equal(refusal, CliRunner.Run("plot", json, "--kind", "cdf", "--by", "seed", "--out", P("p.png")).Stderr);
        Assert.Equal(refusal, CliRunner.Run("report", json, "--by", "seed", "--out", P("r.html")).Stderr);
        Assert.False(File.Exists(P("p.png")) || File.Exists(P("r.html")));
        Assert.Equal(0, CliRunner.Run("plot", json, "--kind", "cdf", "--out", P("p.png")).ExitCode);
    }
}
